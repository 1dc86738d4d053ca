"""ASGITransport: ASGI messages as the real servers shape them, turned into events and back."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import pytest

from simple_websocket import (
    Accept,
    ASGITransport,
    Close,
    Connect,
    ConnectionClosed,
    Deny,
    Disconnect,
    MalformedMessage,
    PeerError,
    UnsupportedMessage,
    WebSocketASGI,
)

pytestmark = pytest.mark.anyio


class WSCloseCode(enum.IntEnum):
    """Like the IntEnum some servers put in a disconnect's ``code``."""

    GOING_AWAY = 1001


class Recorder:
    """ASGI receive/send callables that replay a script and record what was sent."""

    def __init__(self, *messages: Mapping[str, object]) -> None:
        self.script = list(messages)
        self.sent: list[dict[str, object]] = []
        self.receives = 0

    async def receive(self) -> Mapping[str, object]:
        self.receives += 1
        return self.script.pop(0)

    async def send(self, message: dict[str, object]) -> None:
        self.sent.append(message)


def transport(scope: Mapping[str, object] | None = None) -> tuple[ASGITransport, Recorder]:
    recorder = Recorder()
    return ASGITransport(scope or {"type": "websocket"}, recorder.receive, recorder.send), recorder


@pytest.mark.parametrize(
    ("message", "event"),
    [
        ({"type": "websocket.connect"}, Connect()),
        ({"type": "websocket.receive", "text": "hi"}, "hi"),
        ({"type": "websocket.receive", "bytes": b"hi"}, b"hi"),
        # hypercorn: both keys, the unused one None; empty payloads are real messages
        ({"type": "websocket.receive", "text": None, "bytes": b"hi"}, b"hi"),
        ({"type": "websocket.receive", "text": "", "bytes": None}, ""),
        ({"type": "websocket.receive", "text": None, "bytes": b""}, b""),
        ({"type": "websocket.receive", "bytes": bytearray(b"ab")}, b"ab"),
        # disconnect codes: int, IntEnum or absent; reasons: absent, None or ''
        ({"type": "websocket.disconnect", "code": 4000, "reason": "bye"}, Disconnect(4000, "bye")),
        ({"type": "websocket.disconnect", "code": WSCloseCode.GOING_AWAY}, Disconnect(1001, "")),
        ({"type": "websocket.disconnect"}, Disconnect(1005, "")),
        ({"type": "websocket.disconnect", "code": 1000, "reason": None}, Disconnect(1000, "")),
        ({"type": "websocket.disconnect", "code": "1000", "reason": 5}, Disconnect(1005, "")),
    ],
)
def test_parse_reads_every_server_shape(message: Mapping[str, object], event: object) -> None:
    parsed = transport()[0].parse(message)
    assert parsed == event
    assert type(parsed) is type(event)
    if isinstance(parsed, Disconnect):
        assert type(parsed.code) is int


@pytest.mark.parametrize(
    "message",
    [
        "websocket.receive",
        None,
        ["type"],
        {},
        {"type": None},
        {"type": 3},
        {"type": "websocket.receive"},
        {"type": "websocket.receive", "text": None, "bytes": None},
        {"type": "websocket.receive", "text": 3},
        {"type": "websocket.receive", "bytes": "not bytes"},
    ],
)
def test_parse_reports_malformed_messages(message: object) -> None:
    with pytest.raises(MalformedMessage) as caught:
        transport()[0].parse(message)
    assert isinstance(caught.value, OSError)


def test_parse_reports_unsupported_types_as_oserror() -> None:
    with pytest.raises(UnsupportedMessage) as caught:
        transport()[0].parse({"type": "http.request"})
    assert caught.value.message_type == "http.request"
    assert isinstance(caught.value, OSError)


async def test_send_shapes_every_outbound_event() -> None:
    asgi, recorder = transport()
    for event in ("hi", b"hi", Accept("chat", ((b"x-a", b"1"),)), Accept(), Close(4000, "bye"), Close(1011, "")):
        await asgi.send(event)
    assert recorder.sent == [
        {"type": "websocket.send", "text": "hi"},
        {"type": "websocket.send", "bytes": b"hi"},
        {"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-a", b"1")]},
        {"type": "websocket.accept", "subprotocol": None},
        {"type": "websocket.close", "code": 4000, "reason": "bye"},
        {"type": "websocket.close", "code": 1011, "reason": ""},
    ]


class RefusesReservedCodes(Recorder):
    """Daphne's way: a bare Exception for a close code other than 1000 or 3000-4999."""

    async def send(self, message: dict[str, object]) -> None:
        code = message.get("code")
        if isinstance(code, int) and code != 1000 and not 3000 <= code <= 4999:
            raise Exception(f"invalid close code {code}")
        await super().send(message)


@pytest.mark.parametrize("code", [1001, 1003, 1007, 1008, 1009, 1011, 1013])
async def test_a_close_code_the_server_refuses_falls_back_to_1000(code: int) -> None:
    recorder = RefusesReservedCodes()
    await ASGITransport({"type": "websocket"}, recorder.receive, recorder.send).send(Close(code, "why"))
    assert recorder.sent == [{"type": "websocket.close", "code": 1000, "reason": "why"}]


async def test_a_close_that_fails_because_the_peer_left_is_not_retried() -> None:
    async def gone(message: dict[str, object]) -> None:
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await ASGITransport({"type": "websocket"}, Recorder().receive, gone).send(Close(1011, ""))


async def test_deny_uses_the_http_response_extension_when_offered() -> None:
    asgi, recorder = transport({"type": "websocket", "extensions": {"websocket.http.response": {}}})
    await asgi.send(Deny(401, ((b"x-why", b"token"),), b"nope"))
    assert recorder.sent == [
        {"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-why", b"token")]},
        {"type": "websocket.http.response.body", "body": b"nope", "more_body": False},
    ]


async def test_deny_falls_back_to_a_close_before_accept() -> None:
    asgi, recorder = transport({"type": "websocket", "extensions": {}})
    await asgi.send(Deny(401))
    assert recorder.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


async def test_send_refuses_what_is_not_an_event() -> None:
    with pytest.raises(TypeError):
        transport()[0].send(3)  # type: ignore[arg-type]  # the point of the test


async def test_websocket_asgi_never_receives_again_after_a_disconnect() -> None:
    recorder = Recorder(
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": None, "bytes": b"x"},
        {"type": "websocket.disconnect", "code": WSCloseCode.GOING_AWAY},
    )
    ws = await WebSocketASGI.accept({"type": "websocket", "subprotocols": ["a"]}, recorder.receive, recorder.send, "a")
    assert ws.subprotocol == "a"
    assert [message async for message in ws] == [b"x"]
    for _ in range(3):
        with pytest.raises(ConnectionClosed):
            await ws.receive()
    assert recorder.receives == 3
    assert recorder.sent == [{"type": "websocket.accept", "subprotocol": "a"}]


async def test_an_unsupported_message_leaves_the_connection_open() -> None:
    recorder = Recorder(
        {"type": "websocket.connect"},
        {"type": "websocket.custom"},
        {"type": "websocket.receive", "text": "after"},
    )
    ws = await WebSocketASGI.accept({"type": "websocket"}, recorder.receive, recorder.send)
    with pytest.raises(PeerError):
        await ws.receive()
    assert await ws.receive() == "after"


@pytest.mark.parametrize(
    "error",
    [RuntimeError("Unexpected ASGI message"), ConnectionResetError(), OSError("client disconnected")],
)
async def test_server_send_errors_become_connection_closed(error: Exception) -> None:
    async def failing_send(message: dict[str, object]) -> None:
        if message["type"] == "websocket.send":
            raise error

    recorder = Recorder({"type": "websocket.connect"})
    ws = await WebSocketASGI.accept({"type": "websocket"}, recorder.receive, failing_send)
    with pytest.raises(ConnectionClosed) as caught:
        await ws.send("x")
    assert caught.value.reason == 1006
    assert caught.value.__cause__ is error
    assert not ws.connected
