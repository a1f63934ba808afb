"""What keeps an open console socket honest: its key re-checked, and store outages logged once.

A console socket lives for a whole shift, far longer than any request, so
checking its key at the hello alone would let a revoked key, a disabled
operator or an expired session keep receiving callers' numbers, names and
addresses. `watch_key` asks the store again every `console_key_recheck_s`
(5 s by default, inside the 10 s REST key cache, so a revocation reaches the
socket no later than it reaches REST calls) and closes the socket with 4401
the moment the key is no longer good; at the session's expiry it does not
wait for the next check. The page answers 4401 by showing its login.

While the store is unreachable a key cannot be checked; the socket is then
refused with 1013 ("try again later"), and the page retries every second;
`api.outage_log.OutageLog` turns that stream of refusals into one warning
and a count, not a traceback per attempt.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import key_is_live

from .hub import CLOSE_UNAUTHORIZED, Outbox

log = logging.getLogger(__name__)


def _still_live(factory: sessionmaker[Session], key_id: str) -> bool:
    with factory() as session:
        return key_is_live(session, key_id, datetime.now(UTC))


async def watch_key(
    factory: sessionmaker[Session],
    key_id: str,
    expires_at: datetime | None,
    every_s: float,
    outbox: Outbox,
) -> None:
    """Close `outbox` with 4401 once the key is revoked, expired or its operator disabled.

    A failed check (store unreachable) keeps the socket: revocations are
    written to that same store, so none can be missed that was not written.
    """
    while True:
        left_s = None if expires_at is None else (expires_at - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(every_s if left_s is None else max(0.0, min(every_s, left_s)))
        live = left_s is None or left_s > every_s  # the expiry needs no query
        if live:
            try:
                live = await run_in_threadpool(_still_live, factory, key_id)
            except SQLAlchemyError as error:
                log.debug("console key check skipped: %s", error)
                continue
        if not live:
            outbox.close(CLOSE_UNAUTHORIZED, "the key was revoked, expired or its operator disabled")
            return
