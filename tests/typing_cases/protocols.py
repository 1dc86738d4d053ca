# Checked by tests/test_types.py: each reveal_type line states the type users must see.
from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import pydantic
from typing_extensions import Never, reveal_type

from simple_websocket import WebSocketASGI, websocket_app
from simple_websocket.codecs import (
    CodecSocket,
    MessageProtocol,
    MsgspecJSONCodec,
    MsgspecMsgpackCodec,
    PydanticJSONCodec,
)


class Join(msgspec.Struct, tag=True):
    nick: str


class Say(msgspec.Struct, tag=True):
    text: str


class Said(msgspec.Struct, tag=True):
    text: str


class Hello(pydantic.BaseModel):
    type: Literal["hello"]


class Bye(pydantic.BaseModel):
    type: Literal["bye"]


PROTOCOL = MessageProtocol(MsgspecJSONCodec(Join | Say), MsgspecJSONCodec(Said))


async def handler(sock: CodecSocket[Join | Say, Said]) -> None:
    reveal_type(await sock.receive())  # R: tests.typing_cases.protocols.Join | tests.typing_cases.protocols.Say
    await sock.send(Said("hi"))


async def cases(ws: WebSocketASGI) -> None:
    reveal_type(MsgspecJSONCodec(Join))  # R: simple_websocket.codecs.msgspec.MsgspecJSONCodec[tests.typing_cases.protocols.Join]
    reveal_type(MsgspecJSONCodec(Join | Say))  # R: simple_websocket.codecs.msgspec.MsgspecJSONCodec[tests.typing_cases.protocols.Join | tests.typing_cases.protocols.Say]
    reveal_type(MsgspecJSONCodec(list[int]).decode("[1]"))  # R: list[int]
    reveal_type(MsgspecJSONCodec(Join).encode(Join("ann")))  # R: str
    reveal_type(MsgspecMsgpackCodec(Join).encode(Join("ann")))  # R: bytes
    reveal_type(PydanticJSONCodec(Annotated[Hello | Bye, pydantic.Field(discriminator="type")]))  # R: simple_websocket.codecs.pydantic.PydanticJSONCodec[tests.typing_cases.protocols.Hello | tests.typing_cases.protocols.Bye]
    reveal_type(PROTOCOL)  # R: simple_websocket.codecs._protocol.MessageProtocol[tests.typing_cases.protocols.Join | tests.typing_cases.protocols.Say, tests.typing_cases.protocols.Said]
    sock = PROTOCOL.socket(ws)
    reveal_type(sock)  # R: simple_websocket.codecs._base.CodecSocket[tests.typing_cases.protocols.Join | tests.typing_cases.protocols.Say, tests.typing_cases.protocols.Said]
    reveal_type(await sock.receive())  # R: tests.typing_cases.protocols.Join | tests.typing_cases.protocols.Say
    reveal_type(websocket_app(handler, protocol=PROTOCOL).protocol)  # R: simple_websocket.codecs._protocol.MessageProtocol[object, Never] | None
    reveal_type(CodecSocket(ws, MsgspecJSONCodec(Join)))  # R: simple_websocket.codecs._base.CodecSocket[tests.typing_cases.protocols.Join, tests.typing_cases.protocols.Join]
    # A handler of more client messages than the protocol has serves it: the socket is covariant.
    websocket_app(handler, protocol=MessageProtocol(MsgspecJSONCodec(Join), MsgspecJSONCodec(Said)))
    narrower: MessageProtocol[object, Never] = PROTOCOL
    reveal_type(narrower.decode("{}"))  # R: object
