"""simple_websocket: one simple, typed WebSocket object for any ASGI application.

.. code-block:: python

    async def app(scope, receive, send):
        ws = await WebSocketASGI.accept(scope, receive, send)
        async for message in ws:          # str for text frames, bytes for binary frames
            await ws.send(message)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# First, so that this package's modules know this __init__.py is theirs (see _beside.py).
__simple_websocket_asgi__ = True

from ._app import WebSocketApp, websocket_app
from ._asgi import ASGITransport
from ._beside import bridge_if_there as _bridge_if_there
from ._close_code import CloseCode
from ._events import Accept, Close, Connect, Deny, Disconnect, InboundEvent, OutboundEvent
from ._origin import SAME_ORIGIN, Origins, OriginsLike
from ._request import Request
from ._transport import Transport
from ._websocket import ConnectionState, WebSocketASGI
from .exceptions import (
    BrokerUnavailable,
    CodecError,
    ConcurrencyError,
    ConnectionClosed,
    DecodeError,
    EncodeError,
    FanoutError,
    HandshakeTimeout,
    InvalidArgument,
    InvalidData,
    InvalidState,
    MalformedMessage,
    MessageTooBig,
    OriginRefused,
    PeerError,
    SimpleWebSocketError,
    SlowSubscriber,
    UnsupportedMessage,
    UsageError,
)
from .typing import ASGIApp, ASGIReceive, ASGISend, Data, Handler, Headers, HeadersLike, Scope

__all__ = [
    "ASGIApp",
    "ASGIReceive",
    "ASGISend",
    "ASGITransport",
    "Accept",
    "BrokerUnavailable",
    "Close",
    "CloseCode",
    "CodecError",
    "ConcurrencyError",
    "Connect",
    "ConnectionClosed",
    "ConnectionState",
    "Data",
    "DecodeError",
    "Deny",
    "Disconnect",
    "EncodeError",
    "FanoutError",
    "Handler",
    "HandshakeTimeout",
    "Headers",
    "HeadersLike",
    "InboundEvent",
    "InvalidArgument",
    "InvalidData",
    "InvalidState",
    "MalformedMessage",
    "MessageTooBig",
    "OriginRefused",
    "Origins",
    "OriginsLike",
    "OutboundEvent",
    "PeerError",
    "Request",
    "SAME_ORIGIN",
    "Scope",
    "SimpleWebSocketError",
    "SlowSubscriber",
    "Transport",
    "UnsupportedMessage",
    "UsageError",
    "WebSocketASGI",
    "WebSocketApp",
    "websocket_app",
]

__version__ = "0.1.0"


_bridge_if_there()  # simple-websocket's modules, where pip put them in this folder too (_beside.py)

if not TYPE_CHECKING:  # for type checkers, the module has exactly the names above

    def __getattr__(name: str) -> object:
        """simple-websocket's names (``Server``, ``Client``...) where it is installed beside this package."""
        from ._beside import theirs

        return theirs(name)


del TYPE_CHECKING
