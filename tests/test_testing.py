"""simple_websocket.testing on its own: what the in-memory transport does at the edges of a connection."""

from __future__ import annotations

import anyio
import pytest

from simple_websocket import Connect, Disconnect, MalformedMessage
from simple_websocket.testing import ReceiveAfterDisconnect, memory_pair

pytestmark = pytest.mark.anyio


async def test_receive_after_the_disconnect_is_an_error_not_a_hang() -> None:
    transport, client = memory_pair()
    with client:
        await client.connect()
        await client.disconnect(1001, "bye")
        seen = [(transport.parse(await transport.receive()), transport.disconnected) for _ in range(2)]
        assert seen == [(Connect(), False), (Disconnect(1001, "bye"), True)]
        with pytest.raises(ReceiveAfterDisconnect):
            await transport.receive()


@pytest.mark.parametrize("item", [None, 42, {"type": "websocket.receive", "text": "dict"}, Disconnect])
async def test_anything_but_an_event_is_malformed(item: object) -> None:
    transport, client = memory_pair()
    with client:
        await client.send_raw(item)
        with pytest.raises(MalformedMessage, match="not an inbound event"):
            transport.parse(await transport.receive())
        assert not transport.disconnected


async def test_sends_after_the_disconnect_raise_unless_silent() -> None:
    transport, client = memory_pair()
    with client:
        await client.disconnect()
        transport.parse(await transport.receive())
        with pytest.raises(anyio.BrokenResourceError):
            await transport.send("too late")

    transport, client = memory_pair(silent_after_disconnect=True)
    with client:
        await transport.send("before")
        assert client.receive_nowait() == "before"
        await client.disconnect()
        transport.parse(await transport.receive())
        await transport.send("dropped")  # as daphne, granian and hypercorn do
        await transport.send(b"dropped too")


async def test_scope_defaults_to_a_websocket_scope_offering_the_subprotocols() -> None:
    transport, client = memory_pair(subprotocols=["chat", "echo"])
    with client:
        assert transport.scope == {"type": "websocket", "path": "/", "headers": [], "subprotocols": ["chat", "echo"]}
    scope = {"type": "websocket", "path": "/given"}
    transport, client = memory_pair(scope)
    with client:
        assert transport.scope is scope
