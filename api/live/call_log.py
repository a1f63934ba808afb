"""Writing ringing calls to the call log off the ringing reply's critical path.

The PBX waits for the ringing reply before it routes the call, so the reply
must not wait for a commit (an fsync, several milliseconds on a busy disk).
The lookup is answered first and the call-log row is queued here; one task
writes queued rows in batches, one transaction per batch. Whatever needs the
row (the answer and hang-up events of the same call, an order naming the
call, forgetting a customer's personal data) first awaits `flush()`, so it
always finds it and nothing is written behind an erasure. A crash can lose the log
rows of the last few milliseconds of rings, never an order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.models import Call

log = logging.getLogger(__name__)
MAX_BATCH = 256
# After the first row of a batch, wait this long for more: a busy evening's rings then share one
# commit (and one worker-thread hop) instead of paying one each, competing with the event loop
# that answers the next ring. A flush() cuts the wait short.
GATHER_S = 0.02


@dataclass(frozen=True, slots=True)
class RingingRow:
    external_id: str
    caller_raw: str | None
    caller_e164: str | None
    line: str | None
    customer_id: str | None
    ringing_at: datetime


def store_ringing(session: Session, rows: list[RingingRow]) -> None:
    """Insert new calls; a repeated ringing event of a known call refreshes who is calling."""
    ids = [row.external_id for row in rows]
    existing = {
        call.external_id: call
        for call in session.exec(select(Call).where(col(Call.external_id).in_(ids)))
    }
    for row in rows:
        call = existing.get(row.external_id)
        if call is None:
            call = existing[row.external_id] = Call(
                external_id=row.external_id,
                caller_raw=row.caller_raw,
                line=row.line,
                ringing_at=row.ringing_at,
            )
        call.caller_e164, call.customer_id = row.caller_e164, row.customer_id
        session.add(call)
    session.commit()


class CallLogWriter:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._queue: asyncio.Queue[RingingRow] = asyncio.Queue()
        self._submitted = 0
        self._written = 0
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()
        self.failed_rows = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keepcab-call-log")

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def record_ringing(self, row: RingingRow) -> None:
        """Queue a row; never blocks and never fails the caller."""
        self._submitted += 1
        self._queue.put_nowait(row)

    async def flush(self) -> None:
        """Wait until every row queued before this call is written (or given up on)."""
        target = self._submitted
        self._hurry.set()
        async with self._progress:
            await self._progress.wait_for(lambda: self._written >= target)

    async def _run(self) -> None:
        while True:
            rows = [await self._queue.get()]
            if not self._hurry.is_set():
                with contextlib.suppress(TimeoutError):  # asyncio.timeout: see api.caller_index
                    async with asyncio.timeout(GATHER_S):
                        await self._hurry.wait()
            self._hurry.clear()
            while len(rows) < MAX_BATCH and not self._queue.empty():
                rows.append(self._queue.get_nowait())
            try:
                await run_in_threadpool(self._write, rows)
            except (
                Exception
            ):  # the reply went out already; count the loss, keep logging later calls
                self.failed_rows += len(rows)
                log.exception("writing %d call-log rows failed", len(rows))
            async with self._progress:
                self._written += len(rows)
                self._progress.notify_all()

    def _write(self, rows: list[RingingRow]) -> None:
        with self._session_factory() as session:
            store_ringing(session, rows)
