"""websockets clients that speak the chat's JSON protocol, acknowledgements included, for the chat tests."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

Event = dict[str, object]


class Chatter:
    """One chat client: counts the events it reads and acknowledges them as the welcome asks."""

    def __init__(self, connection: ClientConnection, *, acknowledge: bool = True) -> None:
        self.connection = connection
        self.acknowledge = acknowledge
        self.received = 0
        self.acked = 0
        self.ack_every = 16

    @property
    def subprotocol(self) -> str | None:
        return self.connection.subprotocol

    async def next_event(self, timeout: float = 10) -> Event:
        with anyio.fail_after(timeout):
            frame = await self.connection.recv()
        self.received += 1
        event = orjson.loads(frame)
        assert isinstance(event, dict)
        if event.get("type") == "welcome" and isinstance(event.get("ack"), int):
            self.ack_every = event["ack"]
        if self.acknowledge and self.received - self.acked >= self.ack_every:
            self.acked = self.received
            await self.send({"type": "ack", "received": self.received})
        return event

    async def until(self, wanted: Callable[[Event], bool], limit: int = 10_000) -> Event:
        """The first event ``wanted`` accepts, skipping others (bounded in count and by next_event's timeout)."""
        for _ in range(limit):
            event = await self.next_event()
            if wanted(event):
                return event
        raise AssertionError("no such event")

    async def drain(self) -> None:
        """Read and acknowledge everything until the connection closes, as a page does in the background."""
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await self.next_event(timeout=3600)
        except ConnectionClosed:
            pass

    async def send(self, obj: object) -> None:
        await self.connection.send(orjson.dumps(obj).decode())

    async def say(self, text: str) -> None:
        await self.send({"type": "message", "text": text})

    async def close(self) -> None:
        await self.connection.close()


async def join(
    url: str, nick: str, protocols: tuple[str, ...] = ("chat.v2", "chat.v1"), max_queue: int | None = 64
) -> tuple[Chatter, Event]:
    """Connect, join as ``nick``, and return the client with its welcome event."""
    connection = await connect(
        url + "/ws", subprotocols=[Subprotocol(p) for p in protocols], open_timeout=10, max_queue=max_queue
    )
    client = Chatter(connection)
    await client.send({"type": "join", "nick": nick})
    return client, await client.until(lambda event: event["type"] == "welcome")


def is_message(event: Event) -> bool:
    return event["type"] == "message"
