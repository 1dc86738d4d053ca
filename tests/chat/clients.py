"""websockets clients that speak the chat's JSON protocol, for the chat tests."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

Event = dict[str, object]


async def join(url: str, nick: str, protocols: tuple[str, ...] = ("chat.v2", "chat.v1"),
               max_queue: int | None = 64) -> tuple[ClientConnection, Event]:
    """Connect, join as ``nick``, and return the connection with its welcome event."""
    client = await connect(url + "/ws", subprotocols=[Subprotocol(p) for p in protocols], open_timeout=10,
                           max_queue=max_queue)
    await client.send(orjson.dumps({"type": "join", "nick": nick}).decode())
    return client, await until(client, lambda event: event["type"] == "welcome")


async def next_event(client: ClientConnection, timeout: float = 10) -> Event:
    with anyio.fail_after(timeout):
        frame = await client.recv()
    event = orjson.loads(frame)
    assert isinstance(event, dict)
    return event


async def until(client: ClientConnection, wanted: Callable[[Event], bool], limit: int = 10_000) -> Event:
    """The first event ``wanted`` accepts, skipping others (bounded in count and by next_event's timeout)."""
    for _ in range(limit):
        event = await next_event(client)
        if wanted(event):
            return event
    raise AssertionError("no such event")


async def say(client: ClientConnection, text: str) -> None:
    await client.send(orjson.dumps({"type": "message", "text": text}).decode())
