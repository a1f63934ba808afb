"""Erasing a customer from the console messages the hub still holds.

The hub keeps the last events it sent, enriched with names, numbers and
addresses read from the store (the recent list of every new console's
snapshot, and the replay buffer a reconnecting console resumes from). Once
`DELETE /customers/{id}/personal-data` has committed, no console may be sent
them again, so the hub scrubs those copies when the bus says the customer
was forgotten. A message is the customer's if it names the customer or one of
their orders, or is a call from a number one of those messages showed.

The operator's own words go too: a cancel or priority reason is free text
("Ivan's wife called, Lenina 5") and spreads to every event the same command
caused (a driver freed by the cancel carries it), so any message with the same
time and the same words is scrubbed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.live.erasure import FIXED_CAUSES

PERSONAL_FIELDS = ("caller", "display_name", "pickup_address", "dropoff_address", "notes", "confirm_reason")
PERSONAL_LISTS = ("addresses", "places")
_FREE_TEXT_KINDS = frozenset({"order.cancelled", "order.priority_overridden"})


def _said(message: dict[str, Any]) -> set[tuple[Any, str]]:
    """The operator's own words in one message, with its time."""
    data = message.get("data", {})
    at = message.get("at")
    words: set[tuple[Any, str]] = set()
    if message.get("kind") in _FREE_TEXT_KINDS and isinstance(data.get("reason"), str):
        words.add((at, data["reason"]))
    cause = data.get("cause")
    if isinstance(cause, str) and cause not in FIXED_CAUSES:
        words.add((at, cause))
    return words


def _theirs(message: dict[str, Any], customer_id: str, order_ids: frozenset[str], callers: set[str]) -> bool:
    data = message.get("data", {})
    if data.get("customer_id") == customer_id or data.get("order_id") in order_ids:
        return True
    return str(message.get("kind", "")).startswith("call.") and data.get("caller") in callers


def _scrubbed(message: dict[str, Any], theirs: bool, said: set[tuple[Any, str]]) -> dict[str, Any]:
    data = dict(message.get("data", {}))
    at = message.get("at")
    if theirs:
        data.update({key: None for key in PERSONAL_FIELDS if key in data})
        data.update({key: [] for key in PERSONAL_LISTS if key in data})
    for key in ("reason", "cause"):
        if (at, data.get(key)) in said:
            data[key] = None
    return {**message, "data": data}


def scrub(
    messages: Iterable[dict[str, Any]], customer_id: str, order_ids: Iterable[str]
) -> dict[int, dict[str, Any]]:
    """The messages that change once the customer is erased, by their index in `messages`."""
    listed = list(messages)
    orders = frozenset(order_ids)
    callers: set[str] = set()
    said: set[tuple[Any, str]] = set()
    theirs = [_theirs(m, customer_id, orders, set()) for m in listed]
    for message, mine in zip(listed, theirs, strict=True):
        if mine:
            caller = message.get("data", {}).get("caller")
            if isinstance(caller, str) and caller:
                callers.add(caller)
            said |= _said(message)
    changed = {}
    for index, message in enumerate(listed):
        mine = theirs[index] or _theirs(message, customer_id, orders, callers)
        new = _scrubbed(message, mine, said)
        if new != message:
            changed[index] = new
    return changed
