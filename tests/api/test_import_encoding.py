"""A legacy code page is chosen by the words it makes, the same on every machine."""

from __future__ import annotations

import pytest

from api.import_encoding import decode_export, oddness

ROWS = {
    "RU": "89123456789,2026-05-01,completed,1,Ленина 5,56.8,60.6\n",
    "PL": "48123456789,2026-05-01,completed,1,Łódź Piotrkowska 3,51.7,19.4\n",
    "TR": "905321234567,2026-05-01,completed,1,İstanbul Çarşı Sokağı 4,41.0,28.9\n",
    "LT": "37061234567,2026-05-01,completed,1,Šiaulių gatvė 4,55.9,23.3\n",
    "DE": "4915112345678,2026-05-01,completed,1,Müllerstraße 4,52.5,13.4\n",
}
CASES = [
    ("RU", "cp1251"),
    ("RU", "koi8_r"),
    ("RU", "cp866"),
    ("RU", "iso8859_5"),
    ("PL", "cp1250"),
    ("TR", "cp1254"),
    ("LT", "cp1257"),
    ("DE", "cp1252"),
]


@pytest.mark.parametrize(("region", "encoding"), CASES)
def test_a_single_row_in_its_regions_code_page_reads_back_exactly(region: str, encoding: str) -> None:
    """One row, no header: the hardest case, and the first file a firm tries."""
    row = ROWS[region]
    text, used = decode_export(row.encode(encoding), region)
    assert (text, used) == (row, encoding)


@pytest.mark.parametrize(("region", "encoding"), [case for case in CASES if case[0] == "RU"])
def test_cyrillic_is_read_right_whatever_region_the_firm_set(region: str, encoding: str) -> None:
    """A Cyrillic file in a firm set up for another country is still told apart by its word shapes."""
    row = ROWS[region]
    assert decode_export(row.encode(encoding), "DE") == (row, encoding)


def test_a_word_in_a_case_no_language_writes_is_odd() -> None:
    """KOI8-R read as cp1251 swaps case letter by letter: "Ленина" becomes "мЕНИНА"."""
    assert oddness("Ленина 5, ЛЕНИНА, ленина") == 0
    assert oddness("мЕНИНА 5") == 1
    assert oddness("£ódŸ") == 1  # a currency sign inside a word
    assert oddness("Lенина") == 1  # two scripts in one word
    assert oddness("Ëåíèíà") == 1  # no Latin word is all diacritics
    assert oddness("Łódź à über") == 0


def test_utf8_and_excel_unicode_text_are_not_guessed() -> None:
    """A BOM or valid UTF-8 settles it: nothing is scored."""
    row = ROWS["RU"]
    assert decode_export(("\ufeff" + row).encode("utf-8")) == (row, "utf-8")
    assert decode_export(row.encode("utf-8")) == (row, "utf-8")
    assert decode_export(row.encode("utf-16")) == (row, "utf_16")
