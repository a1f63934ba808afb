"""Settings from KEEPCAB_* environment variables."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from api.settings import DISPATCH_CONFIG_FIELDS, Settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """With no environment: a SQLite file, no Redis, Russian numbers, 20-minute max wait."""
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None and settings.phone_region == "RU"
    assert settings.max_wait_s == 1200.0 and settings.max_head_start_s == 300.0


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """KEEPCAB_ variables override defaults; blank means None; regions are upper-cased."""
    monkeypatch.setenv("KEEPCAB_DATABASE_URL", "postgresql://postgres@db/keepcab")
    monkeypatch.setenv("KEEPCAB_REDIS_URL", "")
    monkeypatch.setenv("KEEPCAB_PHONE_REGION", "gb")
    monkeypatch.setenv("KEEPCAB_MAX_WAIT_S", "none")
    monkeypatch.setenv("KEEPCAB_PICKUP_RADIUS_M", "inf")
    monkeypatch.setenv("KEEPCAB_VIP_CUSTOMER_IDS", '["a", "b"]')
    settings = Settings()
    assert settings.database_url == "postgresql://postgres@db/keepcab"
    assert settings.redis_url is None and settings.phone_region == "GB"
    assert settings.max_wait_s is None and math.isinf(settings.pickup_radius_m)
    assert settings.vip_customer_ids == ["a", "b"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("PHONE_REGION", "XX"), ("MAX_BODY_BYTES", "10"), ("SPEED_MPS", "0"), ("CALL_LOG_RETENTION_DAYS", "0"),
     ("MATCHING", "hungarian"), ("BATCH_WINDOW_S", "0"), ("BATCH_WINDOW_S", "inf")],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """An impossible setting fails at start-up, naming the field."""
    monkeypatch.setenv(f"KEEPCAB_{name}", value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_dispatch_knobs_build_the_engine_config() -> None:
    """Every dispatch knob is a DispatchConfig field, so the config is a plain copy."""
    from dataclasses import fields

    engine = pytest.importorskip("dispatch.engine")
    config_fields = {spec.name for spec in fields(engine.DispatchConfig)}
    assert set(DISPATCH_CONFIG_FIELDS) <= config_fields
    config = engine.DispatchConfig(**Settings(max_wait_s=600.0).dispatch_config_kwargs())
    assert config.max_wait_s == 600.0


def test_the_matching_mode_reaches_the_engine_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """KEEPCAB_MATCHING=batch with a window builds a batch-mode DispatchConfig; the default is
    greedy nearest-car matching."""
    from dispatch.config import DispatchConfig

    assert DispatchConfig(**Settings().dispatch_config_kwargs()).matching == "nearest"
    monkeypatch.setenv("KEEPCAB_MATCHING", "batch")
    monkeypatch.setenv("KEEPCAB_BATCH_WINDOW_S", "3")
    config = DispatchConfig(**Settings().dispatch_config_kwargs())
    assert config.matching == "batch" and config.batch_window_s == 3.0 and config.spatial
