"""The published text patterns mean the same to the server and to an ECMA-262 regex engine.

Schemathesis (and most generated clients) judge a request against the OpenAPI with an ECMA-style
engine (jsonschema-rs), while the server judges it in Python and pydantic-core. Where the two
disagree, a fuzzer finds "schema-violating request accepted": `Æ[` was a wordy query to Python's
Unicode `\\w` and no word at all to ECMA's ASCII one, and U+FEFF is a space only to ECMA.
"""

from __future__ import annotations

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from api.routers.fields import NON_BLANK_PATTERN, WORDY_PATTERN, NonBlankStr, WordyStr

TRICKY = ["Æ[", "\ufeff", "\u00a0", "\u3000x", "١", "_", "«»", "ß", ",.;", "a", " \t\n", "\u2028", "№5"]


def _server_accepts(adapter: TypeAdapter[str], text: str) -> bool:
    try:
        adapter.validate_python(text)
    except ValidationError:
        return False
    return True


CASES = [(WordyStr, WORDY_PATTERN), (NonBlankStr, NON_BLANK_PATTERN)]


@pytest.mark.parametrize(("kind", "pattern"), CASES, ids=["wordy", "non-blank"])
@pytest.mark.parametrize("text", TRICKY)
def test_the_server_and_an_ecma_engine_agree_on_tricky_text(kind: object, pattern: str, text: str) -> None:
    published = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    assert _server_accepts(TypeAdapter(kind), text) == published.is_valid(text), ascii(text)


@pytest.mark.parametrize(("kind", "pattern"), CASES, ids=["wordy", "non-blank"])
def test_the_server_and_an_ecma_engine_agree_on_any_text(kind: object, pattern: str) -> None:
    published = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    adapter: TypeAdapter[str] = TypeAdapter(kind)

    @settings(max_examples=400, deadline=None)
    @given(st.text(st.characters(exclude_categories=["Cs"]), max_size=6))
    def agree(text: str) -> None:
        assert _server_accepts(adapter, text) == published.is_valid(text), ascii(text)

    agree()
