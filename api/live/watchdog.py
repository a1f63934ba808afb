"""The writer watchdog: which command holds the single writer, and since when.

Every command waits for the one before it, so one command that never ends
(a search that walks the globe, a lock the store never grants) freezes every
order behind it while the process still answers `/healthz`. The writer thread
marks what it is running (`holding`); `/readyz` answers 503 naming that
command once it has held the writer longer than `writer_stall_s`, so a load
balancer stops sending orders to a replica that cannot take them, and
`watch` logs the command once per stall (and once more when it lets go).

Names never carry personal data: a command is named by its type, the order or
driver it is about and its actor, never by its fields.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .commands import Apply, ForgetCustomer, SubmitOrder

log = logging.getLogger(__name__)


def describe(command: Any) -> str:
    """A log-safe name for a command on the writer."""
    if isinstance(command, Apply):
        inner = command.command
        ids = [f"{k}={getattr(inner, k)!r}" for k in ("order_id", "driver_id") if getattr(inner, k, None)]
        return f"{type(inner).__name__}({', '.join(ids)}) by {command.actor}"
    if isinstance(command, SubmitOrder | ForgetCustomer):
        return f"{type(command).__name__} by {command.actor}"
    wrapped = getattr(command, "command", None)
    if wrapped is not None and getattr(command, "command_id", None) is not None:
        # a replica's command relayed to the leader (api.cluster.leader.Once): name what it carries
        return f"{describe(wrapped)}, relayed as {command.command_id}"
    if callable(command) and not isinstance(command, type):
        name = getattr(command, "__qualname__", None) or type(command).__name__
        return f"read {name}"
    return type(command).__name__


@dataclass(frozen=True, slots=True)
class Stall:
    command: str
    held_s: float
    started_at: float  # tells one stall from the next of the same command


class WriterWatch:
    """Shared by the writer thread (which marks) and the event loop (which reads and logs)."""

    def __init__(self, stall_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_s, self._clock = stall_s, clock
        self._lock = threading.Lock()
        self._current: tuple[str, float] | None = None
        self.stalls = 0  # commands that held the writer longer than stall_s, since start

    @contextmanager
    def holding(self, name: str) -> Iterator[None]:
        with self._lock:
            self._current = (name, self._clock())
        try:
            yield
        finally:
            with self._lock:
                self._current = None

    def stalled(self) -> Stall | None:
        """The command holding the writer, if it has held it longer than `stall_s`."""
        with self._lock:
            current = self._current
        if current is None:
            return None
        held_s = self._clock() - current[1]
        return Stall(current[0], held_s, current[1]) if held_s > self.stall_s else None

    async def watch(self) -> None:
        """Log each stall once when it starts and once when the command lets go."""
        reported: Stall | None = None
        while True:
            await asyncio.sleep(min(1.0, self.stall_s / 4))
            stall = self.stalled()
            new = stall is not None and (reported is None or stall.started_at != reported.started_at)
            if reported is not None and (stall is None or new):
                log.warning(
                    "writer free again: %s let go after %.1f s or more", reported.command, reported.held_s
                )
            if stall is not None and new:
                self.stalls += 1
                log.warning(
                    "writer stalled: %s has held the single writer for %.1f s (limit %.1f s); "
                    "every command behind it waits and /readyz answers 503",
                    stall.command,
                    stall.held_s,
                    self.stall_s,
                )
            reported = stall
