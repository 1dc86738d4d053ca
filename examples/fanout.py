"""Rooms across processes: what one client sends reaches every client of the same room, whichever
process or worker serves it.

    uvicorn examples.fanout:app                                            # one process, rooms in memory
    FANOUT_REDIS_URL=redis://127.0.0.1:6379/0 uvicorn examples.fanout:app --workers 4

Connect to ``ws://127.0.0.1:8000/rooms/<name>`` and send JSON: everyone in ``<name>`` gets it,
after the room's last ten messages.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import anyio

from simple_websocket import ASGIReceive, CloseCode, Scope, WebSocketASGI, websocket_app
from simple_websocket.codecs import CodecSocket, JSONCodec
from simple_websocket.fanout import Broker, Gap, Message, RedisBackend, Subscription

Send = Callable[[dict[str, object]], Awaitable[None]]

REDIS_URL = os.environ.get("FANOUT_REDIS_URL")
broker = Broker(RedisBackend(REDIS_URL) if REDIS_URL else None)  # Broker() keeps rooms in this process
codec = JSONCodec()


async def lifespan(receive: ASGIReceive, send: Send) -> None:
    """The broker runs for the worker's life: one connection to Redis, shared by every client."""
    async with broker:
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
    await send({"type": "lifespan.shutdown.complete"})


async def room(ws: WebSocketASGI) -> None:
    """Relay this client's messages to its room, and the room's to this client."""
    name = ws.request.path.removeprefix("/rooms/")
    sock = CodecSocket(ws, codec)
    # At most 100 events wait for this client; past that it is too slow and the subscription ends.
    subscription = broker.subscribe(name, history=10, max_backlog=100, codec=codec)
    async with subscription as events, anyio.create_task_group() as group:
        group.start_soon(forward, events, sock, group.cancel_scope)
        async for obj in sock:
            await broker.publish(name, codec.encode(obj))
        group.cancel_scope.cancel()


async def forward(events: Subscription[object], sock: CodecSocket[object], done: anyio.CancelScope) -> None:
    """Send the room's events to the client; close with 1013 if it falls behind, even mid-send."""
    async with anyio.create_task_group() as group:
        group.start_soon(close_when_too_slow, events, sock, done)
        async for event in events:
            if isinstance(event, Message):  # event.data: the object, decoded once per process
                await sock.socket.send(event.frame)  # the frame as published: no codec call
            elif isinstance(event, Gap):  # only after a long broker outage: say what was missed
                await sock.send({"missed": event.missed})
        group.cancel_scope.cancel()


async def close_when_too_slow(events: Subscription[object], sock: CodecSocket[object], done: anyio.CancelScope) -> None:
    await events.wait_overflowed()
    done.cancel()
    with anyio.move_on_after(5, shield=True):
        await sock.close(CloseCode.TRY_AGAIN_LATER, "too slow")


rooms = websocket_app(room)


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    else:
        await rooms(scope, receive, send)  # WebSocket connections; HTTP gets 426 Upgrade Required
