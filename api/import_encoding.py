"""The text of an order export, whatever a spreadsheet saved it in.

UTF-8 (with or without a BOM) is read as is, UTF-16 with a BOM is Excel's
"Unicode text"; anything else is detected by `charset-normalizer` among the
legacy code pages spreadsheets save CSV in, since Russian Excel writes cp1251
and the caller is told which encoding was used. Detection over all encodings
is not used: on a short Cyrillic file it answers Big5.
"""

from __future__ import annotations

from charset_normalizer import from_bytes

UTF8_HINT = (
    "not UTF-8, and no other encoding fits: re-save it as UTF-8 "
    "(Excel: Save As > 'CSV UTF-8'; LibreOffice: Character set 'Unicode (UTF-8)')"
)


# What spreadsheets save a CSV in when not UTF-8: the Windows or DOS code page of the locale.
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


def decode_export(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read as; UnicodeDecodeError when nothing fits."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text"
        return data.decode("utf-16"), "utf_16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
        if best is None:
            raise UnicodeDecodeError("utf-8", data, error.start, error.end, UTF8_HINT) from None
        return str(best), best.encoding
