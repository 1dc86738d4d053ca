"""The Transport protocol: what WebSocketASGI needs from whatever carries its messages."""

from __future__ import annotations

from collections.abc import Awaitable

from typing_extensions import Protocol

from ._events import InboundEvent, OutboundEvent
from .typing import Scope


class Transport(Protocol):
    """Carries one WebSocket connection's events between WebSocketASGI and the peer.

    Receiving is split in two so that WebSocketASGI awaits the peer directly, with no
    coroutine of the transport's own on the per-message path: ``receive()`` waits for the
    peer's next item in the transport's own form, and ``parse()`` reads that item as a
    typed event (or raises ``PeerError`` if it cannot).

    ``send()`` takes one event and returns the awaitable that delivers it. When the peer is
    gone, that awaitable may raise ``OSError``, ``RuntimeError`` or an anyio stream error (as
    ASGI servers do) or complete silently; WebSocketASGI turns the errors into
    ``ConnectionClosed``.
    """

    @property
    def scope(self) -> Scope:
        """The ASGI scope of the request that opened this connection."""
        ...

    def receive(self) -> Awaitable[object]:
        """Wait for the peer's next item; pass it to parse()."""
        ...

    def parse(self, item: object, /) -> InboundEvent:
        """Read one item from receive() as a typed event."""
        ...

    def send(self, event: OutboundEvent, /) -> Awaitable[object]:
        """Deliver one event to the peer."""
        ...
