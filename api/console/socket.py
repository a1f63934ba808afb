"""The `/ws/console` protocol.

1. The client opens the socket and sends
   `{"type": "hello", "key": ..., "last_seq": N|null, "stream": S|null}`
   within `HELLO_TIMEOUT_S` (browsers cannot set headers on a websocket, and a
   key in the URL would end up in access logs). A missing, wrong or expired
   key closes the socket with 4401; a key of a role that does not dispatch, 4403;
   a store that cannot be asked, 1013 (the page retries). The key is asked
   again every few seconds while the socket is open (`session_watch`): once
   it is revoked, expired or its operator disabled, the socket closes with 4401.
2. The server answers `{"type": "welcome", "stream": S, ...}`, then either a
   snapshot (`{"type": "snapshot", "seq": N, "state": {...}}`) or, when the
   client's `stream` is this server's and `last_seq` is still in the hub's
   buffer, nothing but the missed events. (`stream` names one life of the
   numbering: after a restart seq starts again at 0, so an old `last_seq`
   must not resume.)
3. Then every console event `{"type": "event", "seq": N, "kind": ..., "at": ..., "data": {...}}`
   in `seq` order, and a `{"type": "heartbeat", "now": ..., "seq": ...}` every
   `HEARTBEAT_S` so a console can tick waits on the dispatcher's clock, and the
   shift figures (`{"type": "figures", ...}`) after each batch of events. When
   messages queue up, one frame carries several as a JSON array, in order.

Events numbered after a snapshot may already be reflected in it (the
dispatcher does not stop while a snapshot is read); each event sets state
rather than changing it, so applying such an event again changes nothing.
4. The client acks what it has applied, `{"type": "ack", "seq": N}`, at least
   every `ACK_WINDOW // 2` events and on every heartbeat. A client that
   stops acking (a frozen tab, a dead link) stops being sent events; once its
   bounded queue is full it is closed with 4408 and simply reconnects with its
   last `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from api.live.service import StoreUnavailable
from api.models import Role
from api.outage_log import OutageLog

from .hub import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED, ConsoleHub
from .session_watch import watch_key
from .snapshot import build_snapshot

HELLO_TIMEOUT_S = 10.0
HEARTBEAT_S = 1.0
CLIENT_QUEUE = 1000
ACK_WINDOW = 500
FRAME_MESSAGES = 200
CLOSE_TRY_AGAIN = 1013  # the snapshot could not be read: the page reconnects after a second
CONSOLE_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})

router = APIRouter()


class SocketOutbox:
    """One client's bounded queue of encoded messages; the hub never waits on it.

    The server cannot tell how much a client has really read (ASGI servers
    buffer writes), so the client says so: it acks the last `seq` it applied
    (`{"type": "ack", "seq": N}`) at least every `ACK_WINDOW // 2` events and
    with every heartbeat. Events further than `ACK_WINDOW` ahead of the last
    ack wait in the queue; when the queue is full the hub closes the client.
    """

    def __init__(self, capacity: int, window: int) -> None:
        self._queue: asyncio.Queue[tuple[int | None, str]] = asyncio.Queue(maxsize=capacity)
        self._window = window
        self._acked = asyncio.Condition()
        self._held: tuple[int | None, str] | None = None
        self.acked_seq: int | None = None
        self.closed = asyncio.Event()
        self.close_code = 1000
        self.close_reason = ""

    def offer(self, text: str, seq: int | None = None) -> bool:
        if self.closed.is_set():
            return False
        try:
            self._queue.put_nowait((seq, text))
        except asyncio.QueueFull:
            return False
        return True

    def reset(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    def close(self, code: int, reason: str) -> None:
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()

    async def ack(self, seq: int) -> None:
        async with self._acked:
            self.acked_seq = max(seq, self.acked_seq or seq)
            self._acked.notify_all()

    def start_from(self, seq: int) -> None:
        """The client has everything up to `seq` (its resume point or its snapshot)."""
        self.acked_seq = seq

    def _may_send(self, seq: int) -> bool:
        return self.acked_seq is None or seq - self.acked_seq <= self._window

    async def _next(self) -> str:
        if self._held is not None:
            (seq, text), self._held = self._held, None
        else:
            seq, text = await self._queue.get()
        if seq is not None and not self._may_send(seq):
            async with self._acked:
                await self._acked.wait_for(partial(self._may_send, seq))
        return text

    def _more(self) -> list[str]:
        """Messages already waiting that may go in the same frame (within the ack window)."""
        texts: list[str] = []
        while len(texts) < FRAME_MESSAGES and not self._queue.empty():
            seq, text = self._queue.get_nowait()
            if seq is not None and not self._may_send(seq):
                self._held = (seq, text)
                break
            texts.append(text)
        return texts

    async def drain_to(self, socket: WebSocket) -> None:
        """Send queued messages; under load several go in one frame, as a JSON array."""
        while True:
            texts = [await self._next(), *self._more()]
            await socket.send_text(texts[0] if len(texts) == 1 else "[" + ",".join(texts) + "]")


@dataclass(frozen=True, slots=True)
class Hello:
    name: str
    role: Role
    last_seq: int | None
    stream: str | None
    key_id: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Key:
    role: Role
    name: str
    key_id: str
    expires_at: datetime | None


def _check_key(factory: sessionmaker[Session], key: str) -> _Key | None:
    with factory() as session:
        row = authenticate(session, key, datetime.now(UTC))
        return None if row is None else _Key(Role(row.role), row.name, row.key_id, row.expires_at)


async def _hello(socket: WebSocket) -> Hello | None:
    """Read and check the hello; close the socket and return None when it is refused."""
    try:
        raw = await asyncio.wait_for(socket.receive_text(), HELLO_TIMEOUT_S)
        message = json.loads(raw)
        key, last_seq, stream = str(message["key"]), message.get("last_seq"), message.get("stream")
        if last_seq is not None and not isinstance(last_seq, int):
            raise ValueError("last_seq")
        if stream is not None and not isinstance(stream, str):
            raise ValueError("stream")
    except (TimeoutError, ValueError, KeyError, TypeError):
        await socket.close(CLOSE_UNAUTHORIZED, "send a hello with a valid key first")
        return None
    outages: OutageLog = socket.app.state.console_outages
    try:
        checked = await run_in_threadpool(_check_key, socket.app.state.session_factory, key)
    except SQLAlchemyError as error:
        outages.failed(error)
        await socket.close(CLOSE_TRY_AGAIN, "the store is unavailable: reconnect shortly")
        return None
    outages.recovered()
    if checked is None:
        await socket.close(CLOSE_UNAUTHORIZED, "unknown, revoked or expired key")
        return None
    if checked.role not in CONSOLE_ROLES:
        await socket.close(CLOSE_FORBIDDEN, f"role {checked.role.value} may not use the console")
        return None
    name = checked.name.removeprefix("login:")
    return Hello(name, checked.role, last_seq, stream, checked.key_id, checked.expires_at)


async def _heartbeat(socket: WebSocket, hub: ConsoleHub, outbox: SocketOutbox) -> None:
    clock = socket.app.state.console_clock
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        beat = {"type": "heartbeat", "now": clock(), "seq": hub.seq, "figures": hub.figures.to_json()}
        if not outbox.offer(json.dumps(beat)):
            outbox.close(4408, "too slow: reconnect with your last seq")


async def _read_acks(socket: WebSocket, outbox: SocketOutbox) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            try:
                message = json.loads(await socket.receive_text())
                if message.get("type") == "ack":
                    await outbox.ack(int(message["seq"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # not an ack: nothing else is expected after the hello


async def _open(socket: WebSocket, hub: ConsoleHub, hello: Hello, outbox: SocketOutbox) -> None:
    """Attach the client, then send the welcome and, unless it resumed, a snapshot."""
    resumed = hub.attach(outbox, hello.last_seq if hello.stream == hub.stream else None)
    seq = hub.seq  # no await since attach: every later event is in the outbox
    outbox.start_from(hello.last_seq if resumed and hello.last_seq is not None else seq)
    figures, recent = hub.figures.to_json(), hub.recent()  # as of `seq`, too
    welcome = {
        "type": "welcome",
        "operator": hello.name,
        "role": hello.role.value,
        "resumed": resumed,
        "stream": hub.stream,
        "seq": seq,
        "server_time": time.time(),
    }
    await socket.send_text(json.dumps(welcome))
    if not resumed:
        snapshot = await build_snapshot(socket.app, seq, figures, recent)
        await socket.send_text(json.dumps(snapshot, separators=(",", ":")))


@router.websocket("/ws/console")
async def console_socket(socket: WebSocket) -> None:
    await socket.accept()
    hello = await _hello(socket)
    if hello is None:
        return
    hub: ConsoleHub = socket.app.state.console_hub
    outbox = SocketOutbox(CLIENT_QUEUE, ACK_WINDOW)
    tasks: list[asyncio.Task[Any]] = []
    recheck_s = socket.app.state.settings.console_key_recheck_s
    factory = socket.app.state.session_factory
    try:
        await _open(socket, hub, hello, outbox)
        tasks = [
            asyncio.create_task(outbox.drain_to(socket)),
            asyncio.create_task(_read_acks(socket, outbox)),
            asyncio.create_task(_heartbeat(socket, hub, outbox)),
            asyncio.create_task(watch_key(factory, hello.key_id, hello.expires_at, recheck_s, outbox)),
            asyncio.create_task(outbox.closed.wait()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except (StoreUnavailable, SQLAlchemyError) as error:
        socket.app.state.console_outages.failed(error)
        outbox.close(CLOSE_TRY_AGAIN, "the store is unavailable: reconnect shortly")
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.detach(outbox)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if outbox.closed.is_set():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(outbox.close_code, outbox.close_reason), 1.0)
