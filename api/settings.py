"""Settings of the live shell, read from `KEEPCAB_*` environment variables (or `.env`).

Nothing here opens a connection: `Settings()` only reads the environment, and
engines and pools are created in the FastAPI lifespan or by a CLI command.

Defaults are the embedded set-up (one process, a SQLite file next to where the
server runs, in-process queue and event bus). `KEEPCAB_PHONE_REGION` defaults
to "RU" because our first firms are Russian: numbers dialled in national form
(`8 (912) 345-67-89`) are read as Russian. A firm elsewhere sets its own
ISO 3166 region code; numbers in international form (`+44 ...`) are read
correctly whatever the region.

The dispatch knobs carry the same names as the fields of
`dispatch.engine.DispatchConfig`, so `dispatch_config_kwargs()` is a plain
copy and the two cannot drift apart silently; the policy parameters likewise
carry the names of `dispatch.policy_params.PolicyParams` (and of a scenario's
`[policies]` keys), copied by `policy_params()`.
The matching mode
(`KEEPCAB_MATCHING`, `KEEPCAB_BATCH_WINDOW_S`) goes through
`dispatch.config.matching_fields`, the builder the scenario's `[dispatch]`
section uses too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

import phonenumbers
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.config import DEFAULT_BATCH_WINDOW_S, matching_fields
from dispatch.policy_params import POLICY_PARAM_FIELDS, PolicyParams
from dispatch.tariff import TARIFF_FIELDS, Tariff

_POLICY = PolicyParams()

# OpenStreetMap's own tile server (operations.osmfoundation.org/policies/tiles/: attribution
# required, heavy use needs a firm's own tile server or a provider, set in KEEPCAB_MAP_TILE_URL).
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

DISPATCH_CONFIG_FIELDS = (
    "pickup_radius_m",
    "speed_mps",
    "detour_factor",
    "max_wait_s",
    "prebook_lead_s",
    "max_head_start_s",
    "cell_m",
)


class Settings(BaseSettings):
    """Everything an operator of the live server may configure."""

    model_config = SettingsConfigDict(
        env_prefix="KEEPCAB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage and buses -------------------------------------------------------------
    database_url: str = "sqlite:///./keepcab.db"
    database_echo: bool = False
    redis_url: str | None = None  # None: in-process queue and event bus (embedded default)
    # --- scale-out (read only when redis_url is set; docs/scaleout.md) -----------------
    redis_prefix: str = Field(default="keepcab", min_length=1, max_length=64)
    city: str = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    replica_id: str | None = Field(default=None, max_length=100)  # None: host-pid-random
    lease_ttl_s: float = Field(default=3.0, ge=0.3, le=60.0)
    command_timeout_s: float = Field(default=10.0, gt=0, le=120.0)

    # --- phone system ------------------------------------------------------------------
    phone_region: str = "RU"
    call_log_retention_days: int = Field(default=90, ge=1)
    zadarma_secret: SecretStr | None = None  # signature key of Zadarma NOTIFY_* webhooks
    twilio_auth_token: SecretStr | None = None  # checks X-Twilio-Signature when set
    # A ringing card leaves the consoles after this long (dispatcher seconds) without any event of
    # its call: a PBX that never reports the end must not leave cards stacked up.
    ringing_card_idle_s: float = Field(default=180.0, gt=0)
    # Numbers added by another process (an import into a running server) reach the in-memory
    # caller index within this many seconds; the server's own orders reach it at once.
    caller_index_resync_s: float = Field(default=10.0, gt=0)
    # A ring waits at most this long for the index to read a change the writer just committed.
    caller_index_wait_s: float = Field(default=0.25, ge=0)

    # --- HTTP --------------------------------------------------------------------------
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    api_key_header: str = "X-API-Key"
    operator_session_ttl_s: float = Field(default=12 * 3600.0, gt=0)
    console_key_recheck_s: float = Field(default=5.0, gt=0, le=10.0)  # within the 10 s key cache
    login_free_failures: int = Field(default=5, ge=1)  # per username, then doubling lockouts
    login_free_failures_per_address: int = Field(default=20, ge=1)
    login_lockout_s: float = Field(default=30.0, gt=0)
    login_max_lockout_s: float = Field(default=900.0, gt=0)
    writer_stall_s: float = Field(default=5.0, gt=0)  # one command holding the writer this long: not ready
    duplicate_order_window_s: float = Field(default=30 * 60.0, ge=0)  # redial guard (Spare: 30 min)
    # A phone event stamped further than this from the server's clock is refused (422), not
    # stored: provider retries arrive within minutes, a PBX clock in the wrong zone is hours off.
    event_time_window_s: float = Field(default=900.0, gt=0)

    # --- service area (docs/api.md "Service area") --------------------------------------
    # Pickups and driver positions further than `service_radius_km` from the centre are
    # refused with a 422 naming the field; unset centre: no area check.
    service_centre_lat: float | None = Field(default=None, ge=-90, le=90)
    service_centre_lon: float | None = Field(default=None, ge=-180, le=180)
    service_radius_km: float = Field(default=100.0, gt=0)

    # --- addresses and the map (docs/console.md "Addresses" and "The map") ---------------
    # Where a typed address becomes a point: the firm's own address book (offline), or a
    # Nominatim or Photon server at `geocoder_url` (api.places.geocode.build_geocoder).
    geocoder: Literal["book", "nominatim", "photon"] = "book"
    geocoder_url: str | None = Field(default=None, max_length=500)
    geocoder_timeout_s: float = Field(default=3.0, gt=0, le=30)
    geocoder_language: str | None = Field(default=None, max_length=35)  # e.g. "ru", "pl"
    address_book_resync_s: float = Field(default=10.0, gt=0)  # rows other processes added
    # Leaflet's tile layer; empty or "none": no tiles, the console draws the town itself.
    map_tile_url: str | None = Field(default=OSM_TILES, max_length=500)
    map_tile_attribution: str = Field(default=OSM_ATTRIBUTION, max_length=300)

    # --- dispatch (names match dispatch.engine.DispatchConfig) -------------------------
    policy: str = "retention"
    pickup_radius_m: float = Field(default=5000.0, gt=0)
    speed_mps: float = Field(default=8.3, gt=0)  # ~30 km/h city average
    detour_factor: float = Field(default=1.3, ge=1.0)
    max_wait_s: float | None = Field(default=1200.0, gt=0)  # empty or "none": never give up
    prebook_lead_s: float = Field(default=900.0, ge=0)
    max_head_start_s: float = Field(default=300.0, ge=0)
    cell_m: float = Field(default=1000.0, gt=0)
    matching: Literal["nearest", "zone", "batch"] = "nearest"
    batch_window_s: float = Field(default=DEFAULT_BATCH_WINDOW_S, gt=0, allow_inf_nan=False)
    tick_interval_s: float = Field(default=1.0, gt=0)
    vip_customer_ids: list[str] = Field(default_factory=list)
    # --- tariff (names match dispatch.tariff.TARIFF_FIELDS and a scenario's [trips]) -----
    fare_base: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    fare_per_km: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    fare_per_min: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    currency: str = Field(default="EUR", min_length=1, max_length=8)  # what fares are quoted in

    # --- policy parameters (names match dispatch.policy_params.PolicyParams) ------------
    vip_head_start_s: float = Field(default=_POLICY.vip_head_start_s, ge=0)
    value_per_s: float | None = Field(default=_POLICY.value_per_s, gt=0)
    reserve_k: int = Field(default=_POLICY.reserve_k, ge=0)
    reserve_min_value_at_risk: float = Field(default=_POLICY.reserve_min_value_at_risk, ge=0)
    reserve_base: str = _POLICY.reserve_base
    reserve_waits: bool = _POLICY.reserve_waits
    heads_blend: float = Field(default=_POLICY.heads_blend, ge=0, le=1)
    heads_scale_s: float | None = Field(default=_POLICY.heads_scale_s, ge=0)
    heads_value_per_s: float | None = Field(default=_POLICY.heads_value_per_s, gt=0)
    first_order_floor_s: float | None = Field(default=_POLICY.first_order_floor_s, ge=0)
    valuation_params_path: str | None = None  # fitted valuation parameters (JSON)

    @field_validator(
        "max_wait_s",
        "redis_url",
        "valuation_params_path",
        "service_centre_lat",
        "service_centre_lon",
        "value_per_s",
        "heads_scale_s",
        "heads_value_per_s",
        "first_order_floor_s",
        "geocoder_url",
        "geocoder_language",
        "map_tile_url",
        mode="before",
    )
    @classmethod
    def _blank_means_none(cls, value: Any) -> Any:
        """Environment variables cannot be unset to None, so "" and "none" mean None."""
        if isinstance(value, str) and value.strip().lower() in {"", "none", "null"}:
            return None
        return value

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not an ISO 3166 region libphonenumber knows")
        return region

    @model_validator(mode="after")
    def _whole_centre(self) -> Settings:
        if (self.service_centre_lat is None) != (self.service_centre_lon is None):
            raise ValueError("set both KEEPCAB_SERVICE_CENTRE_LAT and KEEPCAB_SERVICE_CENTRE_LON, or neither")
        if self.geocoder != "book" and self.geocoder_url is None:
            raise ValueError(f"KEEPCAB_GEOCODER={self.geocoder} needs KEEPCAB_GEOCODER_URL")
        return self

    def dispatch_config_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `dispatch.engine.DispatchConfig`."""
        fields = {name: getattr(self, name) for name in DISPATCH_CONFIG_FIELDS}
        return {**fields, **matching_fields(self.matching, self.batch_window_s)}

    def tariff(self) -> Tariff:
        """The firm's fare model, built from the same fields as a scenario's `Trips.tariff`."""
        return Tariff(**{name: getattr(self, name) for name in TARIFF_FIELDS})

    def policy_params(self) -> PolicyParams:
        """The policy settings as the one policy builder takes them (a plain copy)."""
        return PolicyParams(**{name: getattr(self, name) for name in POLICY_PARAM_FIELDS})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use (a FastAPI dependency)."""
    return Settings()
