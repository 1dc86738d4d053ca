"""Drive a WebSocketASGI with no server: an in-memory transport and the client that feeds it.

.. code-block:: python

    transport, client = memory_pair(subprotocols=["chat"])
    async with anyio.create_task_group() as tg:
        tg.start_soon(handler, WebSocketASGI.from_transport(transport, ["chat"]))
        await client.connect()
        assert isinstance(await client.receive(), Accept)
        await client.send("hello")
        ...
        await client.disconnect(1000)

Works on every anyio backend (asyncio and trio).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Mapping, Sequence

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from typing_extensions import Self

from ._events import Connect, Disconnect, InboundEvent, OutboundEvent
from .exceptions import MalformedMessage
from .typing import Data, Scope

__all__ = ["MemoryClient", "MemoryTransport", "ReceiveAfterDisconnect", "memory_pair"]


class ReceiveAfterDisconnect(AssertionError):
    """The application asked for another event after the peer's Disconnect; real servers may hang here."""


class MemoryTransport:
    """The application's side of an in-memory connection; pass it to WebSocketASGI.from_transport()."""

    __slots__ = ("_inbound", "_outbound", "_scope", "_silent", "disconnected")

    def __init__(
        self,
        scope: Scope,
        inbound: MemoryObjectReceiveStream[object],
        outbound: MemoryObjectSendStream[OutboundEvent],
        silent_after_disconnect: bool,
    ) -> None:
        self._scope = scope
        self._inbound = inbound
        self._outbound = outbound
        self._silent = silent_after_disconnect
        self.disconnected: bool = False
        """True once the application has been handed the peer's Disconnect."""

    def close(self) -> None:
        """Release the application's ends of the pair."""
        self._inbound.close()
        self._outbound.close()

    @property
    def scope(self) -> Scope:
        """The scope given to memory_pair()."""
        return self._scope

    def receive(self) -> Awaitable[object]:
        """Wait for the client's next item."""
        if self.disconnected:
            raise ReceiveAfterDisconnect("receive() called again after the peer's Disconnect")
        return self._inbound.receive()

    def parse(self, item: object, /) -> InboundEvent:
        """Items are events already; anything else the client injected is malformed."""
        if isinstance(item, Disconnect):
            self.disconnected = True
            return item
        if isinstance(item, (Connect, str, bytes)):
            return item
        raise MalformedMessage(f"not an inbound event: {item!r:.100}")

    def send(self, event: OutboundEvent, /) -> Awaitable[object]:
        """Hand ``event`` to the client; after its departure raise, or drop it if silent."""
        if self.disconnected and self._silent:
            return anyio.sleep(0)
        return self._outbound.send(event)


class MemoryClient:
    """The peer's side of an in-memory connection, driven by a test."""

    __slots__ = ("_inbound", "_outbound", "_transport")

    def __init__(
        self,
        inbound: MemoryObjectSendStream[object],
        outbound: MemoryObjectReceiveStream[OutboundEvent],
        transport: MemoryTransport,
    ) -> None:
        self._inbound = inbound
        self._outbound = outbound
        self._transport = transport

    def close(self) -> None:
        """Release both ends of the pair; call it when the test is done (or use ``with``)."""
        self._inbound.close()
        self._outbound.close()
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def connect(self) -> None:
        """Ask to open the WebSocket."""
        await self._inbound.send(Connect())

    async def send(self, data: Data) -> None:
        """Send one message: str as text, bytes as binary."""
        await self._inbound.send(data)

    async def send_raw(self, item: object) -> None:
        """Send anything at all, to test how the application copes with it."""
        await self._inbound.send(item)

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        """Leave, as a client closing with ``code`` and ``reason`` (1006 for a dropped connection)."""
        await self._inbound.send(Disconnect(code, reason))
        self._outbound.close()

    async def receive(self) -> OutboundEvent:
        """The next event the application sent: Accept, Close, Deny, str or bytes."""
        return await self._outbound.receive()

    def receive_nowait(self) -> OutboundEvent:
        """The next event the application sent, or anyio.WouldBlock if there is none yet."""
        return self._outbound.receive_nowait()


def memory_pair(
    scope: Mapping[str, object] | None = None,
    *,
    subprotocols: Sequence[str] = (),
    max_buffer: float = math.inf,
    silent_after_disconnect: bool = False,
) -> tuple[MemoryTransport, MemoryClient]:
    """Make a connected transport and client.

    ``scope`` defaults to a minimal WebSocket scope offering ``subprotocols``. ``max_buffer``
    bounds what the application may send ahead of the client's reading (sends then wait).
    ``silent_after_disconnect`` makes sends after the client left succeed silently, as some
    servers do, instead of raising.
    """
    if scope is None:
        scope = {"type": "websocket", "path": "/", "headers": [], "subprotocols": list(subprotocols)}
    to_app_send, to_app_receive = anyio.create_memory_object_stream[object](math.inf)
    to_client_send, to_client_receive = anyio.create_memory_object_stream[OutboundEvent](max_buffer)
    transport = MemoryTransport(scope, to_app_receive, to_client_send, silent_after_disconnect)
    return transport, MemoryClient(to_app_send, to_client_receive, transport)
