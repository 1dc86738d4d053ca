"""A browser chat on simple_websocket: one page, one WebSocket endpoint, JSON messages.

Client to server: ``{"type": "join", "nick": "ann", "session": "<secret>", "since": "<pos>"}``
once (``session`` and ``since`` are optional, see below), then ``{"type": "message", "text":
"..."}``, and ``{"type": "ack", "received": n}`` (the number of events received so far on this
connection) at least every ``ack`` events, as the welcome says.

Server to client: ``welcome`` (``nick``, ``protocol``, ``ack``, ``pos``, ``resumed``,
``recovered``, ``users``, ``stats``), then the room's events ``join``, ``leave``, ``message`` and
``gap`` (events this client will not see), each with its place in the room, ``pos`` (a short
token), and the current ``users`` and ``stats``; ``resumed`` after a client's missed events
(below), and ``error`` events. Subprotocols: ``chat.v2`` (messages carry a ``ts`` timestamp) and
``chat.v1`` (no timestamps).

Coming back. A client keeps the ``pos`` of the last event it got, and a ``session`` secret of its
own (16-128 characters, never shown to anyone; the server keeps only its digest). After its
connection drops it joins again, to any worker, with the same ``nick`` (the one the welcome
gave), ``session`` and ``since``: the last ``pos``. It then gets the welcome (``"resumed":
true``), every room event after ``since`` and ``{"type": "resumed", "missed": n}`` (``n``: how
many of them were messages) when they could all be replayed (``"recovered": true``); otherwise
(``"recovered": false``: past the room's retention, or Redis lost its data) one ``gap`` first.
Then live events. A client coming back gets exactly its nickname or, if someone else has it
meanwhile, a close with 4409 (``nickname taken``); a client joining afresh gets ``ann-2``,
``ann-3``... for a taken one, unless its own session holds it. A ``since`` that is no position
token is refused: an ``error`` event, then a close with 1008. A connection of this worker that
the same session replaces (the page saw it drop, the server had not noticed yet) is closed with
4001.

When a connection ends for any reason but the server stopping (close code 1012), its member stays
in the room for ``CHAT_GRACE`` seconds (default 12): a client back within that time with its
session takes the nickname over and nobody sees it leave and join again; otherwise the others see
it leave once the grace period is over. A client dropped for being too slow leaves at once.

The room lives in a fan-out Broker: in memory by default (one process), or in Redis when
``CHAT_REDIS_URL`` is set (in a Redis Cluster when ``CHAT_REDIS_CLUSTER_URL`` is), so that
every worker and process sharing it is one room
(``CHAT_NAMESPACE`` prefixes its keys, ``CHAT_PRESENCE_TTL`` is the Broker's presence_ttl). The
room keeps its last ``CHAT_RETENTION`` events (default 10 000) for clients coming back. A client
that stops reading is closed with 1013 once ``WINDOW`` events wait for its acknowledgement for
``CHAT_ACK_TIMEOUT`` seconds, or once ``CHAT_QUEUE_SIZE`` room events wait to be sent to it: its
memory on the server stays bounded on every server, daphne included (whose ``send`` never waits).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, TypeAlias

import anyio
import orjson
from typing_extensions import assert_never

from simple_websocket import (
    SAME_ORIGIN,
    ASGIReceive,
    BrokerUnavailable,
    CloseCode,
    ConnectionClosed,
    DecodeError,
    InvalidArgument,
    OriginRefused,
    Scope,
    SlowSubscriber,
    WebSocketASGI,
)
from simple_websocket.codecs import CodecSocket
from simple_websocket.fanout import Backend, Broker, MemoryBackend, Message, Position, RedisBackend, RedisClusterBackend

from . import metrics
from .protocol import (
    CHAT_V1,
    CHAT_V2,
    MAX_NICK,
    MAX_SESSION,
    MAX_TEXT,
    MIN_SESSION,
    SUBPROTOCOLS,
    Ack,
    ClientMessage,
    Error,
    Join,
    Resumed,
    Say,
    ServerMessageV1,
    ServerMessageV2,
    Stats,
    Welcome,
    asyncapi,
)
from .room import QUEUE_SIZE, Member, NicknameTaken, Room, View

Send = Callable[[dict[str, object]], Awaitable[None]]
#: A page's connection in the subprotocol it chose: chat.v2's messages or chat.v1's.
ChatSocket: TypeAlias = CodecSocket[ClientMessage, ServerMessageV2] | CodecSocket[ClientMessage, ServerMessageV1]

__all__ = ["MAX_NICK", "MAX_SESSION", "MAX_TEXT", "MIN_SESSION", "SUBPROTOCOLS", "app", "chat"]

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
#: How long (seconds) a member stays after its connection ended, for its page to come back: CHAT_GRACE.
GRACE = 12.0
#: Room events kept for clients coming back: CHAT_RETENTION.
RETENTION = 10_000
#: Close code for a client coming back whose nickname someone else has now (final for the page).
NICKNAME_TAKEN = 4409
#: Close code for a connection that its own session replaced with a newer one (final for the page).
REPLACED = 4001
STATIC = Path(__file__).parent / "static"
#: AsyncAPI's React component, installed from npm with the demo (``./dev demo`` runs ``npm ci`` in
#: web/): the AsyncAPI page loads nothing from any other site.
COMPONENT = Path(__file__).parent / "web" / "node_modules" / "@asyncapi" / "react-component"
#: The files served, by path: (file, content type).
FILES = {
    "/": (STATIC / "index.html", "text/html; charset=utf-8"),
    "/chat.js": (STATIC / "chat.js", "text/javascript; charset=utf-8"),
    "/asyncapi": (STATIC / "asyncapi.html", "text/html; charset=utf-8"),
    "/asyncapi/standalone.js": (COMPONENT / "browser" / "standalone" / "index.js", "text/javascript; charset=utf-8"),
    "/asyncapi/default.min.css": (COMPONENT / "styles" / "default.min.css", "text/css; charset=utf-8"),
}
#: The chat's protocols, both ways, as an AsyncAPI 3 document.
ASYNCAPI = orjson.dumps(asyncapi())


@cache
def read_file(path: Path) -> bytes | None:
    """A served file's content (read once), or None if it is not there."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def broker_from_environment() -> Broker:
    """``CHAT_REDIS_URL`` set: a room shared through Redis; ``CHAT_REDIS_CLUSTER_URL``: through a
    Redis Cluster; otherwise one in this process's memory.

    Either keeps the room's last ``CHAT_RETENTION`` events (default 10 000) for clients coming back.
    """
    url = os.environ.get("CHAT_REDIS_URL")
    cluster = os.environ.get("CHAT_REDIS_CLUSTER_URL")
    retention = int(os.environ.get("CHAT_RETENTION", RETENTION))
    namespace = os.environ.get("CHAT_NAMESPACE", "chat-demo")
    backend: Backend
    if url:
        backend = RedisBackend(url, namespace=namespace, retention=retention)
    elif cluster:
        backend = RedisClusterBackend(cluster, namespace=namespace, retention=retention)
    else:
        backend = MemoryBackend(retention=retention)
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
        self.room = Room(broker, queue_size=queue_size, grace=float(os.environ.get("CHAT_GRACE", GRACE)))
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
#: ``GET /metrics`` when the chat runs with ``--metrics`` (CHAT_METRICS=1); None otherwise.
METRICS = metrics.from_environment()


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    """The page at /, room statistics at /stats, the chat at /ws, its protocol at /asyncapi(.json).

    With ``--metrics``, Prometheus's metrics at /metrics (see metrics.py).
    """
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
        if isinstance(path, str) and path in FILES:
            file, content_type = FILES[path]
            body = read_file(file)
            if body is None:
                missing = b"not installed: run npm ci --ignore-scripts in examples/chat/web (./dev demo does)\n"
                await respond(send, 503, "text/plain", missing)
            else:
                await respond(send, 200, content_type, body)
        elif path == "/asyncapi.json":
            await respond(send, 200, "application/json", ASYNCAPI)
        elif path == "/metrics" and METRICS is not None:
            await respond(send, 200, metrics.CONTENT_TYPE, await METRICS.render())
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

    def acknowledge(self, received: int) -> bool:
        """Take the client's count of events received; False if it makes no sense."""
        if not self.acked <= received <= self.sent:
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
        self.protocol: Literal["chat.v1", "chat.v2"] = "chat.v2" if ws.subprotocol == "chat.v2" else "chat.v1"
        self.sock: ChatSocket = CHAT_V2.socket(ws) if self.protocol == "chat.v2" else CHAT_V1.socket(ws)
        self.window = Window()
        self.too_slow = False

    async def send_frame(self, text: str) -> None:
        """Send an event the room encoded already (in this session's protocol)."""
        self.window.sent += 1
        await self.ws.send(text)

    async def send(self, event: Welcome | Resumed | Error) -> None:
        """Send one of the events both protocols have alike."""
        self.window.sent += 1  # before sending: the acknowledgement may come before send() returns
        await self.sock.send(event)

    async def send_when_open(self, event: Resumed, ack_timeout: float) -> bool:
        """Send an event of ours once the window has room; False, and nothing sent, if the client
        did not acknowledge in time: it is too slow."""
        if not await self.window.wait_open(ack_timeout):
            self.too_slow = True
            return False
        await self.send(event)
        return True


async def chat(
    ws: WebSocketASGI, room: Room, *, join_timeout: float = JOIN_TIMEOUT, ack_timeout: float = ACK_TIMEOUT
) -> None:
    """One person's connection: join, then read their messages while a writer sends them the room's."""
    session = Session(ws)
    joining = await wait_for_join(session, join_timeout)
    if joining is None:
        return
    code: int = CloseCode.NORMAL_CLOSURE
    reason = ""
    try:
        async with room.enter(joining.nick, session=joining.session, since=joining.since) as member:
            await session.send(welcome(session, room, member))
            async with anyio.create_task_group() as group:
                group.start_soon(write, session, room, member, ack_timeout, group.cancel_scope)
                group.start_soon(drop_when_too_slow, session, member, group.cancel_scope)
                group.start_soon(end_when_replaced, member, group.cancel_scope)
                await read(session, room, member)
                group.cancel_scope.cancel()
            if session.too_slow:
                member.reason = "too slow"
                code, reason = CloseCode.TRY_AGAIN_LATER, "too slow: messages were not read in time"
            elif member.replaced.is_set():
                code, reason = REPLACED, "replaced by a newer connection"
            elif ws.close_info is not None and ws.close_info.code == CloseCode.SERVICE_RESTART:
                member.grace = 0.0  # the server stops: the member leaves now
    except ConnectionClosed:
        pass
    except NicknameTaken:
        code, reason = NICKNAME_TAKEN, "nickname taken"
    except BrokerUnavailable:
        code, reason = CloseCode.TRY_AGAIN_LATER, "the room is unavailable right now"
    finally:
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):  # the peer may be gone or not reading
            await ws.close(code, reason)


def welcome(session: Session, room: Room, member: Member) -> Welcome:
    """The first event a member gets: its nickname, the protocol, and where in the room it starts."""
    events = member.events
    users = sorted(events.members(room.topic) | {member.nick})
    position = events.position(room.topic).token
    return Welcome(
        member.nick, session.protocol, ACK_EVERY, position, member.resumed, events.recovered, users, Stats(len(users))
    )


@dataclass(frozen=True)
class Joining:
    """What a client joins with: a nickname, its session secret, and where it left off."""

    nick: str
    session: str | None = None
    since: Position | None = None


class BadSince(Exception):
    """The client's ``since`` is not a position token."""


async def wait_for_join(session: Session, timeout: float) -> Joining | None:
    """The client's join, or None if it left, did not join within ``timeout`` or sent a bad ``since``."""
    with anyio.move_on_after(timeout):
        try:
            return await join_request(session)
        except ConnectionClosed:
            return None
        except BadSince:
            with anyio.move_on_after(CLOSE_TIMEOUT):
                await session.ws.close(CloseCode.POLICY_VIOLATION, "since: not a position")
            return None
    with anyio.move_on_after(CLOSE_TIMEOUT):
        await session.ws.close(CloseCode.POLICY_VIOLATION, "join first")
    return None


async def join_request(session: Session) -> Joining:
    """Read until a valid join arrives, answering anything else with an error event.

    A ``since`` that is not a position token gets an error event and raises BadSince: the client
    is broken or tampered with, and a page would only try again with the same token.
    """
    join_first = f'join first: {{"type": "join", "nick": 1-{MAX_NICK} characters}}'
    # One deadline for the whole join, however many bad messages come first.
    while True:
        try:
            message = await session.sock.receive()
        except DecodeError as error:
            if error.path == "$.since":
                await session.send(Error("join: since is not a position"))
                raise BadSince from None
            if error.path == "$.session":
                await session.send(Error(f"join: session must be {MIN_SESSION}-{MAX_SESSION} characters"))
            else:
                await session.send(Error(f"{join_first} ({error})"))
            continue
        if not isinstance(message, Join):
            await session.send(Error(join_first))
        elif message.since is None:
            return Joining(message.nick.strip(), message.session)
        else:
            try:
                return Joining(message.nick.strip(), message.session, Position.parse(message.since))
            except InvalidArgument:
                await session.send(Error("join: since is not a position"))
                raise BadSince from None


async def read(session: Session, room: Room, member: Member) -> None:
    """Relay the member's messages and take its acknowledgements until it leaves."""
    while True:
        try:
            message = await session.sock.receive()
        except DecodeError as error:
            await session.send(Error(str(error)))
            continue
        except ConnectionClosed:
            return
        match message:
            case Say(text=text):
                try:
                    await room.say(member, text)
                except BrokerUnavailable:
                    await session.send(Error("not sent: the room is unavailable right now"))
            case Ack(received=received):
                if not session.window.acknowledge(received):
                    await session.send(Error("ack: received must count the events received so far"))
            case Join():
                await session.send(
                    Error(f'joined already: expected {{"type": "message", "text": 1-{MAX_TEXT} characters}}')
                )
            case _:
                assert_never(message)


async def write(session: Session, room: Room, member: Member, ack_timeout: float, scope: anyio.CancelScope) -> None:
    """Send the member every room event, in order, while it keeps acknowledging them.

    A member that came back and got every event it missed gets ``{"type": "resumed", "missed": n}``
    right after them (``n``: how many were messages).
    """
    view = View()
    events = member.events
    # Events replayed before the live ones, still to send; -1 when no "resumed" note is due.
    replaying = events.replayed if member.resumed and events.recovered else -1
    missed = 0
    try:
        if replaying == 0:  # nothing was missed: say so now, and once
            replaying = -1
            if not await session.send_when_open(Resumed(0), ack_timeout):
                return
        async for event in events:
            shaped = room.frame(event, view, member, session.protocol)
            if replaying > 0:
                replaying -= 1
                if shaped is not None and isinstance(event, Message):
                    missed += 1
            if shaped is not None:
                if not await session.window.wait_open(ack_timeout):
                    session.too_slow = True
                    break
                await session.send_frame(shaped)
            if replaying == 0:
                replaying = -1
                if not await session.send_when_open(Resumed(missed), ack_timeout):
                    break
    except SlowSubscriber:
        session.too_slow = True
    except ConnectionClosed:
        pass
    finally:
        scope.cancel()


async def drop_when_too_slow(session: Session, member: Member, scope: anyio.CancelScope) -> None:
    """End the connection once the member's queue overflows, even while a send to it is stuck."""
    await member.events.wait_overflowed()
    session.too_slow = True
    scope.cancel()


async def end_when_replaced(member: Member, scope: anyio.CancelScope) -> None:
    """End the connection once a newer one of the same session takes the member over."""
    await member.replaced.wait()
    scope.cancel()
