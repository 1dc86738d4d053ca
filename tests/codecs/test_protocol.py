"""MessageProtocol: one endpoint's messages both ways, each direction through its own typed codec."""

from __future__ import annotations

from typing import Literal, overload

import anyio
import msgpack
import msgspec
import pydantic
import pytest

from simple_websocket import Close, DecodeError, EncodeError
from simple_websocket.codecs import (
    CodecSocket,
    MessageProtocol,
    MsgspecJSONCodec,
    MsgspecMsgpackCodec,
    PydanticJSONCodec,
)
from simple_websocket.codecs._asgi import ASGICodecSocket
from simple_websocket.typing import Data

from ..support import memory
from ..support.memory import LIMIT, opened


class Join(msgspec.Struct, tag_field="type", tag="join"):
    nick: str


class Say(msgspec.Struct, tag_field="type", tag="say"):
    text: str


class Welcome(msgspec.Struct, tag_field="type", tag="welcome"):
    nick: str


class Said(msgspec.Struct, tag_field="type", tag="said"):
    nick: str
    text: str


ClientMessage = Join | Say
ServerMessage = Welcome | Said


def chat() -> MessageProtocol[Join | Say, Welcome | Said]:
    return MessageProtocol(MsgspecJSONCodec(ClientMessage), MsgspecJSONCodec(ServerMessage), subprotocol="chat.v1")


def test_decode_and_encode_go_through_the_receive_and_send_codecs() -> None:
    protocol = chat()
    assert protocol.decode('{"type": "join", "nick": "ann"}') == Join("ann")
    assert protocol.decode(b'{"type": "say", "text": "hi"}') == Say("hi")
    assert protocol.encode(Said("ann", "hi")) == '{"type":"said","nick":"ann","text":"hi"}'
    with pytest.raises(DecodeError) as caught:
        protocol.decode('{"type": "welcome", "nick": "ann"}')  # a server message is no client message
    assert (caught.value.path, caught.value.data) == ("$.type", '{"type": "welcome", "nick": "ann"}')
    assert str(caught.value) == "JSON does not fit at $.type: Invalid value 'welcome'"


def test_each_direction_keeps_its_own_format() -> None:
    protocol = MessageProtocol(MsgspecMsgpackCodec(ClientMessage), MsgspecJSONCodec(ServerMessage))
    assert protocol.decode(msgpack.packb({"type": "say", "text": "hi"})) == Say("hi")
    assert protocol.encode(Welcome("ann")) == '{"type":"welcome","nick":"ann"}'
    with pytest.raises(DecodeError) as caught:
        protocol.decode('{"type": "say", "text": "hi"}')
    assert (caught.value.path, str(caught.value)) == (None, "msgpack needs a binary frame, got a text frame")
    reverse = MessageProtocol(MsgspecJSONCodec(ClientMessage), MsgspecMsgpackCodec(ServerMessage))
    assert reverse.encode(Welcome("ann")) == msgpack.packb({"type": "welcome", "nick": "ann"})


class PydanticWelcome(pydantic.BaseModel):
    type: Literal["welcome"]
    nick: str


def test_the_send_codec_refuses_what_is_no_server_message() -> None:
    protocol = MessageProtocol[object, object](MsgspecJSONCodec(ClientMessage), PydanticJSONCodec(PydanticWelcome))
    assert protocol.encode(PydanticWelcome(type="welcome", nick="ann")) == '{"type":"welcome","nick":"ann"}'
    with pytest.raises(EncodeError) as caught:
        protocol.encode(Join("ann"))
    assert str(caught.value).startswith("cannot encode as JSON: ")


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["transport", "asgi", "asgi-limited"])
async def test_socket_receives_client_messages_and_sends_server_ones(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "MESSAGE_PATH", path)
    protocol = chat()
    async with opened() as pair:
        sock = protocol.socket(pair.ws)
        assert isinstance(sock, CodecSocket)
        assert isinstance(sock, ASGICodecSocket)  # over any WebSocketASGI, whatever it runs on
        assert sock.codec is protocol and sock.socket is pair.ws
        with anyio.fail_after(LIMIT):
            await pair.client.send('{"type": "join", "nick": "ann"}')
            assert await sock.receive() == Join("ann")
            await sock.send(Welcome("ann"))
            assert await pair.client.receive() == '{"type":"welcome","nick":"ann"}'
            await pair.client.send('{"type": "say", "text": 3}')
            with pytest.raises(DecodeError) as caught:
                await sock.receive()
            assert (caught.value.path, caught.value.data) == ("$.text", '{"type": "say", "text": 3}')
            await pair.client.send(b'{"type": "say", "text": "hi"}')
            assert await sock.receive() == Say("hi")


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["transport", "asgi"])
async def test_serve_runs_the_handler_on_the_connections_protocol_socket(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "MESSAGE_PATH", path)
    protocol = chat()
    sockets: list[CodecSocket[Join | Say, Welcome | Said]] = []

    async def handler(sock: CodecSocket[Join | Say, Welcome | Said]) -> None:
        sockets.append(sock)
        nick = "?"
        async for message in sock:
            if isinstance(message, Join):
                nick = message.nick
                await sock.send(Welcome(nick))
            else:
                await sock.send(Said(nick, message.text))
        await sock.close()

    serve = protocol.serve(handler)
    async with opened() as pair:

        async def run() -> None:
            await serve(pair.ws)

        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(run)
                await pair.client.send('{"type": "join", "nick": "ann"}')
                assert await pair.client.receive() == '{"type":"welcome","nick":"ann"}'
                await pair.client.send('{"type": "say", "text": "hi"}')
                assert await pair.client.receive() == '{"type":"said","nick":"ann","text":"hi"}'
                await pair.client.disconnect(1000)
    assert len(sockets) == 1
    assert sockets[0].codec is protocol and sockets[0].socket is pair.ws


@pytest.mark.anyio
async def test_a_served_handler_closes_through_its_socket_and_its_errors_escape() -> None:
    async def handler(sock: CodecSocket[Join | Say, Welcome | Said]) -> None:
        try:
            await sock.receive()
        finally:
            await sock.close_invalid("no")

    async with opened() as pair:
        with anyio.fail_after(LIMIT):
            await pair.client.send('{"type": "join"}')
            with pytest.raises(DecodeError) as caught:
                await chat().serve(handler)(pair.ws)
            assert (caught.value.path, caught.value.data) == ("$", '{"type": "join"}')
            assert await pair.client.receive() == Close(1007, "no")


def test_repr_and_attributes() -> None:
    plain = MessageProtocol(MsgspecJSONCodec(Join), MsgspecMsgpackCodec(Welcome))
    assert repr(plain) == "MessageProtocol(MsgspecJSONCodec(Join), MsgspecMsgpackCodec(Welcome))"
    assert (plain.subprotocol, plain.title, plain.description) == (None, None, "")
    named = MessageProtocol(
        PydanticJSONCodec(PydanticWelcome), MsgspecJSONCodec(Said), subprotocol="chat.v1", title="Chat", description="x"
    )
    assert (
        repr(named)
        == "MessageProtocol(PydanticJSONCodec(PydanticWelcome), MsgspecJSONCodec(Said), subprotocol='chat.v1')"
    )
    assert (named.subprotocol, named.title, named.description) == ("chat.v1", "Chat", "x")
    assert named.receive.type is PydanticWelcome and named.send.type is Said


class Base(msgspec.Struct):
    name: str


class Sub(Base):
    extra: int = 0


def greet(protocol: MessageProtocol[Base, Sub], frame: str) -> tuple[str, str]:
    """Uses a protocol as one that receives Base and sends Sub."""
    received = protocol.decode(frame)
    return received.name, str(protocol.encode(Sub(received.name, 1)))


def test_a_protocol_that_receives_less_and_sends_more_fits_where_more_and_less_are_asked() -> None:
    narrower: MessageProtocol[Sub, Base] = MessageProtocol(MsgspecJSONCodec(Sub), MsgspecJSONCodec(Base))
    assert greet(narrower, '{"name": "ann", "extra": 2}') == ("ann", '{"name":"ann","extra":1}')
    with pytest.raises(DecodeError) as caught:
        greet(narrower, '{"name": 1}')
    assert caught.value.path == "$.name"


@pytest.mark.anyio
async def test_over_another_message_socket_the_protocol_takes_the_general_path() -> None:
    protocol = chat()
    recorder = Recorder()
    sock = protocol.socket(recorder)
    assert type(sock) is CodecSocket
    assert sock.codec is protocol
    with anyio.fail_after(LIMIT):
        assert await sock.receive() == Join("ann")
        await sock.send(Said("ann", "hi"))
    assert recorder.sent == ['{"type":"said","nick":"ann","text":"hi"}']


class Recorder:
    """A MessageSocket that is no WebSocketASGI: CodecSocket calls its receive and send."""

    def __init__(self) -> None:
        self.sent: list[Data] = []

    @overload
    async def receive(self, timeout: None = None) -> Data: ...

    @overload
    async def receive(self, timeout: float) -> Data | None: ...

    async def receive(self, timeout: float | None = None) -> Data | None:
        return '{"type": "join", "nick": "ann"}'

    async def send(self, data: Data, /) -> None:
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        raise AssertionError("not closed here")
