"""A feed that a client resumes after a reconnect, with nothing lost or shown twice.

    FANOUT_REDIS_URL=redis://127.0.0.1:6379/0 uvicorn examples.resume:app --workers 2

Connect to ``ws://127.0.0.1:8000/feed/<topic>``. The first frame says where you are
(``{"pos": "<token>", "recovered": null}``); then each message comes as ``{"pos": "<token>",
"data": <what was published>}``. Send JSON to publish it. Keep the last ``pos`` you got and
reconnect with ``?since=<pos>``: you get every message you missed, then the live ones
(``"recovered": true``), or, when the broker no longer has them all, one ``{"gap": "<why>",
"missed": n}`` frame first (``"recovered": false``).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import anyio
import orjson

from simple_websocket import ASGIReceive, CloseCode, InvalidArgument, Scope, WebSocketASGI, websocket_app
from simple_websocket.codecs import CodecSocket, JSONCodec
from simple_websocket.fanout import Broker, Gap, Message, Position, RedisBackend, Subscription

Send = Callable[[dict[str, object]], Awaitable[None]]

REDIS_URL = os.environ.get("FANOUT_REDIS_URL")
broker = Broker(RedisBackend(REDIS_URL, retention=10_000) if REDIS_URL else None)
codec = JSONCodec()


async def feed(ws: WebSocketASGI) -> None:
    """Resume the client after its ``since`` position, then relay both ways."""
    topic = ws.request.path.removeprefix("/feed/")
    token = dict(ws.request.query).get("since")
    try:
        since = None if token is None else Position.parse(token)  # a client's token: checked here
    except InvalidArgument:
        await ws.close(CloseCode.POLICY_VIOLATION, "since: not a position")
        return
    async with broker.subscribe(topic, since=since, max_backlog=1000) as events, anyio.create_task_group() as group:
        start = {"pos": events.position(topic).token, "recovered": events.recovered}
        await ws.send(orjson.dumps(start).decode())
        group.start_soon(relay, events, ws)
        async for obj in CodecSocket(ws, codec):
            await broker.publish(topic, codec.encode(obj))
        group.cancel_scope.cancel()


async def relay(events: Subscription, ws: WebSocketASGI) -> None:
    """Each message with its position; the published JSON text is sent as it is, not decoded."""
    async for event in events:
        if isinstance(event, Message):
            await ws.send(f'{{"pos": "{event.position.token}", "data": {event.data!s}}}')
        elif isinstance(event, Gap):
            await ws.send(
                orjson.dumps({"pos": event.position.token, "gap": event.cause, "missed": event.missed}).decode()
            )


feeds = websocket_app(feed)


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    if scope["type"] != "lifespan":
        await feeds(scope, receive, send)
        return
    async with broker:  # one broker per worker, for its whole life
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
    await send({"type": "lifespan.shutdown.complete"})
