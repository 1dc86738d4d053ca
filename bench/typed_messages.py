"""One short chat message family, the same in msgspec and in pydantic, for bench/codecs.py.

A tagged union of three messages whose ``type`` names them: ``join`` {nick}, ``message``
{text, ts} and ``ack`` {received}. ``FRAME`` is a ``message`` of about 100 bytes of JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import pydantic


class Join(msgspec.Struct, tag_field="type", tag="join"):
    nick: str


class Say(msgspec.Struct, tag_field="type", tag="message"):
    text: str
    ts: float


class Ack(msgspec.Struct, tag_field="type", tag="ack"):
    received: int


Chat = Join | Say | Ack
"""The msgspec family: a union tagged by ``type``."""


class PJoin(pydantic.BaseModel):
    type: Literal["join"] = "join"
    nick: str


class PSay(pydantic.BaseModel):
    type: Literal["message"] = "message"
    text: str
    ts: float


class PAck(pydantic.BaseModel):
    type: Literal["ack"] = "ack"
    received: int


PChat = PJoin | PSay | PAck
"""The pydantic family, as a type."""
PChatForm = Annotated[PChat, pydantic.Field(discriminator="type")]
"""The pydantic family as pydantic validates it: a union discriminated by ``type``."""

SAY = Say(text="see you at the station at 9? I will bring the tickets", ts=1764000000.25)
FRAME: str = msgspec.json.encode(SAY).decode()
"""``{"type":"message","text":"...","ts":1764000000.25}``: 100 bytes."""
BINARY_FRAME: bytes = msgspec.msgpack.encode(SAY)
"""The same message in msgpack."""
