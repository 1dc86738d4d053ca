"""The app every server runs for the soak suite: the path picks the scenario.

Each WebSocket handler counts itself while it runs and, when it ends, adds how it ended to
``outcomes`` under the ``?tag=`` the client chose. ``GET /stats`` (plain HTTP, so that asking
creates no connection object) answers with those counts, the connection objects still alive
after a garbage collection and the resident memory of the process that runs the app.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

import anyio
import orjson

from simple_websocket import (
    ASGIApp,
    ASGIReceive,
    ASGISend,
    ConnectionClosed,
    DecodeError,
    MessageTooBig,
    Scope,
    WebSocketASGI,
    websocket_app,
)
from simple_websocket.codecs import CodecSocket, JSONCodec

Send = Callable[[dict[str, object]], Awaitable[None]]

MAX_MESSAGE_SIZE = 1024
"""The size limit of ``/limited``."""
CLOSE_TIMEOUT = 1.0
"""websocket_app's close_timeout for ``/close-unanswered``: how long closing may take."""
CANCEL_AFTER = 1.0
"""How long ``/cancel-send``'s victim may send before its cancel scope ends it."""
VICTIM_MESSAGES = 2_000
FAIR_SENDERS = 2
FAIR_MESSAGES = 50
PADDING = 16_384
UNREAD_LIMIT = 32 * 1024 * 1024
"""How much ``/unread`` sends to a client that does not read before it gives up."""
UNREAD_CHUNK = 65_536
UNREAD_STALL = 1.0
"""``/unread`` stops once one send has blocked for this long."""

running = 0
"""Handlers running now."""
outcomes: dict[str, Counter[str]] = {}
"""tag -> how the handlers of that tag ended -> how many."""
notes: dict[str, list[float]] = {}
"""tag -> numbers the handlers of that tag measured (see each handler)."""


def tag_of(ws: WebSocketASGI) -> str:
    return parse_qs(ws.request.query_string.decode()).get("tag", [""])[0]


def counted(handler: Callable[[WebSocketASGI], Awaitable[str]]) -> Callable[[WebSocketASGI], Awaitable[None]]:
    """Count the handler while it runs; record what it returned, or the exception that ended it."""

    async def run(ws: WebSocketASGI) -> None:
        global running
        running += 1
        outcome = "cancelled"
        try:
            outcome = await handler(ws)
        except ConnectionClosed:
            outcome = "ConnectionClosed"
            raise
        except Exception as error:
            outcome = type(error).__name__
            raise
        finally:
            running -= 1
            outcomes.setdefault(tag_of(ws), Counter())[outcome] += 1

    return run


async def until_closed(ws: WebSocketASGI) -> str:
    """Echo everything; the peer's leaving, however it leaves, raises ConnectionClosed."""
    while True:
        await ws.send(await ws.receive())


async def json_until_closed(ws: WebSocketASGI) -> str:
    """Echo JSON objects through CodecSocket; answer a frame that is not JSON with an error object."""
    sock = CodecSocket(ws, JSONCodec())
    while True:
        try:
            obj = await sock.receive()
        except DecodeError:
            await sock.send({"error": "invalid JSON"})
            continue
        await sock.send(obj)


async def limited(ws: WebSocketASGI) -> str:
    """Echo until a message over MAX_MESSAGE_SIZE closes the connection with 1009."""
    try:
        await until_closed(ws)
    except MessageTooBig:
        return "MessageTooBig"
    return "returned"


async def receive_with_timeouts(ws: WebSocketASGI) -> str:
    """Echo with a receive timeout so short that most receives are cancelled; count the timeouts."""
    timeouts = 0
    try:
        while True:
            message = await ws.receive(timeout=0.001)
            if message is None:
                timeouts += 1
            else:
                await ws.send(message)
    finally:
        notes.setdefault(tag_of(ws), []).append(timeouts)


async def cancel_send(ws: WebSocketASGI) -> str:
    """One sender cancelled by a cancel scope while others wait for their turn (the client is not reading).

    The victim sends ``V:i`` messages until CANCEL_AFTER ends its scope (or it sent them all);
    FAIR_SENDERS others, outside that scope, send FAIR_MESSAGES each (``S<n>:i``). Then ``end
    <state> <victim's count> <cancelled>``: the client checks that nothing was cut, lost or
    reordered, and that the others all got through.
    """
    padding = "x" * PADDING
    victim_sent = 0

    async def fair(number: int) -> None:
        for index in range(FAIR_MESSAGES):
            await ws.send(f"S{number}:{index}:{padding}")

    async with anyio.create_task_group() as group:
        for number in range(FAIR_SENDERS):
            group.start_soon(fair, number)
        with anyio.move_on_after(CANCEL_AFTER) as scope:
            for index in range(VICTIM_MESSAGES):
                await ws.send(f"V:{index}:{padding}")
                victim_sent += 1
    await ws.send(f"end {ws.state.value} {victim_sent} {scope.cancelled_caught}")
    await ws.receive()  # the client says when it has read everything
    return "returned"


async def fill(ws: WebSocketASGI) -> int:
    """Send to a client that does not read until a send stalls or UNREAD_LIMIT is sent; return how much."""
    chunk = b"x" * UNREAD_CHUNK
    sent = 0
    while sent < UNREAD_LIMIT:
        with anyio.move_on_after(UNREAD_STALL) as scope:
            await ws.send(chunk)
        if scope.cancelled_caught:
            break
        sent += len(chunk)
    return sent


async def close_unanswered(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    """Return from the handler at the client's word, ``?fill=1`` after filling its buffers first.

    websocket_app then closes, and this client never answers the close (nor reads, with fill):
    how long the app took from the handler's return to its own end goes into ``notes``.
    """
    returned: list[float] = []

    async def handler(ws: WebSocketASGI) -> str:
        await ws.receive()
        if parse_qs(ws.request.query_string.decode()).get("fill"):
            await fill(ws)
        returned.append(time.monotonic())
        return "returned"

    await websocket_app(counted(handler), close_timeout=CLOSE_TIMEOUT)(scope, receive, send)
    if returned:
        query = scope.get("query_string")
        tag = parse_qs(query.decode() if isinstance(query, bytes) else "").get("tag", [""])[0]
        notes.setdefault(tag, []).append(time.monotonic() - returned[0])


async def unread(ws: WebSocketASGI) -> str:
    """At the client's word, send to it (it does not read) until a send stalls; report how much."""
    await ws.receive()
    notes.setdefault(tag_of(ws), []).append(await fill(ws))
    return "returned"


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def stats() -> dict[str, object]:
    gc.collect()
    # Hand freed heap pages back to the system, so that RSS counts what is held rather than what
    # glibc's allocator keeps around after the last burst of connections.
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
    alive = sum(1 for obj in gc.get_objects() if isinstance(obj, WebSocketASGI))
    with open("/proc/self/statm", "rb") as statm:
        rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return {
        "running": running,
        "alive": alive,
        "rss": rss,
        "pid": os.getpid(),
        "outcomes": {tag: dict(counts) for tag, counts in outcomes.items()},
        "notes": notes,
    }


ROUTES: dict[str, ASGIApp] = {
    "/echo": websocket_app(counted(until_closed)),
    "/json": websocket_app(counted(json_until_closed)),
    "/limited": websocket_app(counted(limited), max_message_size=MAX_MESSAGE_SIZE),
    "/receive-timeouts": websocket_app(counted(receive_with_timeouts)),
    "/cancel-send": websocket_app(counted(cancel_send)),
    "/close-unanswered": close_unanswered,
    "/unread": websocket_app(counted(unread)),
}


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    path = scope.get("path")
    kind = scope["type"]
    if kind == "websocket":
        await ROUTES.get(path if isinstance(path, str) else "", ROUTES["/echo"])(scope, receive, send)
    elif kind == "http":
        body = orjson.dumps(stats()) if path == "/stats" else b"not found"
        await send(
            {
                "type": "http.response.start",
                "status": 200 if path == "/stats" else 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
    elif kind == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
