"""The live-app fixtures (see tests/api/app_fixtures.py) for the tests in this folder."""

from tests.api.app_fixtures import live  # noqa: F401
