"""What the leader answers, and how the accepting replica turns it back into a handler's result.

The leader answers with ids, not rows: the rows are committed before the
answer is sent, so the accepting replica reads them from PostgreSQL itself
and returns exactly what the embedded set-up's handlers return (an
`IntakeResult`, an `Applied`). The answer of every applied command is stored
with its id (`cluster_commands`) so a re-delivered command gets the same one.

Reads the leader answers from its engine are named, not shipped as code:
`READS` lists the query functions a replica may ask the leader to run.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.live.intake import IntakeResult
from api.live.writer import Applied
from api.models import Customer, Driver, Order
from dispatch.engine import Dispatcher

from . import codec

READS = frozenset(
    {
        "api.routers.queue:_queue",
        "api.console.state:read_engine",
        "api.console.positions:_drivers",
    }
)


def read_name(query: Callable[[Dispatcher], Any]) -> str:
    name = f"{query.__module__}:{query.__qualname__}"
    if name not in READS:
        raise codec.CodecError(f"{name} is not a read the leader answers (add it to READS)")
    return name


def read_query(name: str) -> Callable[[Dispatcher], Any]:
    if name not in READS:
        raise codec.CodecError(f"{name!r} is not a read the leader answers")
    module, _, attribute = name.partition(":")
    query: Callable[[Dispatcher], Any] = getattr(importlib.import_module(module), attribute)
    return query


def encode_result(result: Any) -> str:
    """A command's result as the JSON answer the leader stores and sends."""
    if isinstance(result, IntakeResult):
        body: dict[str, Any] = {
            "kind": "intake",
            "order_id": result.order.id,
            "created": result.created,
            "why": result.why_existing,
        }
    elif isinstance(result, Applied):
        body = {
            "kind": "applied",
            "order_id": None if result.order is None else result.order.id,
            "driver_id": None if result.driver is None else result.driver.id,
        }
    elif isinstance(result, Customer | Order):  # a customer's notes or flag, an edited pre-booking
        body = {"kind": "row", "table": type(result).__name__, "id": result.id}
    elif isinstance(result, dict):
        body = {"kind": "value", "value": codec.to_wire(result)}
    else:
        body = {"kind": "value", "value": None}
    return json.dumps(body, separators=(",", ":"))


def decode_result(text: str, factory: sessionmaker[Session]) -> Any:
    """The result a handler of this replica returns, with rows read from the store."""
    body = json.loads(text)
    if "error" in body:
        raise codec.error_from_wire(body)
    kind = body.get("kind")
    if kind == "read":
        return codec.from_wire(body["value"])
    if kind == "value":
        return codec.from_wire(body["value"])
    if kind == "row":
        return _row(factory, body)
    with factory() as session:
        order = None if body.get("order_id") is None else session.get(Order, body["order_id"])
        if kind == "intake":
            if order is None:
                raise codec.CodecError(f"the leader answered with an unknown order {body['order_id']!r}")
            return IntakeResult(order, created=bool(body["created"]), why_existing=body.get("why"))
        driver = None if body.get("driver_id") is None else session.get(Driver, body["driver_id"])
        return Applied([], order, driver)


_ROWS: dict[str, type[Customer] | type[Order]] = {"Customer": Customer, "Order": Order}


def _row(factory: sessionmaker[Session], body: dict[str, Any]) -> Customer | Order:
    table = _ROWS.get(str(body.get("table")))
    if table is None:
        raise codec.CodecError(f"the leader answered with a row of {body.get('table')!r}")
    with factory() as session:
        row = session.get(table, body.get("id"))
    if row is None:
        raise codec.CodecError(f"the leader answered with an unknown {body['table']} {body.get('id')!r}")
    return row


def encode_read(value: Any) -> str:
    return json.dumps({"kind": "read", "value": codec.to_wire(value)}, separators=(",", ":"))


def encode_error(error: BaseException) -> str:
    return json.dumps(codec.error_to_wire(error), separators=(",", ":"))
