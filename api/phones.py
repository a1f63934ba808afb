"""Caller numbers as the phone system sends them -> one E.164 number, or "unknown caller".

The same regular calls from `8 (912) 345-67-89`, `+7 912 345 67 89` and
`79123456789` depending on the trunk, the PBX and the operator's typing; all
three must find the same customer. libphonenumber reads national formats with
the firm's default region (`KEEPCAB_PHONE_REGION`) and validates the result.

Withheld numbers are normal on a taxi line (and are how blacklisted callers
evade a blacklist), so they are an explicit result, never an exception: a
withheld or unreadable number is an unknown caller who still gets a car.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers

MAX_RAW_CHARS = 64

# What PBXs and carriers put in the caller-id field when there is no number.
# The `+2666…` family is Twilio's: ANONYMOUS, RESTRICTED, UNKNOWN, UNAVAILABLE spelt on a keypad.
WITHHELD_MARKERS = frozenset(
    {
        "",
        "anonymous",
        "unknown",
        "private",
        "restricted",
        "withheld",
        "unavailable",
        "blocked",
        "<unknown>",
        "unknown caller",
        "+266696687",
        "+7378742833",
        "+8656696",
        "+86282452253",
    }
)


# An extension after the number is the one place letters belong ("ext. 12", "доб. 12", "x12").
_EXTENSION = re.compile(r"(?i)[\s,;]*(ext\.?|extension|x|доб\.?)\s*\d{1,7}\s*$")


class NumberKind(StrEnum):
    KNOWN = "known"
    WITHHELD = "withheld"  # the caller or the network hid the number
    INVALID = "invalid"  # something arrived but it is not a dialable number


@dataclass(frozen=True, slots=True)
class CallerNumber:
    """A caller's number after normalisation; `e164` is None for an unknown caller."""

    raw: str
    kind: NumberKind
    e164: str | None = None
    problem: str | None = None

    @property
    def known(self) -> bool:
        return self.e164 is not None


def _strip_uri(raw: str) -> str:
    """`sip:+79123456789@pbx.example;user=phone` and `tel:+7…` carry a number inside."""
    text = raw.strip()
    lowered = text.lower()
    for scheme in ("sip:", "sips:", "tel:"):
        if lowered.startswith(scheme):
            text = text[len(scheme) :]
            break
    return text.split("@", 1)[0].split(";", 1)[0].strip()


@lru_cache(maxsize=16_384)
def normalise_phone(raw: str | None, region: str) -> CallerNumber:
    """Read `raw` as dialled in `region`; never raises.

    Cached: libphonenumber's parse and validation cost about 0.3 ms, the largest part of a
    ring's own work, and a firm's rings come mostly from the same regulars' numbers. The
    answer depends on nothing but the two arguments and is immutable."""
    original = "" if raw is None else str(raw)[:MAX_RAW_CHARS]
    text = _strip_uri(original)
    if text.casefold() in WITHHELD_MARKERS or text.strip("+0 ") == "":
        return CallerNumber(raw=original, kind=NumberKind.WITHHELD)
    if any(char.isalpha() for char in _EXTENSION.sub("", text)):
        # libphonenumber reads letters as keypad digits (vanity numbers): a typo would become
        # someone else's number, so a number with letters is refused.
        return CallerNumber(raw=original, kind=NumberKind.INVALID, problem="letters in a phone number")
    if text.startswith("00"):  # international prefix used in most of the world
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        reason = str(error).split(") ", 1)[-1].rstrip(".")  # drop libphonenumber's "(1) "
        return CallerNumber(raw=original, kind=NumberKind.INVALID, problem=reason)
    if not phonenumbers.is_valid_number(parsed):
        return CallerNumber(raw=original, kind=NumberKind.INVALID, problem=f"not a valid number in {region}")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return CallerNumber(raw=original, kind=NumberKind.KNOWN, e164=e164)
