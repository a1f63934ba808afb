"""Bundled scenarios (TOML files read through importlib.resources)."""
