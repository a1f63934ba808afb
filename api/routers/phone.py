"""The phone-system webhook: recognise a ringing caller, keep the call log.

`call.ringing` answers within milliseconds with who is calling, their last
three pickup addresses, any live order and a routing hint for the PBX:
`active_order` when a car is already coming (play its status, or let the
operator see it first), `vip_queue` for callers the firm most risks losing
(the PBX's priority queue), `operator` otherwise. Withheld and unreadable
numbers are unknown callers, never errors: they still get an operator and a
car. Every call is logged whether or not it becomes an order; a call that
ends before anyone answered counts as a lost order.

Three shapes arrive (`api.phone_adapters` translates each into one
`CallEvent`): generic JSON at `/phone/events` (our Asterisk dialplan CURLs
it), Twilio form fields at `/phone/twilio` (signature checked when
`KEEPCAB_TWILIO_AUTH_TOKEN` is set) and Zadarma `NOTIFY_*` at `/phone/zadarma`
(signature always checked). Providers that cannot send a header may pass the
phone-role key as `?key=` on those two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from api.caller_index import CallerIndex
from api.console.state import indexed_card
from api.deps import BusDep, MetricsDep, PhoneSystem, PhoneWebhook, SettingsDep
from api.events import Event, EventBus
from api.live.call_log import CallLogWriter, RingingRow
from api.live.commands import RequestProblem
from api.live.service import DispatcherService
from api.live.writer import WriterSetup
from api.metrics import LiveMetrics
from api.models import Call, CallOutcome, from_epoch_s
from api.openapi import form_body
from api.phone_adapters import (
    TWILIO_FORM_SCHEMA,
    ZADARMA_FORM_SCHEMA,
    AdapterError,
    CallEvent,
    CallEventKind,
    GenericCallBody,
    SignatureError,
    parse_twilio,
    parse_zadarma,
    twilio_signature_valid,
)
from api.phones import CallerNumber, normalise_phone
from api.routers.fields import CleanStr, forbidden_character
from api.settings import Settings
from dispatch.model import Tier

from .customers import active_order, current_score

router = APIRouter(prefix="/phone", tags=["phone"])
PRIORITY_TIERS = frozenset({Tier.VIP, Tier.AT_RISK})


T = TypeVar("T")
RouteHint = Literal["operator", "vip_queue", "active_order"]


class ActiveOrder(BaseModel):
    order_id: str
    status: str
    driver_id: str | None
    eta_s: float | None


class RingingReply(BaseModel):
    call_id: str = Field(description="the call-log id; pass it as `call_id` when creating the order")
    known: bool
    customer_id: str | None = None
    display_name: str | None = None
    tier: Tier | None = None
    addresses: list[str] = Field(default_factory=list, description="last three pickup addresses")
    active_order: ActiveOrder | None = None
    route_hint: RouteHint = "operator"


class CallReply(BaseModel):
    call_id: str
    outcome: CallOutcome | None


def _call(session: Session, event: CallEvent, at: datetime) -> Call:
    row = session.exec(select(Call).where(Call.external_id == event.external_id)).first()
    if row is None:
        row = Call(
            external_id=event.external_id,
            caller_raw=event.caller_raw,
            line=event.line,
            ringing_at=at,
        )
    return row


def ring(
    callers: CallerIndex, event: CallEvent, at: datetime, setup: WriterSetup
) -> tuple[RingingReply, RingingRow, dict[str, Any]]:
    """Who is calling, from memory (api.caller_index): the PBX's reply, the call-log row for the
    background writer, and the consoles' card (no query for any of them)."""
    number: CallerNumber = normalise_phone(event.caller_raw, setup.phone_region)
    known = None if number.e164 is None else callers.lookup(number.e164)
    customer_id = None if known is None else known.customer.id
    row = RingingRow(event.external_id, event.caller_raw, number.e164, event.line, customer_id, at)
    if known is None:
        return RingingReply(call_id=event.external_id, known=False), row, {}
    score = current_score(known.customer, at.timestamp(), setup)
    tier = score.tier
    live = known.active_order
    active = (
        None
        if live is None
        else ActiveOrder(
            order_id=live.order_id, status=live.status, driver_id=live.driver_id, eta_s=live.eta_s
        )
    )
    hint: RouteHint = "operator"
    if active is not None:
        hint = "active_order"
    elif tier in PRIORITY_TIERS:
        hint = "vip_queue"
    reply = RingingReply(
        call_id=event.external_id,
        known=True,
        customer_id=known.customer.id,
        display_name=known.customer.display_name,
        tier=tier,
        addresses=[place.text for place in known.addresses],
        active_order=active,
        route_hint=hint,
    )
    return reply, row, indexed_card(known, score)


def progress(session: Session, event: CallEvent, at: datetime) -> tuple[CallReply, bool]:
    """Answer, hang-up or abandonment; True when the caller was lost before an answer."""
    call = _call(session, event, at)
    lost = False
    if event.kind is CallEventKind.ANSWERED:
        call.answered_at = call.answered_at or at
        call.operator_extension = event.operator_extension or call.operator_extension
    else:
        call.ended_at = call.ended_at or at
        if call.outcome is None:
            if call.answered_at is None:
                call.outcome, lost = CallOutcome.ABANDONED.value, True
            elif call.customer_id is not None and active_order(session, call.customer_id) is not None:
                call.outcome = CallOutcome.STATUS_ENQUIRY.value
            else:
                call.outcome = CallOutcome.OTHER.value
    session.add(call)
    session.commit()
    outcome = None if call.outcome is None else CallOutcome(call.outcome)
    return CallReply(call_id=call.external_id, outcome=outcome), lost


def _event_time(event: CallEvent, now: float, settings: Settings) -> float:
    """The provider's time when it is near our clock; a time far off is refused, never stored."""
    if event.at is None:
        return now
    window_s = settings.event_time_window_s
    if abs(event.at - now) > window_s:
        raise RequestProblem(
            ("body", event.at_field),
            f"{abs(event.at - now):.0f} s from the server's clock; the limit is {window_s:.0f} s "
            "(KEEPCAB_EVENT_TIME_WINDOW_S)",
        )
    return event.at


async def handle_call_event(
    event: CallEvent, request: Request, metrics: LiveMetrics, bus: EventBus
) -> RingingReply | CallReply:
    """The one path every provider's events take: log, recognise, count, publish."""
    for name in ("external_id", "caller_raw", "line", "operator_extension"):
        found = forbidden_character(getattr(event, name) or "")
        if found is not None:
            raise RequestProblem(("body", name), f"character {found} is not allowed")
    started = time.perf_counter()
    clock: Callable[[], float] = request.app.state.clock
    at = from_epoch_s(_event_time(event, clock(), request.app.state.settings))
    factory: sessionmaker[Session] = request.app.state.session_factory
    service: DispatcherService = request.app.state.service
    reply: RingingReply | CallReply
    call_log: CallLogWriter = request.app.state.call_log
    if event.kind is CallEventKind.RINGING:  # no database, no thread: see api.caller_index
        callers: CallerIndex = request.app.state.caller_index
        await callers.current(request.app.state.settings.caller_index_wait_s)
        reply, row, card = ring(callers, event, at, service.setup)
        call_log.record_ringing(row)
        metrics.observe_call(event.kind.value, lost_before_answer=False)
        metrics.phone_lookup.observe(time.perf_counter() - started)
    else:
        await call_log.flush()  # the ringing row of this call is written before we read it
        with factory() as session:
            reply, lost = await run_in_threadpool(progress, session, event, at)
        metrics.observe_call(event.kind.value, lost_before_answer=lost)
    data = reply.model_dump(mode="json")
    if event.kind is CallEventKind.RINGING:
        data["caller"] = event.caller_raw  # the console's card shows and pre-fills the number
        data.update(card)
    await bus.publish([Event(event.kind.value, at.timestamp(), data)])
    return reply


@router.post("/events", response_model=RingingReply | CallReply)
async def phone_event(
    body: GenericCallBody,
    request: Request,
    principal: PhoneSystem,
    metrics: MetricsDep,
    bus: BusDep,
) -> RingingReply | CallReply:
    """One event of a call as generic JSON; the reply to `call.ringing` tells the PBX how to route it."""
    return await handle_call_event(body.to_call_event(), request, metrics, bus)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


@router.post(
    "/twilio",
    response_model=RingingReply | CallReply,
    openapi_extra=form_body(TWILIO_FORM_SCHEMA),
)
async def twilio_event(
    request: Request,
    principal: PhoneWebhook,
    settings: SettingsDep,
    metrics: MetricsDep,
    bus: BusDep,
) -> RingingReply | CallReply:
    """Twilio voice webhook / status callback (form fields); signed when a token is configured."""
    form = await _form(request)
    token = settings.twilio_auth_token
    if token is not None:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not twilio_signature_valid(token.get_secret_value(), str(request.url), form, signature):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "X-Twilio-Signature does not match")
    return await handle_call_event(_adapted(parse_twilio, form), request, metrics, bus)


@router.get("/zadarma", response_class=PlainTextResponse)
async def zadarma_echo(principal: PhoneWebhook, zd_echo: Annotated[CleanStr, Query(max_length=200)]) -> str:
    """Zadarma checks a webhook URL by a GET that must echo `zd_echo`."""
    return zd_echo


@router.post(
    "/zadarma",
    response_model=RingingReply | CallReply | None,
    openapi_extra=form_body(ZADARMA_FORM_SCHEMA),
    responses={404: {"description": "Zadarma is not configured (KEEPCAB_ZADARMA_SECRET)"}},
)
async def zadarma_event(
    request: Request,
    principal: PhoneWebhook,
    settings: SettingsDep,
    metrics: MetricsDep,
    bus: BusDep,
) -> RingingReply | CallReply | None:
    """Zadarma `NOTIFY_*` notifications; the signature is checked before anything is read."""
    if settings.zadarma_secret is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Zadarma is not configured (KEEPCAB_ZADARMA_SECRET)")
    form = await _form(request)
    secret = settings.zadarma_secret.get_secret_value()
    signature = request.headers.get("Signature")
    event = _adapted(lambda f: parse_zadarma(f, signature, secret), form)
    if event is None:
        return None
    return await handle_call_event(event, request, metrics, bus)


def _adapted(parse: Callable[[dict[str, str]], T], form: dict[str, str]) -> T:
    try:
        return parse(form)
    except SignatureError as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, error.message) from None
    except AdapterError as error:
        raise RequestProblem(("body", error.field), error.message) from None
