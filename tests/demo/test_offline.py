"""`keepcab demo` is offline: its server asks no tile server and no geocoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from demo.cli import _environment
from demo.driver import DemoPlan
from simulator.scenario import load_scenario


def test_the_demo_server_draws_no_tiles_and_geocodes_from_its_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's environment, read as the live server reads it: no tile URL, the book geocoder,
    even when the shell that started the demo names a tile server."""
    monkeypatch.setenv("KEEPCAB_MAP_TILE_URL", "https://tiles.example/{z}/{x}/{y}.png")
    env = _environment(tmp_path, DemoPlan(), load_scenario("small-town"), "RU")
    for name, value in env.items():
        if name.startswith("KEEPCAB_"):
            monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.map_tile_url is None
    assert settings.geocoder == "book"
