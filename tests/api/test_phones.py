"""Caller-number normalisation: many spellings of one caller, and unknown callers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.phones import CallerNumber, NumberKind, normalise_phone

ONE_RUSSIAN_CALLER = [
    "8 (912) 345-67-89",
    "+7 912 345 67 89",
    "79123456789",
    "89123456789",
    "9123456789",
    "+7(912)345-67-89",
    "8-912-345-67-89",
    "  +7 912 345-6789  ",
    "0079123456789",
    "tel:+79123456789",
    "sip:+79123456789@pbx.example.ru;user=phone",
    "sip:89123456789@10.0.0.5",
    "+7 912 345 67 89 ext. 12",
]


@pytest.mark.parametrize("raw", ["+7 912 ABC 67 89", "8 800 TAXI 123", "+7 912 345 67 8O", "sip:taxi@pbx"])
def test_letters_in_a_number_are_refused_not_read_as_keypad_digits(raw: str) -> None:
    """A letter is a typo, not a vanity digit: reading it would reach someone else's number."""
    number = normalise_phone(raw, "RU")
    assert number.kind is NumberKind.INVALID and number.problem == "letters in a phone number"


@pytest.mark.parametrize("raw", ONE_RUSSIAN_CALLER)
def test_russian_spellings_are_one_caller(raw: str) -> None:
    """Every common Russian spelling of one mobile number normalises to the same E.164."""
    number = normalise_phone(raw, "RU")
    assert number == CallerNumber(raw=raw, kind=NumberKind.KNOWN, e164="+79123456789")
    assert number.known


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+44 20 7946 0958", "RU", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "GB", "+14155552671"),
        ("8 800 555-35-35", "RU", "+78005553535"),
        ("8 (495) 123-45-67", "RU", "+74951234567"),
    ],
)
def test_international_and_other_regions(raw: str, region: str, e164: str) -> None:
    """International numbers are read whatever the region; national ones with the region given."""
    assert normalise_phone(raw, region).e164 == e164


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "anonymous",
        "Anonymous",
        "UNKNOWN",
        "private",
        "Restricted",
        "withheld",
        "<unknown>",
        "+266696687",
        "+7378742833",
        "sip:anonymous@anonymous.invalid",
        "0",
        "+",
    ],
)
def test_withheld_numbers_are_unknown_callers(raw: str | None) -> None:
    """Withheld caller ids give an explicit withheld result with no number, never an error."""
    number = normalise_phone(raw, "RU")
    assert number.kind is NumberKind.WITHHELD
    assert number.e164 is None and not number.known


@pytest.mark.parametrize(
    "raw", ["12", "abc", "+7 912", "8 (000) 000-00-00", "89123456789123456789", "+999 123 456", "☎"]
)
def test_invalid_numbers_are_unknown_callers_with_a_problem(raw: str) -> None:
    """Garbage in the caller-id field is an unknown caller with a readable problem, not an error."""
    number = normalise_phone(raw, "RU")
    assert number.kind is NumberKind.INVALID
    assert number.e164 is None and number.problem
    assert not number.problem.startswith("(")


def test_raw_is_kept_but_capped() -> None:
    """The raw string is kept for the record, cut to a size the database column holds."""
    number = normalise_phone("9" * 500, "RU")
    assert len(number.raw) == 64 and number.kind is NumberKind.INVALID


@given(st.text(max_size=80))
def test_never_raises_and_known_means_valid_e164(raw: str) -> None:
    """Any text at all gives a result; a known result is a valid number already in E.164."""
    number = normalise_phone(raw, "RU")
    assert number.known == (number.kind is NumberKind.KNOWN)
    if number.e164 is not None:
        parsed = phonenumbers.parse(number.e164, None)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number.e164


@given(st.from_regex(r"9[0-9]{9}", fullmatch=True))
def test_mobile_formats_agree(subscriber: str) -> None:
    """For any Russian mobile number, the national, 7-prefixed and +7 forms agree."""
    forms = ["8" + subscriber, "7" + subscriber, "+7 " + subscriber, subscriber]
    results = {normalise_phone(form, "RU").e164 for form in forms}
    assert len(results) == 1
