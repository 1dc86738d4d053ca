# Checked by tests/test_types.py: each reveal_type line states the type users must see.
from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import reveal_type

from simple_websocket import WebSocketASGI
from simple_websocket.codecs import Codec, CodecSocket, JSONBinaryCodec, JSONCodec, MsgpackCodec


@dataclass
class Chat:
    text: str


def to_chat(obj: object) -> Chat:
    assert isinstance(obj, dict)
    return Chat(str(obj["text"]))


async def cases(ws: WebSocketASGI) -> None:
    reveal_type(JSONCodec())  # R: simple_websocket.codecs.json.JSONCodec[object]
    reveal_type(JSONCodec(to_chat))  # R: simple_websocket.codecs.json.JSONCodec[tests.typing_cases.codecs.Chat]
    reveal_type(JSONCodec().encode(1))  # R: str
    reveal_type(JSONBinaryCodec().encode(1))  # R: bytes
    reveal_type(MsgpackCodec().encode(1))  # R: bytes
    reveal_type(JSONCodec(to_chat).decode("{}"))  # R: tests.typing_cases.codecs.Chat
    reveal_type(MsgpackCodec(to_chat).decode(b""))  # R: tests.typing_cases.codecs.Chat
    text_codec: Codec[Chat, str] = JSONCodec(to_chat)
    binary_codec: Codec[object, bytes] = MsgpackCodec()
    reveal_type(text_codec.encode(1))  # R: str
    reveal_type(binary_codec.encode(1))  # R: bytes
    sock = CodecSocket(ws, JSONCodec(to_chat))
    reveal_type(sock)  # R: simple_websocket.codecs._base.CodecSocket[tests.typing_cases.codecs.Chat, object]
    reveal_type(await sock.receive())  # R: tests.typing_cases.codecs.Chat
    reveal_type(await sock.receive(1.0))  # R: tests.typing_cases.codecs.Chat | None
    reveal_type(await sock.receive(1.0, default=False))  # R: tests.typing_cases.codecs.Chat | bool
    async for chat in sock:
        reveal_type(chat)  # R: tests.typing_cases.codecs.Chat
    reveal_type(await CodecSocket(ws, MsgpackCodec()).receive())  # R: object
