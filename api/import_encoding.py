"""The text of an order export, whatever a spreadsheet saved it in.

UTF-8 (with or without a BOM) is read as is, UTF-16 with a BOM is Excel's
"Unicode text"; anything else is one of the legacy code pages spreadsheets save
CSV in (Russian Excel writes cp1251), and the caller is told which was used.

The code page is chosen here, not by a general detector: on the one-row files
a firm tries first, `charset-normalizer` gave answers that changed with its
version (3.4.7 read a KOI8-R row as cp1251, 3.5.3 read a cp1251 row as cp1250),
so the same file imported differently on two machines. Every candidate that
decodes is judged by how a human would see it: words whose letters mix
scripts or have a case shape no language writes ("мЕНИНА" is KOI8-R read as
cp1251), and symbols inside words ("£ódŸ" is cp1250 read as cp1252), and Latin words made
only of accented letters ("Ëåíèíà" is cp1251 read as cp1252). The least
odd reading wins; a tie goes to the code page the firm's region saves in
(a Turkish "İstanbul" read as cp1252 is "Ýstanbul", which no word shape
gives away), then to the more common one, in list order.
"""

from __future__ import annotations

import re
import unicodedata

UTF8_HINT = (
    "not UTF-8, and no other encoding fits: re-save it as UTF-8 "
    "(Excel: Save As > 'CSV UTF-8'; LibreOffice: Character set 'Unicode (UTF-8)')"
)

# What spreadsheets save a CSV in when not UTF-8, most common first: the
# Windows or DOS code page of the locale.
LEGACY_ENCODINGS = (
    "cp1251",
    "koi8_r",
    "cp866",
    "mac_cyrillic",
    "iso8859_5",
    "cp1252",
    "cp1250",
    "cp1254",
    "cp1257",
)
# The Windows code page of a region's locale, where it is not cp1251 or cp1252.
REGION_CODE_PAGES = {
    **dict.fromkeys(("TR", "AZ"), "cp1254"),
    **dict.fromkeys(("PL", "CZ", "SK", "HU", "SI", "HR", "RO", "AL"), "cp1250"),
    **dict.fromkeys(("LT", "LV", "EE"), "cp1257"),
    **dict.fromkeys(("DE", "FR", "ES", "IT", "NL", "PT", "GB", "US", "IE", "AT", "CH", "BE"), "cp1252"),
}
# A "word" is a run of anything but separators a CSV row uses, so a stray
# symbol inside a word counts against the reading that put it there.
_WORD = re.compile(r"[^\s,;\"'()\[\]./:0-9-]+")


def decode_export(data: bytes, region: str = "") -> tuple[str, str]:
    """The file's text and the encoding it was read as; UnicodeDecodeError when nothing fits.

    `region` is the firm's ISO country code (the importer's phone region)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text"
        return data.decode("utf-16"), "utf_16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        readings = [
            (oddness(text), rank, text, name) for rank, (name, text) in enumerate(_decodings(data, region))
        ]
        if not readings:
            raise UnicodeDecodeError("utf-8", data, error.start, error.end, UTF8_HINT) from None
        _, _, text, name = min(readings)
        return text, name


def _decodings(data: bytes, region: str) -> list[tuple[str, str]]:
    """Every legacy code page that reads the bytes without a control character, the region's first."""
    preferred = REGION_CODE_PAGES.get(region.upper())
    found = []
    for name in sorted(LEGACY_ENCODINGS, key=lambda name: name != preferred):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        if not any(unicodedata.category(char) == "Cc" and char not in "\r\n\t" for char in text):
            found.append((name, text))
    return found


def oddness(text: str) -> int:
    """How many words of the text no one would have typed."""
    return sum(1 for word in _WORD.findall(text) if _odd_word(word))


def _odd_word(word: str) -> bool:
    if not all(char.isalpha() for char in word):
        return True  # a symbol or box-drawing character inside a word
    scripts = {unicodedata.name(char, "?").split(" ")[0] for char in word}
    if len(scripts) > 1:
        return True
    if scripts == {"LATIN"} and len(word) >= 3 and not any(char.isascii() for char in word):
        return True  # "Ëåíèíà" is Cyrillic read as cp1252: no Latin word is all diacritics
    return not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower()))
