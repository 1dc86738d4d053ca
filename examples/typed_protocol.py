"""A typed protocol: one tagged union each way, decoded and checked in one pass, published as AsyncAPI.

Run with ``uvicorn examples.typed_protocol:app``: WebSocket at ws://127.0.0.1:8000/ (send
``{"type": "add", "amount": 2}``), its AsyncAPI document at http://127.0.0.1:8000/asyncapi.json.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

import msgspec
from typing_extensions import assert_never

from simple_websocket import DecodeError, websocket_app
from simple_websocket.asyncapi import asyncapi_document
from simple_websocket.codecs import CodecSocket, MessageProtocol, MsgspecJSONCodec
from simple_websocket.typing import ASGIReceive, ASGISend, Scope


class Add(msgspec.Struct, tag_field="type", tag="add", forbid_unknown_fields=True):
    """Add `amount` to the tally."""

    amount: int


class Reset(msgspec.Struct, tag_field="type", tag="reset", forbid_unknown_fields=True):
    """Start the tally again from zero."""


class Total(msgspec.Struct, tag_field="type", tag="total"):
    """The tally after the client's last message."""

    value: int


class Refused(msgspec.Struct, tag_field="type", tag="refused"):
    """The client's last message is not one of the protocol's: why, and where."""

    reason: str
    path: str | None


TALLY = MessageProtocol(MsgspecJSONCodec(Add | Reset), MsgspecJSONCodec(Total | Refused), subprotocol="tally.v1")


async def tally(sock: CodecSocket[Add | Reset, Total | Refused]) -> None:
    total = 0
    while True:
        try:
            message = await sock.receive()  # Add | Reset
        except DecodeError as error:  # not one of them: say why and go on
            await sock.send(Refused(str(error), error.path))
            continue
        match message:
            case Add(amount=amount):
                total += amount
            case Reset():
                total = 0
            case _:
                assert_never(message)  # a new client message makes this line a type error
        await sock.send(Total(total))  # sock.send(Add(1)) would be one too


async def document(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    """HTTP: the AsyncAPI document at /asyncapi.json, 404 elsewhere."""
    if scope["type"] != "http":
        return  # lifespan: nothing to start
    respond = cast("Callable[[dict[str, object]], Awaitable[object]]", send)
    found = scope.get("path") == "/asyncapi.json"
    body = msgspec.json.encode(ASYNCAPI) if found else b"not found"
    await respond({"type": "http.response.start", "status": 200 if found else 404, "headers": []})
    await respond({"type": "http.response.body", "body": body})


app = websocket_app(tally, protocol=TALLY, fallback=document)
ASYNCAPI = asyncapi_document({"/": app}, title="Tally", version="1.0.0")
