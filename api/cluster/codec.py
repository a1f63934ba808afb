"""Commands, answers and engine views as JSON, for the Redis streams between replicas.

Only the types registered here cross the wire, by name: a replica decodes a
command into the same frozen values an HTTP handler builds in the embedded
set-up (`api.live.commands`), so the leader feeds them to the same writer.
JSON rather than pickle, so whoever can write to Redis still cannot make a
replica run code. Errors travel as their class name and message and are
raised again on the replica that accepted the request, so the HTTP error
handlers answer exactly as they do in one process.
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

from api.console.state import EngineView
from api.live import commands as live
from api.live.customer_care import SetConfirmFlag, SetCustomerNotes
from api.live.prebooking import EditPrebooking
from api.live.service import StoreUnavailable
from dispatch import commands as core
from dispatch import errors, model

_DATACLASSES: tuple[type[Any], ...] = (
    live.OrderIntake,
    live.SubmitOrder,
    live.Apply,
    live.ForgetCustomer,
    live.TickIfDue,
    live.PurgeCalls,
    SetCustomerNotes,
    SetConfirmFlag,
    EditPrebooking,
    core.PlaceOrder,
    core.CancelOrder,
    core.DriverOnline,
    core.DriverOffline,
    core.DriverMoved,
    core.DriverArrived,
    core.TripCompleted,
    core.AssignManually,
    core.AssignNext,
    core.CancelHold,
    core.RescheduleOrder,
    core.OverridePriority,
    core.Tick,
    model.Position,
    model.Order,
    model.PriorityScore,
    model.DriverView,
    model.QueuedOrderView,
    model.OrderView,
    EngineView,
)
_ENUMS: tuple[type[Enum], ...] = (
    model.OrderStatus,
    model.DriverStatus,
    model.FailureCause,
    model.Tier,
)
_ERRORS: tuple[type[Exception], ...] = (
    errors.DomainError,
    errors.UnknownOrder,
    errors.UnknownDriver,
    errors.DuplicateOrder,
    errors.InvalidTransition,
    errors.DriverBusy,
    errors.InvalidCommand,
    live.NotFound,
    live.Conflict,
    StoreUnavailable,
)
TYPES = {cls.__name__: cls for cls in _DATACLASSES}
ENUMS = {cls.__name__: cls for cls in _ENUMS}
ERRORS = {cls.__name__: cls for cls in _ERRORS}


class CodecError(ValueError):
    """A message names a type that does not cross the wire (or is not a message at all)."""


def to_wire(value: Any) -> Any:
    """A JSON-ready form of `value`; enums before str, since the core's enums are StrEnums."""
    if isinstance(value, Enum):
        return {"$e": type(value).__name__, "v": value.value}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if TYPES.get(name) is not type(value):
            raise CodecError(f"{name} does not cross the wire")
        return {"$t": name, **{f.name: to_wire(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, frozenset | set):
        return {"$s": sorted(to_wire(item) for item in value)}
    if isinstance(value, dict):
        return {"$m": {str(key): to_wire(item) for key, item in value.items()}}
    raise CodecError(f"{type(value).__name__} does not cross the wire")


def from_wire(data: Any) -> Any:
    if isinstance(data, list):
        return [from_wire(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "$e" in data:
        return _lookup(ENUMS, data["$e"])(data["v"])
    if "$s" in data:
        return frozenset(from_wire(item) for item in data["$s"])
    if "$m" in data:
        return {key: from_wire(item) for key, item in data["$m"].items()}
    cls = _lookup(TYPES, data.get("$t"))
    values = {key: from_wire(item) for key, item in data.items() if key != "$t"}
    if cls is EngineView:  # lists were tuples nowhere else; EngineView holds lists
        lists = ("queue", "drivers", "trips", "scheduled", "held")
        return EngineView(*(values.get(name, []) for name in lists))
    return cls(**values)


def _lookup(table: dict[str, Any], name: Any) -> Any:
    found = table.get(name) if isinstance(name, str) else None
    if found is None:
        raise CodecError(f"unknown type on the wire: {name!r}")
    return found


def dumps(value: Any) -> str:
    return json.dumps(to_wire(value), separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    return from_wire(json.loads(text))


def error_to_wire(error: BaseException) -> dict[str, Any]:
    """An expected error as data; anything unexpected becomes a StoreUnavailable (a 503)."""
    if isinstance(error, live.RequestProblem):
        return {"error": "RequestProblem", "message": error.message, "loc": list(error.loc)}
    name = type(error).__name__
    if ERRORS.get(name) is not type(error):
        name = "StoreUnavailable"
    return {"error": name, "message": str(error)}


def error_from_wire(data: dict[str, Any]) -> Exception:
    """The same exception class with the same message (custom constructors are bypassed)."""
    name, message = str(data.get("error")), str(data.get("message", ""))
    if name == "RequestProblem":
        return live.RequestProblem(tuple(data.get("loc") or ("body",)), message)
    cls = ERRORS.get(name, StoreUnavailable)
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error
