"""A browser chat on simple_websocket: one page, one WebSocket endpoint, JSON messages.

Client to server: ``{"type": "join", "nick": "ann"}`` once, then ``{"type": "message", "text":
"..."}``, and ``{"type": "ack", "received": n}`` (the number of events received so far) at least
every ``ack`` events, as the welcome says. Server to client: ``welcome``, ``join``, ``leave``,
``message``, ``gap`` (messages this client will not see) and ``error`` events, each room event with
the current ``users`` and ``stats``. Subprotocols: ``chat.v2`` (messages carry a ``ts``
timestamp) and ``chat.v1`` (no timestamps).

The room lives in a fan-out Broker: in memory by default (one process), or in Redis when
``CHAT_REDIS_URL`` is set, so that every worker and process sharing it is one room. A client that
stops reading is closed with 1013 once ``WINDOW`` events wait for its acknowledgement for
``CHAT_ACK_TIMEOUT`` seconds, or once ``CHAT_QUEUE_SIZE`` room events wait to be sent to it: its
memory on the server stays bounded on every server, daphne included (whose ``send`` never waits).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import orjson

from simple_websocket import (
    SAME_ORIGIN,
    ASGIReceive,
    BrokerUnavailable,
    CloseCode,
    ConnectionClosed,
    DecodeError,
    OriginRefused,
    Scope,
    SlowSubscriber,
    WebSocketASGI,
)
from simple_websocket.codecs import CodecSocket, JSONCodec
from simple_websocket.fanout import Backend, Broker, RedisBackend

from .room import QUEUE_SIZE, Member, Payload, Room, View

Send = Callable[[dict[str, object]], Awaitable[None]]

SUBPROTOCOLS = ["chat.v2", "chat.v1"]
MAX_NICK = 20
MAX_TEXT = 2000
MAX_MESSAGE_SIZE = 16_384
JOIN_TIMEOUT = 60.0
#: Events a client may have unacknowledged before the server waits for its acknowledgement.
WINDOW = 64
#: How often (in events) a client acknowledges: well within the window.
ACK_EVERY = 16
#: How long the server waits for an acknowledgement with the window full before it drops the client.
ACK_TIMEOUT = 15.0
#: How long a closing handshake may take before the connection is left to the server to drop.
CLOSE_TIMEOUT = 5.0
PAGE = (Path(__file__).parent / "static" / "index.html").read_bytes()


def broker_from_environment() -> Broker:
    """``CHAT_REDIS_URL`` set: a room shared through Redis; otherwise one in this process's memory."""
    url = os.environ.get("CHAT_REDIS_URL")
    backend: Backend | None = None
    if url:
        backend = RedisBackend(url, namespace=os.environ.get("CHAT_NAMESPACE", "chat-demo"), retention=10_000)
    return Broker(backend, presence_ttl=float(os.environ.get("CHAT_PRESENCE_TTL", "6")))


class Host:
    """The room's Broker, running for as long as this worker serves.

    It starts in the ASGI lifespan scope; on a server that sends none (daphne), in a task of its
    own when the first person connects (asyncio servers only).
    """

    def __init__(self, make_broker: Callable[[], Broker]) -> None:
        self.make_broker = make_broker
        self.room: Room | None = None
        self._starting: anyio.Event | None = None

    async def lifespan(self, receive: ASGIReceive, send: Send) -> None:
        async with AsyncExitStack() as stack:
            while (await receive())["type"] != "lifespan.shutdown":
                await self._start(stack)
                await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    async def _start(self, stack: AsyncExitStack) -> Room:
        broker = await stack.enter_async_context(self.make_broker())
        queue_size = int(os.environ.get("CHAT_QUEUE_SIZE", QUEUE_SIZE))
        self.room = Room(broker, queue_size=queue_size)
        return self.room

    async def get(self) -> Room:
        if self.room is not None:
            return self.room
        if self._starting is None:
            self._starting = started = anyio.Event()
            asyncio.get_running_loop().create_task(self._serve_without_lifespan(started))
        await self._starting.wait()
        return self._started()

    def _started(self) -> Room:
        if self.room is None:
            raise RuntimeError("the chat room did not start")
        return self.room

    async def _serve_without_lifespan(self, started: anyio.Event) -> None:
        async with AsyncExitStack() as stack:
            await self._start(stack)
            started.set()
            await anyio.sleep_forever()


HOST = Host(broker_from_environment)


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    """The page at /, room statistics at /stats, the chat at /ws."""
    if scope["type"] == "websocket":
        try:
            # Only this page's own origin (and non-browser clients, which send none) may join:
            # any other site's page would otherwise join in its visitors' browsers.
            ws = await WebSocketASGI.accept(
                scope, receive, send, subprotocols=SUBPROTOCOLS, max_message_size=MAX_MESSAGE_SIZE, origins=SAME_ORIGIN
            )
        except OriginRefused:
            return  # refused with HTTP 403 already
        await chat(ws, await HOST.get(), ack_timeout=float(os.environ.get("CHAT_ACK_TIMEOUT", ACK_TIMEOUT)))
    elif scope["type"] == "http":
        path = scope.get("path")
        if path == "/":
            await respond(send, 200, "text/html; charset=utf-8", PAGE)
        elif path == "/stats":
            room = await HOST.get()
            try:
                await respond(send, 200, "application/json", orjson.dumps(await room.stats()))
            except BrokerUnavailable:
                await respond(send, 503, "text/plain", b"the room is unavailable right now")
        else:
            await respond(send, 404, "text/plain", b"not found")
    elif scope["type"] == "lifespan":
        await HOST.lifespan(receive, send)


async def respond(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})


class Window:
    """Events sent to the client that it has not acknowledged yet."""

    def __init__(self, size: int = WINDOW) -> None:
        self.size = size
        self.sent = 0
        self.acked = 0
        self._moved = anyio.Event()

    def acknowledge(self, received: object) -> bool:
        """Take the client's count of events received; False if it makes no sense."""
        if not isinstance(received, int) or isinstance(received, bool) or not self.acked <= received <= self.sent:
            return False
        self.acked = received
        self._moved.set()
        self._moved = anyio.Event()
        return True

    async def wait_open(self, timeout: float) -> bool:
        """Wait until fewer than ``size`` events are unacknowledged; False after ``timeout`` seconds."""
        with anyio.move_on_after(timeout):
            while self.sent - self.acked >= self.size:
                await self._moved.wait()
            return True
        return False


class Session:
    """One person's connection: the socket, its window, and whether the person fell behind."""

    def __init__(self, ws: WebSocketASGI) -> None:
        self.ws = ws
        self.sock = CodecSocket(ws, JSONCodec())
        self.protocol = ws.subprotocol or "chat.v1"
        self.window = Window()
        self.too_slow = False

    async def send_frame(self, text: str) -> None:
        """Send an event the room encoded already."""
        self.window.sent += 1
        await self.ws.send(text)

    async def send(self, event: Payload) -> None:
        if self.protocol == "chat.v1":  # chat.v1 has no timestamps
            event.pop("ts", None)
        self.window.sent += 1  # before sending: the acknowledgement may come before send() returns
        await self.sock.send(event)


async def chat(
    ws: WebSocketASGI, room: Room, *, join_timeout: float = JOIN_TIMEOUT, ack_timeout: float = ACK_TIMEOUT
) -> None:
    """One person's connection: join, then read their messages while a writer sends them the room's."""
    session = Session(ws)
    nick = await wait_for_join(session, join_timeout)
    if nick is None:
        return
    code, reason = CloseCode.NORMAL_CLOSURE, ""
    try:
        async with room.enter(nick) as member:
            await session.send({"type": "welcome", "nick": member.nick, "protocol": session.protocol, "ack": ACK_EVERY})
            async with anyio.create_task_group() as group:
                group.start_soon(write, session, room, member, ack_timeout, group.cancel_scope)
                group.start_soon(drop_when_too_slow, session, member, group.cancel_scope)
                await read(session, room, member)
                group.cancel_scope.cancel()
            if session.too_slow:
                member.reason = "too slow"
                code, reason = CloseCode.TRY_AGAIN_LATER, "too slow: messages were not read in time"
    except ConnectionClosed:
        pass
    except BrokerUnavailable:
        code, reason = CloseCode.TRY_AGAIN_LATER, "the room is unavailable right now"
    finally:
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):  # the peer may be gone or not reading
            await ws.close(code, reason)


async def wait_for_join(session: Session, timeout: float) -> str | None:
    """The nickname the client joins with, or None if it left or did not join within ``timeout``."""
    with anyio.move_on_after(timeout):
        try:
            return await join_request(session)
        except ConnectionClosed:
            return None
    with anyio.move_on_after(CLOSE_TIMEOUT):
        await session.ws.close(CloseCode.POLICY_VIOLATION, "join first")
    return None


async def join_request(session: Session) -> str:
    """Read until a valid join arrives, answering anything else with an error event."""
    # One deadline for the whole join, however many bad messages come first.
    while True:
        try:
            obj = await session.sock.receive()
        except DecodeError:
            await session.send({"type": "error", "error": "invalid JSON"})
            continue
        if isinstance(obj, dict) and obj.get("type") == "join":
            nick = obj.get("nick")
            if isinstance(nick, str) and 0 < len(nick.strip()) <= MAX_NICK:
                return nick.strip()
        await session.send(
            {"type": "error", "error": f'join first: {{"type": "join", "nick": 1-{MAX_NICK} characters}}'}
        )


async def read(session: Session, room: Room, member: Member) -> None:
    """Relay the member's messages and take its acknowledgements until it leaves."""
    while True:
        try:
            obj = await session.sock.receive()
        except DecodeError:
            await session.send({"type": "error", "error": "invalid JSON"})
            continue
        except ConnectionClosed:
            return
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "ack" and isinstance(obj, dict) and session.window.acknowledge(obj.get("received")):
            continue
        text = obj.get("text") if isinstance(obj, dict) and kind == "message" else None
        if isinstance(text, str) and 0 < len(text) <= MAX_TEXT:
            try:
                await room.say(member, text)
            except BrokerUnavailable:
                await session.send({"type": "error", "error": "not sent: the room is unavailable right now"})
        elif kind == "ack":
            await session.send({"type": "error", "error": "ack: received must count the events received so far"})
        else:
            expected = f'expected {{"type": "message", "text": 1-{MAX_TEXT} characters}}'
            await session.send({"type": "error", "error": expected})


async def write(session: Session, room: Room, member: Member, ack_timeout: float, scope: anyio.CancelScope) -> None:
    """Send the member every room event, in order, while it keeps acknowledging them."""
    view = View()
    try:
        async for event in member.events:
            shaped = room.frame(event, view, member, session.protocol)
            if shaped is None:
                continue
            if not await session.window.wait_open(ack_timeout):
                session.too_slow = True
                break
            await session.send_frame(shaped)
    except SlowSubscriber:
        session.too_slow = True
    except ConnectionClosed:
        pass
    scope.cancel()


async def drop_when_too_slow(session: Session, member: Member, scope: anyio.CancelScope) -> None:
    """End the connection once the member's queue overflows, even while a send to it is stuck."""
    await member.events.wait_overflowed()
    session.too_slow = True
    scope.cancel()
