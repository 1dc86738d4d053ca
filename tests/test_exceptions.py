"""The exception tree: one root, stdlib mix-ins where the meaning matches."""

from __future__ import annotations

import pytest

from simple_websocket import CloseCode, exceptions
from simple_websocket.exceptions import (
    CodecError,
    ConcurrencyError,
    ConnectionClosed,
    DecodeError,
    EncodeError,
    HandshakeTimeout,
    InvalidArgument,
    InvalidData,
    InvalidState,
    MalformedMessage,
    MessageTooBig,
    PeerError,
    SimpleWebSocketError,
    UnsupportedMessage,
    UsageError,
)


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (ConnectionClosed, (SimpleWebSocketError,)),
        (MessageTooBig, (ConnectionClosed,)),
        (PeerError, (SimpleWebSocketError, OSError)),
        (UnsupportedMessage, (PeerError,)),
        (MalformedMessage, (PeerError,)),
        (UsageError, (SimpleWebSocketError,)),
        (InvalidState, (UsageError, RuntimeError)),
        (ConcurrencyError, (UsageError, RuntimeError)),
        (InvalidData, (UsageError, TypeError)),
        (InvalidArgument, (UsageError, ValueError)),
        (HandshakeTimeout, (SimpleWebSocketError, TimeoutError)),
        (CodecError, (SimpleWebSocketError, ValueError)),
        (EncodeError, (CodecError,)),
        (DecodeError, (CodecError,)),
    ],
)
def test_tree(error: type[Exception], bases: tuple[type[Exception], ...]) -> None:
    assert error.__bases__ == bases


def test_every_error_is_in_the_drawn_tree() -> None:
    doc = exceptions.__doc__ or ""
    for name in exceptions.__all__:
        assert f" {name}" in doc, name


def test_connection_closed_keeps_simple_websocket_names() -> None:
    closed = ConnectionClosed(4000, "bye", by_peer=False)
    assert (closed.reason, closed.message, closed.by_peer, closed.normal) == (4000, "bye", False, False)
    assert str(closed) == "connection closed by the application: 4000 'bye'"
    default = ConnectionClosed()
    assert (default.reason, default.message, default.by_peer) == (1005, "", True)
    assert ConnectionClosed(1001).normal


def test_code_names_the_close_code_and_reason_is_its_alias() -> None:
    closed = ConnectionClosed(CloseCode.GOING_AWAY, "bye")
    assert closed.code == closed.reason == 1001
    assert closed.normal
    assert str(closed) == "connection closed by the peer: 1001 'bye'"
    assert ConnectionClosed().code is CloseCode.NO_STATUS_RCVD
    assert ConnectionClosed(4000).code == 4000


def test_message_too_big_is_a_1009_close() -> None:
    error = MessageTooBig(10, 4)
    assert (error.reason, error.by_peer, error.size, error.limit) == (1009, False, 10, 4)
    assert error.code is CloseCode.MESSAGE_TOO_BIG


def test_decode_error_keeps_the_frame() -> None:
    assert DecodeError("bad", b"\xff").data == b"\xff"
