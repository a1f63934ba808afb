"""Shared fixtures: real services are found through KEEPCAB_TEST_* variables.

Locally a missing service skips its tests with a loud reason; with CI=true a
missing service is a failure, so a green CI always means the adapters ran.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, error: BaseException) -> NoReturn:
    """Skip (locally) or fail (in CI) a test whose backing service is unreachable."""
    message = f"{name} is not reachable: {error!r}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(f"!!! SKIPPED: {message} (set CI=true to make this a failure)")
