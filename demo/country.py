"""One country per demo town: streets, names, the firm's line and callers' numbers that agree.

The live server reads national numbers with `KEEPCAB_PHONE_REGION`, so a demo
that mixed Kraków streets with Russian mobiles would show a town no firm has.
Each pack places the scenario's town (its demand zones, kept to scale in
metres) on a real city of that country, and numbers come from
libphonenumber's own example mobile number for the region with the
subscriber digits drawn at random, kept only when libphonenumber calls them
valid.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import phonenumbers

from dispatch.model import Position

M_PER_DEG = 111_320.0


@dataclass(frozen=True, slots=True)
class Country:
    region: str  # ISO 3166 code, as KEEPCAB_PHONE_REGION spells it
    city: str
    centre: Position
    line: str  # the firm's own number, the `to` of every call
    streets: tuple[str, ...]
    first_names: tuple[str, ...]
    airport: str  # the name of a real pickup well outside the town
    airport_at: Position


def _load() -> dict[str, Country]:
    path = Path(__file__).with_name("countries.toml")
    packs = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        region: Country(
            region, pack["city"], Position(*pack["centre"]), pack["line"],
            tuple(pack["streets"]), tuple(pack["first_names"]),
            pack["airport"]["name"], Position(*pack["airport"]["at"]),
        )
        for region, pack in packs.items()
    }


COUNTRIES = _load()


def country_for(region: str) -> Country:
    """The pack for `region`, or a ValueError that names the ones there are."""
    found = COUNTRIES.get(region.strip().upper())
    if found is None:
        raise ValueError(
            f"no demo town for KEEPCAB_PHONE_REGION={region!r}; choose one of {', '.join(sorted(COUNTRIES))}"
        )
    return found


def moved(position: Position, origin: Position, to: Position) -> Position:
    """`position` relative to `origin`, laid on `to` at the same distances in metres."""
    north_m = (position.lat - origin.lat) * M_PER_DEG
    east_m = (position.lon - origin.lon) * M_PER_DEG * math.cos(math.radians(origin.lat))
    east_deg = east_m / (M_PER_DEG * math.cos(math.radians(to.lat)))
    return Position(to.lat + north_m / M_PER_DEG, to.lon + east_deg)


def mobile_number(country: Country, rng: np.random.Generator) -> str:
    """A valid mobile number of the country, international or national as callers' phones send them."""
    example = phonenumbers.example_number_for_type(country.region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None, country.region
    national = str(example.national_number)
    keep = len(national) - 7  # the operator prefix stays; the subscriber digits are drawn
    while True:
        digits = national[:keep] + "".join(str(d) for d in rng.integers(0, 10, size=7))
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(number):
            style = phonenumbers.PhoneNumberFormat
            kind = style.NATIONAL if float(rng.random()) < 0.5 else style.INTERNATIONAL
            return phonenumbers.format_number(number, kind)
