"""CloseCode: the close codes of RFC 6455 and the IANA WebSocket registry, by name."""

from __future__ import annotations

from enum import IntEnum

from ._beside import ensure_ours

ensure_ours()  # the __init__.py installed is this package's, not simple-websocket's

__all__ = ["CloseCode"]


class CloseCode(IntEnum):
    """A WebSocket close code, usable wherever an ``int`` code is (``ws.close(CloseCode.GOING_AWAY)``).

    Codes the peer sends arrive as plain ``int`` (it may send any of 3000-4999); compare them
    with these members directly, ``closed.code == CloseCode.NORMAL_CLOSURE``. The names are
    those of the websockets library. ``NO_STATUS_RCVD``, ``ABNORMAL_CLOSURE`` and
    ``TLS_HANDSHAKE`` are only ever reported, never sent.
    """

    NORMAL_CLOSURE = 1000
    """The purpose of the connection is fulfilled."""
    GOING_AWAY = 1001
    """The endpoint is going away: a server shutting down, a browser leaving the page."""
    PROTOCOL_ERROR = 1002
    """The peer broke the WebSocket protocol."""
    UNSUPPORTED_DATA = 1003
    """A kind of message this endpoint does not accept (e.g. binary where only text is)."""
    NO_STATUS_RCVD = 1005
    """Reported when the close frame carried no code; never sent."""
    ABNORMAL_CLOSURE = 1006
    """Reported when the connection was lost without a close frame; never sent."""
    INVALID_DATA = 1007
    """A message whose content is inconsistent with its type (bad UTF-8, unreadable payload)."""
    POLICY_VIOLATION = 1008
    """A message that breaks the endpoint's policy; the generic refusal."""
    MESSAGE_TOO_BIG = 1009
    """A message too big to process."""
    MANDATORY_EXTENSION = 1010
    """Sent by a client whose required extension the server did not negotiate."""
    INTERNAL_ERROR = 1011
    """The server met an unexpected condition."""
    SERVICE_RESTART = 1012
    """The server is restarting; the client may reconnect."""
    TRY_AGAIN_LATER = 1013
    """The server is overloaded; the client should reconnect later."""
    BAD_GATEWAY = 1014
    """A gateway or proxy got an invalid response from the server behind it."""
    TLS_HANDSHAKE = 1015
    """Reported when the TLS handshake failed; never sent."""
