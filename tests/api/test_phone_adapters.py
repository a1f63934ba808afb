"""Generic JSON, Twilio and Zadarma webhooks read into one CallEvent."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from api.phone_adapters import (
    AdapterError,
    CallEvent,
    CallEventKind,
    GenericCallBody,
    SignatureError,
    parse_twilio,
    parse_zadarma,
    twilio_signature_valid,
)

SECRET = "zadarma-secret"


def zadarma_signature(data: str, secret: str = SECRET) -> str:
    """As Zadarma's PHP example: base64 of PHP hash_hmac's hex output."""
    return base64.b64encode(
        hmac.new(secret.encode(), data.encode(), hashlib.sha1).hexdigest().encode()
    ).decode()


def test_generic_json_ringing() -> None:
    """The generic body maps field by field, `from` included, and zoned times to epoch seconds."""
    body = GenericCallBody.model_validate(
        {
            "event": "call.ringing",
            "call_id": "1716380000.42",
            "from": "8 912 345-67-89",
            "to": "+73432000000",
            "at": "2026-05-22T15:13:20+03:00",
        }
    )
    assert body.to_call_event() == CallEvent(
        kind=CallEventKind.RINGING,
        external_id="generic:1716380000.42",
        caller_raw="8 912 345-67-89",
        line="+73432000000",
        at=datetime(2026, 5, 22, 12, 13, 20, tzinfo=UTC).timestamp(),
    )


def test_generic_json_refuses_numbers_as_times_and_names_bad_fields() -> None:
    """A number is not a time (seconds or milliseconds would be a guess); bad fields are named."""
    body = GenericCallBody.model_validate(
        {"event": "call.answered", "call_id": "x", "operator_extension": "101"}
    )
    assert body.to_call_event().at is None and body.to_call_event().operator_extension == "101"
    for bad, field in [
        ({"event": "call.answered", "call_id": "x", "at": 1779451200}, "at"),
        ({"event": "call.answered", "call_id": "x", "at": 1e12}, "at"),
        ({"event": "call.answered", "call_id": "x", "at": "1779451200"}, "at"),
        ({"event": "call.answered", "call_id": "x", "at": "0001-01-01T00:00:00+14:00"}, "at"),
        ({"event": "call.answered", "call_id": "x", "at": "9999-12-31T23:59:59-14:00"}, "at"),
        ({"event": "call.answered", "call_id": "x", "from": "\udc80"}, "from"),
        ({"event": "call.answered", "call_id": "x", "to": "+7" + "9" * 70}, "to"),
        ({"event": "call.teleported", "call_id": "x"}, "event"),
        ({"event": "call.ended", "call_id": ""}, "call_id"),
        ({"event": "call.ended", "call_id": "x", "at": "2026-05-22T12:00:00"}, "at"),
        ({"event": "call.ended", "call_id": "x", "colour": "red"}, "colour"),
    ]:
        with pytest.raises(ValidationError) as caught:
            GenericCallBody.model_validate(bad)
        assert caught.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("ringing", CallEventKind.RINGING),
        ("in-progress", CallEventKind.ANSWERED),
        ("completed", CallEventKind.ENDED),
        ("no-answer", CallEventKind.ABANDONED),
        ("canceled", CallEventKind.ABANDONED),
        ("busy", CallEventKind.ABANDONED),
    ],
)
def test_twilio_statuses(status: str, kind: CallEventKind) -> None:
    """Twilio call statuses map to our four events; the call id is provider-prefixed."""
    event = parse_twilio(
        {"CallSid": "CA123", "From": "+79123456789", "To": "+73432000000", "CallStatus": status}
    )
    assert event == CallEvent(kind, "twilio:CA123", "+79123456789", "+73432000000")


def test_twilio_timestamp_and_bad_forms() -> None:
    """A status callback's RFC 2822 Timestamp is read; missing or unknown fields are named."""
    event = parse_twilio(
        {"CallSid": "CA1", "CallStatus": "completed", "Timestamp": "Fri, 22 May 2026 12:13:20 +0000"}
    )
    assert event.at == datetime(2026, 5, 22, 12, 13, 20, tzinfo=UTC).timestamp() and event.caller_raw is None
    for form, field in [
        ({"CallStatus": "ringing"}, "CallSid"),
        ({"CallSid": "CA1"}, "CallStatus"),
        ({"CallSid": "CA1", "CallStatus": "exploded"}, "CallStatus"),
        ({"CallSid": "CA1", "CallStatus": "ringing", "Timestamp": "yesterday"}, "Timestamp"),
        ({"CallSid": "CA1", "CallStatus": "ringing", "Timestamp": "Fri, 31 Dec 9999 23:59:59 -1400"},
         "Timestamp"),
        ({"CallSid": "CA1", "CallStatus": "ringing", "From": "+7" + "9" * 70}, "From"),
        ({"CallSid": "CA1", "CallStatus": "ringing", "To": "x" * 65}, "To"),
        ({"CallSid": "CA1", "CallStatus": "ringing", "From": "+7912\x00"}, "From"),
    ]:
        with pytest.raises(AdapterError) as caught:
            parse_twilio(form)
        assert caught.value.field == field


def test_twilio_signature() -> None:
    """Twilio's signature over URL + sorted fields verifies, and fails for any change."""
    url = "https://taxi.example/phone/twilio"
    form = {"CallSid": "CA1", "From": "+79123456789", "CallStatus": "ringing"}
    data = url + "CallSidCA1CallStatusringingFrom+79123456789"
    signature = base64.b64encode(hmac.new(b"token", data.encode(), hashlib.sha1).digest()).decode()
    assert twilio_signature_valid("token", url, form, signature)
    assert not twilio_signature_valid("token", url, {**form, "From": "+70000000000"}, signature)
    assert not twilio_signature_valid("other", url, form, signature)


def test_zadarma_notify_start_with_a_valid_signature() -> None:
    """NOTIFY_START with Zadarma's signature becomes a ringing event."""
    form = {
        "event": "NOTIFY_START",
        "call_start": "2026-05-22 15:13:20",
        "pbx_call_id": "in_abc",
        "caller_id": "79123456789",
        "called_did": "73432000000",
    }
    signature = zadarma_signature("79123456789" + "73432000000" + "2026-05-22 15:13:20")
    assert parse_zadarma(form, signature, SECRET) == CallEvent(
        CallEventKind.RINGING, "zadarma:in_abc", "79123456789", "73432000000"
    )


def test_zadarma_raw_digest_signature_is_accepted() -> None:
    """Base64 of the raw HMAC digest also proves the secret and is accepted."""
    form = {
        "event": "NOTIFY_START",
        "call_start": "t",
        "pbx_call_id": "p",
        "caller_id": "a",
        "called_did": "b",
    }
    raw = base64.b64encode(hmac.new(SECRET.encode(), b"abt", hashlib.sha1).digest()).decode()
    assert parse_zadarma(form, raw, SECRET) is not None


@pytest.mark.parametrize(
    "signature", [None, "", "bm9wZQ==", zadarma_signature("79123456789" + "73432000000" + "t", "wrong")]
)
def test_zadarma_bad_signatures_are_refused(signature: str | None) -> None:
    """A missing, wrong or foreign-key signature raises SignatureError before anything is read."""
    form = {
        "event": "NOTIFY_START",
        "call_start": "t",
        "pbx_call_id": "p",
        "caller_id": "79123456789",
        "called_did": "73432000000",
    }
    with pytest.raises(SignatureError):
        parse_zadarma(form, signature, SECRET)


def test_zadarma_answer_and_end() -> None:
    """NOTIFY_ANSWER signs with `destination`; NOTIFY_END ends or abandons by disposition."""
    answer = {
        "event": "NOTIFY_ANSWER",
        "call_start": "t",
        "pbx_call_id": "p",
        "caller_id": "7912",
        "destination": "101",
        "internal": "101",
    }
    event = parse_zadarma(answer, zadarma_signature("7912101t"), SECRET)
    assert event is not None and event.kind is CallEventKind.ANSWERED and event.operator_extension == "101"
    end = {
        "event": "NOTIFY_END",
        "call_start": "t",
        "pbx_call_id": "p",
        "caller_id": "7912",
        "called_did": "7343",
    }
    signature = zadarma_signature("79127343t")
    ended = parse_zadarma({**end, "disposition": "answered"}, signature, SECRET)
    abandoned = parse_zadarma({**end, "disposition": "cancel"}, signature, SECRET)
    assert ended is not None and ended.kind is CallEventKind.ENDED
    assert abandoned is not None and abandoned.kind is CallEventKind.ABANDONED


def test_zadarma_events_we_ignore() -> None:
    """Outgoing-call and recording notifications are acknowledged as nothing to do."""
    assert parse_zadarma({"event": "NOTIFY_OUT_START"}, None, SECRET) is None
    assert parse_zadarma({"event": "NOTIFY_RECORD"}, None, SECRET) is None
    with pytest.raises(AdapterError):
        parse_zadarma({}, None, SECRET)


@given(
    st.dictionaries(
        st.sampled_from(["CallSid", "From", "To", "CallStatus", "Timestamp"]), st.text(max_size=30)
    )
)
def test_twilio_never_raises_anything_but_adapter_errors(form: dict[str, str]) -> None:
    """Any form gives an event or an AdapterError naming a field, never another exception."""
    try:
        event = parse_twilio(form)
    except AdapterError as error:
        assert error.field in {"CallSid", "CallStatus", "Timestamp"}
        return
    assert event.external_id.startswith("twilio:")
