"""Every error this package raises, in one tree.

.. code-block:: text

    SimpleWebSocketError               base: catch this to catch everything below
    ├── ConnectionClosed               the connection is over; carries close code, text, side
    │   ├── MessageTooBig              an incoming message exceeded max_message_size (1009)
    │   └── OriginRefused              the handshake's Origin is not allowed: refused with HTTP 403
    ├── PeerError (OSError)            the server or peer broke the ASGI contract
    │   ├── UnsupportedMessage         an ASGI message type this wrapper does not handle
    │   └── MalformedMessage           an ASGI message with a missing or ill-typed field
    ├── UsageError                     the caller misused the API
    │   ├── InvalidState (RuntimeError)     e.g. send() before accept, accept() twice
    │   ├── ConcurrencyError (RuntimeError) two tasks receiving at once
    │   ├── InvalidData (TypeError)         send() of something that is not str or bytes-like
    │   └── InvalidArgument (ValueError)    a close code, status or option out of range
    ├── HandshakeTimeout (TimeoutError) the peer did not ask to connect in time
    ├── CodecError (ValueError)        a codec could not turn an object into a frame or back
    │   ├── EncodeError                the object cannot be encoded
    │   └── DecodeError                the frame cannot be decoded; keeps the frame
    └── FanoutError                    the fan-out layer (simple_websocket.fanout)
        ├── BrokerUnavailable (OSError)     the broker did not answer within publish_timeout
        └── SlowSubscriber                  a subscriber fell max_backlog events behind

Errors from the peer's side (``ConnectionClosed``, ``PeerError``) and from the fan-out layer
(``BrokerUnavailable``, ``SlowSubscriber``) are the ones an application handles at run time;
``UsageError`` means the calling code needs fixing.
"""

from __future__ import annotations

from ._close_code import CloseCode

__all__ = [
    "BrokerUnavailable",
    "CodecError",
    "ConcurrencyError",
    "ConnectionClosed",
    "DecodeError",
    "EncodeError",
    "FanoutError",
    "HandshakeTimeout",
    "InvalidArgument",
    "InvalidData",
    "InvalidState",
    "MalformedMessage",
    "MessageTooBig",
    "OriginRefused",
    "PeerError",
    "SimpleWebSocketError",
    "SlowSubscriber",
    "UnsupportedMessage",
    "UsageError",
]

#: Close codes that mean the connection ended as intended.
NORMAL_CLOSE_CODES = frozenset({CloseCode.NORMAL_CLOSURE, CloseCode.GOING_AWAY})


class SimpleWebSocketError(Exception):
    """Base class of every error raised by simple_websocket."""


class ConnectionClosed(SimpleWebSocketError):
    """The connection is closed: no more messages can be sent or received.

    ``code`` is the close code (compare it with ``CloseCode`` members), ``message`` the close
    text ('' when none was given) and ``by_peer`` tells whether the peer (True) or this side
    (False) ended the connection. ``CloseCode.NO_STATUS_RCVD`` (1005) means no code was
    given, ``CloseCode.ABNORMAL_CLOSURE`` (1006) that the connection was lost without a close
    frame. ``reason`` is the same close code under simple-websocket's name for it.
    """

    def __init__(self, code: int = CloseCode.NO_STATUS_RCVD, message: str = "", *, by_peer: bool = True) -> None:
        self.code = code
        self.message = message
        self.by_peer = by_peer
        side = "peer" if by_peer else "application"
        text = f" {message!r}" if message else ""
        super().__init__(f"connection closed by the {side}: {int(code)}{text}")

    @property
    def reason(self) -> int:
        """The close code, as simple-websocket's ``ConnectionClosed.reason`` names it; prefer ``code``."""
        return self.code

    @property
    def normal(self) -> bool:
        """True for a normal closure (1000 or 1001), False for anything else."""
        return self.code in NORMAL_CLOSE_CODES


class MessageTooBig(ConnectionClosed):
    """An incoming message was larger than ``max_message_size``; the connection was closed with 1009.

    ``code`` is ``CloseCode.MESSAGE_TOO_BIG``; ``size`` and ``limit`` are in bytes.
    """

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        message = f"message of {size} bytes exceeds the limit of {limit}"
        super().__init__(CloseCode.MESSAGE_TOO_BIG, message, by_peer=False)


class OriginRefused(ConnectionClosed):
    """The handshake came from a page whose origin is not allowed; it was refused with HTTP 403.

    ``origin`` is the ``Origin`` header as sent (None when there was none). Nothing was accepted:
    end the connection's code here.
    """

    def __init__(self, origin: str | None) -> None:
        self.origin = origin
        super().__init__(1008, f"origin not allowed: {origin!r:.100}", by_peer=False)


class PeerError(SimpleWebSocketError, OSError):
    """The ASGI server (or whatever stands for the peer) sent something this wrapper cannot use."""


class UnsupportedMessage(PeerError):
    """An ASGI message whose ``type`` this wrapper does not handle at this point."""

    def __init__(self, message_type: str) -> None:
        self.message_type = message_type
        super().__init__(f"unsupported ASGI message type {message_type!r}")


class MalformedMessage(PeerError):
    """An ASGI message that is not a mapping or lacks a well-typed field it needs."""


class UsageError(SimpleWebSocketError):
    """The calling code used the API in a way it does not allow; fix the caller."""


class InvalidState(UsageError, RuntimeError):
    """The call does not fit the connection's state, e.g. send() before the connection is accepted."""


class ConcurrencyError(UsageError, RuntimeError):
    """Two tasks tried to receive at the same time; let one task own receive()."""


class InvalidData(UsageError, TypeError):
    """send() was given something other than str (text frame) or bytes-like (binary frame)."""


class InvalidArgument(UsageError, ValueError):
    """An argument is out of range, e.g. a close code that cannot be sent."""


class HandshakeTimeout(SimpleWebSocketError, TimeoutError):
    """The peer did not ask to open the WebSocket within the given time."""


class CodecError(SimpleWebSocketError, ValueError):
    """A codec failed to turn an object into a frame, or a frame into an object."""


class EncodeError(CodecError):
    """The object cannot be encoded by this codec."""


class DecodeError(CodecError):
    """The frame cannot be decoded; ``data`` keeps it so that nothing is lost.

    ``path`` says where in the message a typed codec found what does not fit, as a JSONPath
    (``$.users[2].name``; ``$`` for the message itself), or None when the frame is not even
    well-formed.
    """

    def __init__(self, message: str, data: str | bytes, *, path: str | None = None) -> None:
        self.data = data
        self.path = path
        super().__init__(message)


class FanoutError(SimpleWebSocketError):
    """Base class of the fan-out layer's errors (``simple_websocket.fanout``)."""


class BrokerUnavailable(FanoutError, OSError):
    """The broker could not be reached in time; what was being published was not published."""


class SlowSubscriber(FanoutError):
    """A subscriber let ``max_backlog`` events pile up and its subscription ended (overflow ``"end"``).

    Close its WebSocket with 1013 (try again later) and let the client reconnect.
    """

    def __init__(self, max_backlog: int) -> None:
        self.max_backlog = max_backlog
        super().__init__(f"the subscriber fell {max_backlog} events behind; its subscription ended")
