"""Typed events that a Transport carries between the peer and WebSocketASGI.

A data message is its own event: ``str`` for a text frame, ``bytes`` for a binary frame, so
the message path allocates nothing beyond the payload. Everything else is a small frozen class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .typing import Headers


@dataclass(frozen=True, slots=True)
class Connect:
    """The peer asks to open the WebSocket; answer with Accept, Close or Deny."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """The peer is gone. ``code`` is 1005 when it gave none, 1006 when the connection dropped."""

    code: int = 1005
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Accept:
    """Open the WebSocket, optionally with a subprotocol and extra response headers."""

    subprotocol: str | None = None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class Close:
    """Close the WebSocket (or refuse it with 403 before it is open).

    ``code`` is stored as a plain ``int`` even when given as a ``CloseCode``: some servers
    (daphne) refuse int subclasses.
    """

    code: int = 1000
    reason: str = ""

    def __post_init__(self) -> None:
        if type(self.code) is not int:
            object.__setattr__(self, "code", int(self.code))


@dataclass(frozen=True, slots=True)
class Deny:
    """Refuse the WebSocket with an HTTP response; transports without that ability close with 403."""

    status: int = 403
    headers: Headers = ()
    body: bytes = b""


InboundEvent: TypeAlias = Connect | Disconnect | str | bytes
"""What the peer can send: a request to connect, a message, or its departure."""

OutboundEvent: TypeAlias = Accept | Close | Deny | str | bytes
"""What the application can send: an answer to Connect, a message, or a close."""
