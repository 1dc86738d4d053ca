"""Starlette + broadcaster (Redis pub/sub), as broadcaster's README chat example writes it.

    FANOUT_REDIS_URL=redis://127.0.0.1:6379/0 uvicorn bench.broadcast_apps.broadcaster_app:app

Each connection runs a receiver, which publishes every text it gets to the room's channel, and a
sender, which subscribes to the channel and sends every event to the client; whichever ends first
ends the other. Two changes to the README: the room comes from the path (``/rooms/{name}``), and
the app uses a lifespan instead of ``on_startup``/``on_shutdown``, which Starlette 1.0 removed.

The one fix: as released (0.3.1, with redis-py 8), ``RedisBackend.subscribe`` wakes its listener
before Redis has confirmed the subscription; redis-py's ``listen()`` then ends at once (nothing is
subscribed yet), the listener clears its ready flag and never listens again, so no client ever gets
a message. ``ConfirmedRedisBackend`` sets the flag once the subscription is confirmed, as
``bench.fanout.broadcast()`` does; nothing else changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

import anyio
from broadcaster import Broadcast, Event
from broadcaster._backends.redis import RedisBackend
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from . import redis_url


class ConfirmedRedisBackend(RedisBackend):
    """broadcaster's Redis backend, listening only once Redis has confirmed the subscription."""

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._ready.set()


broadcast = Broadcast(backend=ConfirmedRedisBackend(redis_url()))


async def chatroom_ws(websocket: WebSocket) -> None:
    await websocket.accept()
    channel = websocket.path_params["name"]

    async with anyio.create_task_group() as task_group:
        # run until first is complete
        async def run_chatroom_ws_receiver() -> None:
            await chatroom_ws_receiver(websocket, channel)
            task_group.cancel_scope.cancel()

        task_group.start_soon(run_chatroom_ws_receiver)
        await chatroom_ws_sender(websocket, channel)


async def chatroom_ws_receiver(websocket: WebSocket, channel: str) -> None:
    async for message in websocket.iter_text():
        await broadcast.publish(channel=channel, message=message)


async def chatroom_ws_sender(websocket: WebSocket, channel: str) -> None:
    async with broadcast.subscribe(channel=channel) as subscriber:
        # broadcaster annotates Subscriber.__aiter__ as "AsyncGenerator[Event | None] | None"; it yields Events
        async for event in cast("AsyncIterator[Event]", subscriber):
            await websocket.send_text(event.message)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await broadcast.connect()
    try:
        yield
    finally:
        await broadcast.disconnect()


routes = [WebSocketRoute("/rooms/{name}", chatroom_ws, name="chatroom_ws")]

app = Starlette(routes=routes, lifespan=lifespan)
