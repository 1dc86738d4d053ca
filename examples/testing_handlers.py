"""Drive a handler with no server at all: simple_websocket.testing's in-memory pair.

``python -m examples.testing_handlers`` runs the check on asyncio and on trio.
"""

from __future__ import annotations

import anyio

from simple_websocket import Accept, WebSocketASGI
from simple_websocket.testing import memory_pair

from .quickstart import echo


async def check_echo() -> None:
    transport, client = memory_pair(subprotocols=["chat"])
    ws = WebSocketASGI.from_transport(transport, ["chat"])
    async with anyio.create_task_group() as group:
        await client.connect()
        await ws.open()
        assert await client.receive() == Accept("chat")
        group.start_soon(echo, ws)
        await client.send("hello")
        assert await client.receive() == "hello"
        await client.disconnect(1000)  # the handler's loop ends quietly on a normal close
    assert ws.close_info is not None and ws.close_info.by_peer
    client.close()


if __name__ == "__main__":
    for backend in ("asyncio", "trio"):
        anyio.run(check_echo, backend=backend)
        print(f"echo handler: ok on {backend}")
