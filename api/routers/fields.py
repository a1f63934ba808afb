"""The value types every request model uses for what comes from outside: text, coordinates, times.

Text: PostgreSQL refuses NUL (SQLite silently keeps it), a lone surrogate
cannot be encoded for any store, and no legitimate address, name, reason or id
contains control characters, so all three are bad input (a 422 naming the
field) on every backend, never a failed write. Tab and line breaks stay
allowed: operators paste multi-line addresses. The check runs in Python (the
schema's regex engine cannot express surrogates); the OpenAPI carries the same
rule as a `pattern`, so generated clients and fuzzers see the truth.

Numbers are strict: `true` is not 1.0 and `"55.7"` is not a coordinate, since
a driver moved to longitude 0 by a `false` gets orders from the Gulf of
Guinea. Times are ISO 8601 with a zone; a number is refused rather than read
as seconds or milliseconds (a guess either way), and a time whose UTC value
falls outside `EARLIEST`..`LATEST` is refused before it can overflow a
conversion or reach the store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic.json_schema import SkipJsonSchema

# The same rule as `forbidden_character`, for the OpenAPI (ECMA-262 / Python `re` syntax). Lone
# surrogates are left out of the class: valid UTF-8 JSON cannot carry them, and a class with
# them would mean every astral character to a UTF-16 regex engine.
_BAD_CLASS = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
# Classes spelled out, never `\s` or `\w`: those differ between engines (ECMA's `\w` is ASCII,
# its `\s` has U+FEFF, Python's has neither quirk), and a fuzzer validating with one engine
# then finds requests the server judged with another. Spaces are ECMA's `\s` set.
_SPACE_CLASS = r"\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_ASCII_PUNCTUATION = r"\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E"
TEXT_PATTERN = rf"^[^{_BAD_CLASS}]*$"
NON_BLANK_PATTERN = rf"^[^{_BAD_CLASS}]*[^{_SPACE_CLASS}{_BAD_CLASS}][^{_BAD_CLASS}]*$"
_SOMETHING = re.compile(f"[^{_SPACE_CLASS}{_BAD_CLASS}]")

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
MOMENT_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-"  # the years EARLIEST..LATEST allow
_NUMERIC = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


_FORBIDDEN = re.compile(f"[{_BAD_CLASS}\ud800-\udfff]")  # Unicode Cc less \t\n\r, and Cs


def _first_forbidden(value: str) -> str | None:
    found = _FORBIDDEN.search(value)
    return None if found is None else found.group()


def forbidden_character(value: str) -> str | None:
    """The first character of `value` no store may hold, shown as an escape, or None."""
    char = _first_forbidden(value)
    return None if char is None else ascii(char)


def _clean(value: str) -> str:
    char = _first_forbidden(value)
    if char is not None:
        kind = "lone surrogate" if "\ud800" <= char <= "\udfff" else "control character"
        raise ValueError(f"{kind} {char!a} is not allowed")
    return value


def is_blank(value: str) -> bool:
    """Only spaces (as NON_BLANK_PATTERN counts them), so the schema and the server agree."""
    return _SOMETHING.search(value) is None


def _non_blank(value: str) -> str:
    if is_blank(value):
        raise ValueError("must not be blank")
    return value


CleanStr = Annotated[str, AfterValidator(_clean), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
NonBlankStr = Annotated[
    str,
    AfterValidator(_clean),
    AfterValidator(_non_blank),
    Field(json_schema_extra={"pattern": NON_BLANK_PATTERN}),
]

# Text to look up (an address being typed): clean, with at least one character that is neither
# a space nor ASCII punctuation ("," alone is no address). The same pattern checks it and goes in
# the OpenAPI.
WORDY_PATTERN = rf"^[^{_BAD_CLASS}]*[^{_SPACE_CLASS}{_ASCII_PUNCTUATION}{_BAD_CLASS}][^{_BAD_CLASS}]*$"
WordyStr = Annotated[
    str, AfterValidator(_clean), Field(pattern=WORDY_PATTERN, json_schema_extra={"pattern": WORDY_PATTERN})
]

Latitude = Annotated[float, Field(strict=True, ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
StrictBool = Annotated[bool, Field(strict=True)]


def _present(value: Any) -> Any:
    if value is None:
        raise ValueError("leave the field out instead of sending null")
    return value


# Fields that are either a value or absent: `null` is refused, so the schema can say "number".
OmittableLatitude = Annotated[Latitude | SkipJsonSchema[None], BeforeValidator(_present)]
OmittableLongitude = Annotated[Longitude | SkipJsonSchema[None], BeforeValidator(_present)]


def _not_a_number(value: Any) -> Any:
    numeric = isinstance(value, int | float) or (
        isinstance(value, str) and _NUMERIC.fullmatch(value.strip()) is not None
    )
    if numeric:
        raise ValueError("a time is ISO 8601 with a zone (2026-05-22T12:13:20Z), not a number")
    return value


def in_range(moment: datetime) -> datetime:
    """`moment` in UTC, or ValueError when it is outside EARLIEST..LATEST (or not representable)."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"outside {EARLIEST.year}..{LATEST.year}") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError(f"outside {EARLIEST.year}..{LATEST.year}")
    return utc


Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_not_a_number),
    AfterValidator(in_range),
    Field(json_schema_extra={"pattern": MOMENT_PATTERN}),
]
