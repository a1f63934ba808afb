"""Scenarios: everything one simulation run depends on, loaded from TOML.

An analyst edits a TOML file, not Python, so every mistake must come back as
one line naming the file, the key and what is wrong (`city.toml: fleet.cars:
must be > 0`). Human units in the file (minutes, hours, days, km/h); the
model converts once. Bundled scenarios ship inside the package and are found
through importlib.resources, so `load_scenario("city")` works after a plain
`pip install`. Where each default comes from: docs/simulator.md.
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatch.config import DEFAULT_BATCH_WINDOW_S, DispatchConfig, matching_fields
from dispatch.policy_params import POLICY_PARAM_FIELDS, PolicyParams
from dispatch.tariff import TARIFF_FIELDS, Tariff
from valuation.params import ValuationParams

_BUNDLE = "simulator.scenarios"

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class Zone(_Section):
    """A disc of demand: pickups and drop-offs fall uniformly inside it."""

    name: str
    lat: float = Field(ge=-85, le=85)
    lon: float = Field(ge=-180, le=180)
    radius_m: NonNegative
    weight: Positive


class City(_Section):
    south: float = Field(ge=-85, le=85)
    west: float = Field(ge=-180, le=180)
    north: float = Field(ge=-85, le=85)
    east: float = Field(ge=-180, le=180)
    zones: list[Zone] = Field(min_length=1)

    @model_validator(mode="after")
    def _zones_inside(self) -> City:
        if not (self.south < self.north and self.west < self.east):
            raise ValueError("bounding box needs south < north and west < east")
        for zone in self.zones:
            if not (self.south <= zone.lat <= self.north and self.west <= zone.lon <= self.east):
                raise ValueError(f"zone {zone.name!r} lies outside the bounding box")
        return self


class Shift(_Section):
    """A share of the fleet works from `start_h` for `hours` every day."""

    start_h: float = Field(ge=0, lt=24)
    hours: float = Field(gt=0, le=24)
    share: Positive


class Fleet(_Section):
    cars: int = Field(gt=0)
    shifts: list[Shift] = Field(default_factory=list)  # empty: every car works all day

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> Fleet:
        total = sum(shift.share for shift in self.shifts)
        if self.shifts and abs(total - 1.0) > 1e-9:
            raise ValueError(f"shift shares must sum to 1, got {total:g}")
        return self


class Distribution(_Section):
    """A duration in minutes. `inf` mean: never (e.g. infinite patience)."""

    kind: Literal["exponential", "lognormal", "constant", "empirical"]
    mean_min: NonNegative = 1.0  # 0 with exponential or constant: at once
    sigma: float = Field(default=0.5, gt=0)  # lognormal: sd of the log
    samples_min: list[NonNegative] = Field(default_factory=list)  # empirical: resampled

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        if self.kind == "empirical" and not self.samples_min:
            raise ValueError("an empirical distribution needs samples_min")
        if self.kind == "lognormal" and not 0 < self.mean_min < math.inf:
            raise ValueError("a lognormal needs a finite mean_min > 0")
        return self


class Demand(_Section):
    customers: int = Field(ge=0)
    history_weeks: NonNegative = 0.0  # synthetic past of completed trips before time 0
    trips_per_week_mean: Positive
    trips_per_week_shape: Positive = math.inf  # Gamma heterogeneity; inf: everyone alike
    regular_min_trips_per_week: Positive = 1.0  # segment boundary occasional / regular
    new_customers_per_day: NonNegative = 0.0
    # relative call rate by local hour: every day, or Monday..Friday when weekend_profile is set
    hourly_profile: list[NonNegative] = Field(default_factory=lambda: [1.0] * 24)
    # Saturday and Sunday, on the same scale as hourly_profile (2.0 there: twice its calls)
    weekend_profile: list[NonNegative] | None = None
    vip_share: Share = 0.0  # the firm's static VIP list: this share of the most frequent callers
    retry_probability: Share = 0.0
    retry_delay: Distribution = Distribution(kind="exponential", mean_min=5.0)

    @model_validator(mode="after")
    def _profile(self) -> Demand:
        for name in ("hourly_profile", "weekend_profile"):
            values = getattr(self, name)
            if values is not None and len(values) != 24:
                raise ValueError(f"{name} needs 24 values, got {len(values)}")
        if not any(self.week_profile()):
            raise ValueError("hourly_profile is all zero: nobody would ever call")
        return self

    def week_profile(self) -> list[float]:
        """The call rate's hourly weights over one period: 24 hours when every day is alike,
        else 168 from Monday 00:00 (simulated time 0 is a Monday, as the exported log's
        `EPOCH`). The one reading of the profile keys, for the simulator and the calibration."""
        return weekly_profile(self.hourly_profile, self.weekend_profile)


def weekly_profile(weekday: list[float], weekend: list[float] | None) -> list[float]:
    """Five weekdays then Saturday and Sunday, hour by hour; the day alone without a weekend."""
    return list(weekday) if weekend is None else [*weekday * 5, *weekend * 2]


class Trips(_Section):
    duration: Distribution
    fare_base: NonNegative = 0.0
    fare_per_km: NonNegative = 0.0  # by road, from pickup to drop-off
    fare_per_min: NonNegative = 0.0

    def tariff(self) -> Tariff:
        """The fare model as the live server's `KEEPCAB_FARE_*` settings build it (`TARIFF_FIELDS`)."""
        return Tariff(**{name: getattr(self, name) for name in TARIFF_FIELDS})


class Patience(_Section):
    """How long a caller waits for a car before giving up (cause ABANDONED)."""

    wait: Distribution
    short_eta_s: NonNegative = 0.0  # a quoted ETA at most this long ...
    short_eta_factor: float = Field(default=1.0, ge=1)  # ... stretches patience by this factor
    # Patience by who calls (valued callers are more patient: DOMAIN.md, call centres): each
    # caller's drawn patience times the factor of their segment, and times vip_factor for VIPs.
    new_factor: Positive = 1.0
    occasional_factor: Positive = 1.0
    regular_factor: Positive = 1.0
    vip_factor: Positive = 1.0

    def factor(self, segment: str, vip: bool) -> float:
        """How much longer than the drawn patience this caller waits."""
        by_segment = {"new": self.new_factor, "occasional": self.occasional_factor,
                      "regular": self.regular_factor}
        return by_segment[segment] * (self.vip_factor if vip else 1.0)


class Churn(_Section):
    """Departures for good: a base hazard plus a decaying rise after each failure.

    `prior_trips_halving`: a failure's rise is divided by 1 + (completed trips
    before it) / this, so a customer with that many trips behind them is pushed
    half as hard (Knox & van Oest 2014: prior purchases soften the effect
    durably). `inf`, the default, switches the softening off.
    """

    base_departures_per_year: NonNegative = 0.0
    rise_per_failure_per_week: NonNegative = 0.0
    memory_half_life_days: Positive = 14.0
    first_failure_leave_probability: Share = 0.0
    prior_trips_halving: Positive = math.inf


class Policies(_Section):
    """Which policies to compare and every policy setting (`dispatch.policy_params`)."""

    names: list[str] = Field(default_factory=lambda: ["reject", "fifo", "retention"])
    vip_head_start_s: NonNegative = 300.0
    value_per_s: Annotated[float, Field(gt=0)] | None = None  # absent: fitted at time 0
    reserve_k: int = Field(default=2, ge=0)
    reserve_min_value_at_risk: NonNegative = 1.0
    reserve_base: str = "retention"
    reserve_waits: bool = True
    heads_blend: Share = 1.0
    heads_scale_s: NonNegative | None = None  # absent: the head-start cap
    heads_value_per_s: Annotated[float, Field(gt=0)] | None = None  # absent: the valuation's c
    first_order_floor_s: NonNegative | None = None  # absent: the valuation's floor

    def params(self) -> PolicyParams:
        """The settings as the one policy builder takes them (same names as `KEEPCAB_*`)."""
        return PolicyParams(**self.model_dump(include=set(POLICY_PARAM_FIELDS)))


class Dispatch(_Section):
    pickup_radius_m: Positive = 5000.0
    speed_kmh: Positive = 30.0
    detour_factor: float = Field(default=1.3, ge=1)
    max_wait_min: Positive = 20.0  # inf: the dispatcher never gives up
    max_head_start_s: NonNegative = 300.0
    cell_m: Positive = 1000.0
    # "zone": any free car takes any order, longest idle first (no space: Erlang models);
    # "batch": orders and free cars collected for batch_window_s, then one assignment
    matching: Literal["nearest", "zone", "batch"] = "nearest"
    batch_window_s: float = Field(default=DEFAULT_BATCH_WINDOW_S, gt=0, allow_inf_nan=False)

    @classmethod
    def from_config(cls, config: DispatchConfig) -> Dispatch:
        """The section that builds `config` again: how a live server's rules become a scenario's."""
        return cls.model_validate({
            "pickup_radius_m": config.pickup_radius_m, "speed_kmh": config.speed_mps * 3.6,
            "detour_factor": config.detour_factor,
            "max_wait_min": math.inf if config.max_wait_s is None else config.max_wait_s / 60,
            "max_head_start_s": config.max_head_start_s, "cell_m": config.cell_m,
            "matching": config.matching, "batch_window_s": config.batch_window_s or DEFAULT_BATCH_WINDOW_S,
        })  # fmt: skip

    def config(self) -> DispatchConfig:
        speed_mps = self.speed_kmh / 3.6 if math.isfinite(self.speed_kmh) else 1e12
        return DispatchConfig(
            pickup_radius_m=self.pickup_radius_m, speed_mps=speed_mps,
            detour_factor=self.detour_factor,
            max_wait_s=None if math.isinf(self.max_wait_min) else self.max_wait_min * 60,
            max_head_start_s=self.max_head_start_s, cell_m=self.cell_m,
            **matching_fields(self.matching, self.batch_window_s))


class Scenario(_Section):
    name: str
    description: str = ""
    seed: int = Field(default=1, ge=0)
    horizon_days: Positive
    warmup_days: NonNegative = 0.0  # simulated but not measured: histories build up first
    scoring: Literal["valuation", "vip_classes"] = "valuation"
    currency: str = Field(default="EUR", min_length=1)  # what fares and revenue are counted in
    city: City
    fleet: Fleet
    demand: Demand
    trips: Trips
    patience: Patience
    churn: Churn = Churn()
    policies: Policies = Policies()
    dispatch: Dispatch = Dispatch()
    valuation: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valuation_params(self) -> Scenario:
        self.valuation_params()
        return self

    def valuation_params(self) -> ValuationParams:
        """The valuation model's parameters: its defaults overridden by `[valuation]`."""
        try:
            return ValuationParams(**{"max_head_start_s": self.dispatch.max_head_start_s,
                                      **self.valuation})
        except TypeError as error:
            raise ValueError(f"unknown valuation parameter: {error}") from None


class ScenarioError(ValueError):
    """A scenario that cannot be loaded; `problems` holds one line per mistake."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _explain(error: dict[str, Any]) -> str:
    """Pydantic's wording rewritten as the short rule an analyst would state."""
    ctx = error.get("ctx") or {}
    for kind, symbol in (("greater_than", ">"), ("greater_than_equal", ">="),
                         ("less_than", "<"), ("less_than_equal", "<=")):
        if error["type"] == kind:
            bound = next(iter(ctx.values()))
            shown = f"{bound:g}" if isinstance(bound, int | float) else bound
            return f"must be {symbol} {shown}"
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "extra_forbidden":
        return "unknown key"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(part)
    return ".".join(parts) or "(top level)"


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate TOML text; every problem is reported, each as `source: key: problem`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError([f"{source}: invalid TOML: {error}"]) from None
    return validate_scenario(raw, source)


def validate_scenario(raw: dict[str, Any], source: str = "<string>") -> Scenario:
    """A scenario from plain data (parsed TOML, or a scenario with keys overridden)."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as error:
        problems = [f"{source}: {_location(tuple(e['loc']))}: {_explain(dict(e))}"
                    for e in error.errors()]
        raise ScenarioError(problems) from None


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package."""
    return sorted(entry.name.removesuffix(".toml") for entry in resources.files(_BUNDLE).iterdir()
                  if entry.name.endswith(".toml"))


def read_scenario_text(name_or_path: str | Path) -> tuple[str, str]:
    """(TOML text, name for messages): a bundled name first, then a file path."""
    if isinstance(name_or_path, str) and name_or_path in bundled_scenarios():
        resource = resources.files(_BUNDLE) / f"{name_or_path}.toml"
        return resource.read_text(encoding="utf-8"), f"{name_or_path}.toml"
    path = Path(name_or_path)
    if not path.is_file():
        raise ScenarioError([f"{path}: no such scenario file, and not a bundled scenario "
                             f"(bundled: {', '.join(bundled_scenarios())})"])
    return path.read_text(encoding="utf-8"), path.name


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a bundled scenario by name (`city`) or any TOML file by path."""
    text, source = read_scenario_text(name_or_path)
    return parse_scenario(text, source)
