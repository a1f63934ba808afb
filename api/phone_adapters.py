"""Phone-system webhooks of three shapes -> one `CallEvent`.

The live shell handles one event shape; each adapter only translates.
- Generic JSON (`GenericCallBody`): what our Asterisk dialplan (CURL) and any
  PBX that can send JSON post; the body names the event directly.
- Twilio-style form fields: `CallSid`, `From` (already E.164), `To`,
  `CallStatus`; optionally checked with `X-Twilio-Signature` =
  base64(HMAC-SHA1(auth token, URL + every POST field name and value sorted)).
- Zadarma `NOTIFY_*` form posts. The `Signature` header is checked per event
  (`caller_id + called_did + call_start`, or `+ destination` for
  NOTIFY_ANSWER). Zadarma's own PHP example signs with
  `base64_encode(hash_hmac('sha1', data, secret))`, and PHP's `hash_hmac`
  returns hex, so the header is base64 of the *hex* digest; base64 of the raw
  digest is accepted too, since both prove knowledge of the secret. Zadarma
  checks a webhook URL by a GET with `zd_echo=<x>` that must answer `<x>`.

Events we do not act on (outgoing calls, recordings, IVR steps) give None, so
the route can acknowledge them without doing anything. Times the provider
gives only in its own local format are left None: the shell stamps events
with its clock, which is also what decides waits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from api.phones import MAX_RAW_CHARS
from api.routers.fields import (
    NON_BLANK_PATTERN,
    TEXT_PATTERN,
    CleanStr,
    Moment,
    forbidden_character,
    in_range,
    is_blank,
)

MAX_CALL_ID_CHARS = 120
MAX_EXTENSION_CHARS = 32


class CallEventKind(StrEnum):
    RINGING = "call.ringing"
    ANSWERED = "call.answered"
    ENDED = "call.ended"  # the call finished after an operator answered
    ABANDONED = "call.abandoned"  # the caller hung up (or was dropped) before anyone answered


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One call event, whatever the phone system; `external_id` is `provider:call id`."""

    kind: CallEventKind
    external_id: str
    caller_raw: str | None
    line: str | None
    operator_extension: str | None = None
    at: float | None = None  # seconds since the epoch, when the provider states it unambiguously
    at_field: str = field(default="at", compare=False)  # the provider's name for it, for a 422


class AdapterError(ValueError):
    """The webhook body cannot be read; `field` names the culprit for a 422."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SignatureError(AdapterError):
    """The body is not signed with our secret (a 401/403, never processed)."""


class GenericCallBody(BaseModel):
    """The generic JSON webhook body (`POST /phone/events`)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "event": "call.ringing",
                    "call_id": "1716380000.42",
                    "from": "+79123456789",
                    "to": "+73432000000",
                    "at": "2026-05-22T12:13:20Z",
                },
                {"event": "call.answered", "call_id": "1716380000.42", "operator_extension": "101"},
            ]
        },
    )

    event: CallEventKind
    call_id: CleanStr = Field(min_length=1, max_length=MAX_CALL_ID_CHARS)
    from_: CleanStr | None = Field(default=None, alias="from", max_length=MAX_RAW_CHARS)
    to: CleanStr | None = Field(default=None, max_length=MAX_RAW_CHARS)
    operator_extension: CleanStr | None = Field(default=None, max_length=MAX_EXTENSION_CHARS)
    at: Moment | None = Field(
        default=None,
        description="ISO 8601 with a zone; within KEEPCAB_EVENT_TIME_WINDOW_S of the server's clock",
    )

    def to_call_event(self, provider: str = "generic") -> CallEvent:
        return CallEvent(
            kind=self.event,
            external_id=f"{provider}:{self.call_id}",
            caller_raw=self.from_,
            line=self.to,
            operator_extension=self.operator_extension,
            at=None if self.at is None else self.at.timestamp(),
        )


def _checked(field: str, value: str, max_chars: int) -> str:
    if len(value) > max_chars:
        raise AdapterError(field, f"longer than {max_chars} characters")
    found = forbidden_character(value)
    if found is not None:
        raise AdapterError(field, f"character {found} is not allowed")
    return value


def _required(form: Mapping[str, str], field: str) -> str:
    value = (form.get(field) or "").strip()
    if is_blank(value):
        raise AdapterError(field, "missing")
    return _checked(field, value, MAX_CALL_ID_CHARS)


def _optional(form: Mapping[str, str], field: str, max_chars: int = MAX_RAW_CHARS) -> str | None:
    """A number or extension as sent, refused at the edge when the call log could not hold it."""
    value = form.get(field) or ""
    return _checked(field, value, max_chars) or None


def _rfc2822_seconds(text: str) -> float:
    try:
        return in_range(parsedate_to_datetime(text)).timestamp()
    except (TypeError, ValueError, OverflowError):
        raise AdapterError("Timestamp", "not an RFC 2822 date between 1970 and 2999") from None


TWILIO_KINDS = {
    "queued": CallEventKind.RINGING,
    "ringing": CallEventKind.RINGING,
    "in-progress": CallEventKind.ANSWERED,
    "completed": CallEventKind.ENDED,
    "busy": CallEventKind.ABANDONED,
    "failed": CallEventKind.ABANDONED,
    "no-answer": CallEventKind.ABANDONED,
    "canceled": CallEventKind.ABANDONED,
}


def parse_twilio(form: Mapping[str, str]) -> CallEvent:
    """A Twilio voice webhook or status callback (form fields)."""
    status = _required(form, "CallStatus")
    kind = TWILIO_KINDS.get(status)
    if kind is None:
        raise AdapterError("CallStatus", f"unknown status {status!r}")
    at = _rfc2822_seconds(form["Timestamp"]) if form.get("Timestamp") else None
    return CallEvent(
        kind=kind,
        external_id=f"twilio:{_required(form, 'CallSid')}",
        caller_raw=_optional(form, "From"),
        line=_optional(form, "To"),
        at=at,
        at_field="Timestamp",
    )


_TEXT = {"type": "string", "maxLength": MAX_RAW_CHARS, "pattern": TEXT_PATTERN}
_ID = {"type": "string", "minLength": 1, "maxLength": MAX_CALL_ID_CHARS, "pattern": NON_BLANK_PATTERN}
TWILIO_FORM_SCHEMA = {
    "type": "object",
    "required": ["CallSid", "CallStatus"],
    "properties": {
        "CallSid": _ID,
        "CallStatus": {"type": "string", "enum": sorted(TWILIO_KINDS)},
        "From": {**_TEXT, "description": "the caller, E.164 from Twilio"},
        "To": {**_TEXT, "description": "the number that was called"},
        "Timestamp": {
            "type": "string",
            "description": "RFC 2822; within KEEPCAB_EVENT_TIME_WINDOW_S of the server's clock",
        },
    },
    "additionalProperties": {"type": "string"},
}


def twilio_signature_valid(auth_token: str, url: str, form: Mapping[str, str], signature: str) -> bool:
    """Twilio's request signature: the full URL, then each POST field name+value, sorted by name."""
    data = url + "".join(name + form[name] for name in sorted(form))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signature.strip())


def _zadarma_signature_valid(secret: str, data: str, signature: str | None) -> bool:
    mac = hmac.new(secret.encode(), data.encode(), hashlib.sha1)
    presented = (signature or "").strip().encode()
    of_hex = base64.b64encode(mac.hexdigest().encode())
    of_raw = base64.b64encode(mac.digest())
    return hmac.compare_digest(of_hex, presented) | hmac.compare_digest(of_raw, presented)


ZADARMA_ENDED_ANSWERED = "answered"


def _zadarma_kind(event: str, form: Mapping[str, str]) -> CallEventKind | None:
    if event == "NOTIFY_START":
        return CallEventKind.RINGING
    if event == "NOTIFY_ANSWER":
        return CallEventKind.ANSWERED
    if event == "NOTIFY_END":
        answered = (form.get("disposition") or "").strip().lower() == ZADARMA_ENDED_ANSWERED
        return CallEventKind.ENDED if answered else CallEventKind.ABANDONED
    return None


ZADARMA_FORM_SCHEMA = {
    "type": "object",
    "required": ["event"],
    "properties": {
        "event": {"type": "string", "description": "NOTIFY_START, NOTIFY_ANSWER, NOTIFY_END, ..."},
        "pbx_call_id": _ID,
        "caller_id": _TEXT,
        "called_did": _TEXT,
        "destination": _TEXT,
        "internal": {**_TEXT, "maxLength": MAX_EXTENSION_CHARS},
        "call_start": {"type": "string"},
        "disposition": {"type": "string"},
    },
    "additionalProperties": {"type": "string"},
}


def parse_zadarma(form: Mapping[str, str], signature: str | None, secret: str) -> CallEvent | None:
    """A Zadarma PBX notification, signature checked first; None for events we ignore."""
    event = _required(form, "event")
    kind = _zadarma_kind(event, form)
    if kind is None:
        return None
    line_field = "destination" if event == "NOTIFY_ANSWER" else "called_did"
    caller, line = form.get("caller_id", ""), form.get(line_field, "")
    if not _zadarma_signature_valid(secret, caller + line + form.get("call_start", ""), signature):
        raise SignatureError("Signature", "does not match the body and our secret")
    return CallEvent(
        kind=kind,
        external_id=f"zadarma:{_required(form, 'pbx_call_id')}",
        caller_raw=_optional(form, "caller_id"),
        line=_optional(form, line_field),
        operator_extension=_optional(form, "internal", MAX_EXTENSION_CHARS),
    )
