"""Input text the store can hold: no NUL, no other control characters.

PostgreSQL refuses NUL in text (SQLite silently keeps it), and no legitimate
address, name, reason or id contains control characters, so they are bad
input (a 422 naming the field) on every backend, never a failed write.
Tab and line breaks stay allowed: operators paste multi-line addresses.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def control_character(value: str) -> str | None:
    """The first forbidden character of `value`, shown as an escape, or None."""
    for char in value:
        if (char < " " and char not in _ALLOWED_CONTROLS) or char == "\x7f":
            return repr(char)
    return None


def _clean(value: str) -> str:
    found = control_character(value)
    if found is not None:
        raise ValueError(f"control character {found} is not allowed")
    return value


CleanStr = Annotated[str, AfterValidator(_clean)]
