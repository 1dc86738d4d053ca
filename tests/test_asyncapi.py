"""simple_websocket.asyncapi: the document's shape, its checks, and the official parser's verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import pydantic
import pytest

from examples.typed_protocol import ASYNCAPI, TALLY, app
from simple_websocket import InvalidArgument, WebSocketASGI, websocket_app
from simple_websocket.asyncapi import ASYNCAPI_VERSION, asyncapi_document
from simple_websocket.codecs import MessageProtocol, MsgspecJSONCodec, MsgspecMsgpackCodec, PydanticJSONCodec

from .support.web import run_node

#: Seconds for one run of the AsyncAPI parser (about 1 s here).
NODE_TIMEOUT = 120.0


class Hello(pydantic.BaseModel):
    """Say hello."""

    type: Literal["hello"]
    name: str


class Bye(pydantic.BaseModel):
    type: Literal["bye"]
    at: int = 0


class Seen(pydantic.BaseModel):
    """Who is here."""

    type: Literal["seen"]
    names: list[str]


GREETING = MessageProtocol(
    PydanticJSONCodec(Annotated[Hello | Bye, pydantic.Field(discriminator="type")]),
    PydanticJSONCodec(Seen),
    subprotocol="greet.v1",
    title="Greetings",
    description="Say *hello*; hear who is here.",
)


class Point(msgspec.Struct, tag=True):
    x: int
    y: int


async def nothing(ws: WebSocketASGI) -> None:
    pass


def parsed(document: dict[str, object], tmp_path: Path) -> str:
    """The parser's diagnostics; the test fails if it finds an error."""
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document))
    done = run_node("validate-asyncapi.mjs", path, timeout=NODE_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


TALLY_MESSAGES = ("Add", "Reset", "Total", "Refused")


def test_the_example_app_is_one_channel_with_an_operation_each_way() -> None:
    assert ASYNCAPI["asyncapi"] == ASYNCAPI_VERSION == "3.0.0"
    assert ASYNCAPI["channels"] == {
        "root": {
            "address": "/",
            "messages": {
                name: {"$ref": f"#/components/messages/{name}"} for name in ("Add", "Reset", "Total", "Refused")
            },
            "bindings": {
                "ws": {
                    "method": "GET",
                    "headers": {
                        "type": "object",
                        "properties": {
                            "Sec-WebSocket-Protocol": {
                                "type": "string",
                                "enum": ["tally.v1"],
                                "description": "The subprotocols, in order of preference.",
                            }
                        },
                    },
                    "bindingVersion": "0.1.0",
                }
            },
        }
    }
    operations = ASYNCAPI["operations"]
    assert isinstance(operations, dict)
    assert {name: (op["action"], [m["$ref"] for m in op["messages"]]) for name, op in operations.items()} == {
        "root.receive": ("receive", ["#/channels/root/messages/Add", "#/channels/root/messages/Reset"]),
        "root.send": ("send", ["#/channels/root/messages/Total", "#/channels/root/messages/Refused"]),
    }
    components = ASYNCAPI["components"]
    assert isinstance(components, dict)
    assert components["messages"]["Add"] == {
        "name": "Add",
        "title": "Add",
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/Add"},
        "summary": "Add `amount` to the tally.",
    }
    add = components["schemas"]["Add"]
    assert add["properties"]["type"] == {"enum": ["add"]} and add["required"] == ["type", "amount"]


def test_a_protocol_an_app_and_a_list_of_protocols_all_name_a_channel() -> None:
    for endpoint in (TALLY, app, [TALLY]):
        document = asyncapi_document({"/tally": endpoint}, title="T", version="1")
        assert document["channels"]["tally"]["address"] == "/tally"  # type: ignore[index]  # JSON


def test_several_subprotocols_share_the_channel_and_have_operations_each() -> None:
    v1 = MessageProtocol(MsgspecJSONCodec(Point), MsgspecJSONCodec(Point), subprotocol="p.v1")
    v2 = MessageProtocol(MsgspecMsgpackCodec(Point), MsgspecMsgpackCodec(Point), subprotocol="p.v2")
    with pytest.raises(InvalidArgument, match="two different messages are named 'Point'"):
        asyncapi_document({"/p": [v2, v1]}, title="P", version="1")  # JSON and msgpack Points differ
    v1b = MessageProtocol(MsgspecJSONCodec(Point | Hello_), MsgspecJSONCodec(Point), subprotocol="p.v1b")
    document = asyncapi_document({"/p": [v1, v1b]}, title="P", version="1")
    assert list(document["operations"]) == ["p.p.v1.receive", "p.p.v1.send", "p.p.v1b.receive", "p.p.v1b.send"]  # type: ignore[call-overload]  # JSON
    assert list(document["channels"]["p"]["messages"]) == ["Point", "Hello_"]  # type: ignore[index]  # JSON


class Hello_(msgspec.Struct, tag="hello"):
    name: str


def test_discriminators_are_written_as_asyncapi_wants_them_and_modes_are_kept(tmp_path: Path) -> None:
    document = asyncapi_document({"/greet": GREETING}, title="Greet", version="1", description="Hi.")
    assert document["info"] == {"title": "Greet", "version": "1", "description": "Hi."}
    text = json.dumps(document)
    assert '"propertyName"' not in text and '"$defs"' not in text
    operations = document["operations"]
    assert isinstance(operations, dict)
    assert operations["greet.receive"]["title"] == "Greetings: receive"
    assert operations["greet.receive"]["description"] == "Say *hello*; hear who is here."
    schemas = document["components"]["schemas"]  # type: ignore[index]  # JSON
    assert "at" not in schemas["Bye"]["required"]  # validation: a default makes it optional
    parsed(document, tmp_path)


def test_a_union_inside_a_message_keeps_its_discriminator_as_a_name() -> None:
    class Box(msgspec.Struct, tag=True):
        content: Point | Hello_

    document = asyncapi_document(
        {"/box": MessageProtocol(MsgspecJSONCodec(Box), MsgspecJSONCodec(Box))}, title="B", version="1"
    )
    content = document["components"]["schemas"]["Box"]["properties"]["content"]  # type: ignore[index]  # JSON
    assert content["discriminator"] == "type"


def test_a_type_that_is_no_union_of_named_ones_is_one_message() -> None:
    protocol = MessageProtocol(MsgspecJSONCodec(list[int]), MsgspecJSONCodec(dict[str, int]))
    document = asyncapi_document({"/numbers": protocol}, title="N", version="1")
    messages = document["components"]["messages"]  # type: ignore[index]  # JSON
    assert messages["numbers.receive"]["payload"] == {"type": "array", "items": {"type": "integer"}}
    assert messages["numbers.send"]["payload"]["additionalProperties"] == {"type": "integer"}
    assert document["channels"]["numbers"].get("bindings") is None  # type: ignore[index]  # JSON: no subprotocol


def test_paths_become_distinct_channel_ids() -> None:
    document = asyncapi_document({"/a b": TALLY, "/a_b": TALLY, "/": TALLY}, title="T", version="1")
    channels = document["channels"]
    assert isinstance(channels, dict)
    assert {key: value["address"] for key, value in channels.items()} == {"a_b": "/a b", "a_b_2": "/a_b", "root": "/"}


def test_an_app_without_a_protocol_and_an_empty_list_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="declares no protocol"):
        asyncapi_document({"/x": websocket_app(nothing)}, title="X", version="1")
    with pytest.raises(InvalidArgument, match="no protocol for '/x'"):
        asyncapi_document({"/x": []}, title="X", version="1")


def test_two_types_of_one_name_are_refused() -> None:
    class Point(msgspec.Struct):  # another Point than the module's
        z: int

    other = MessageProtocol(MsgspecJSONCodec(Point), MsgspecJSONCodec(Point))
    first = MessageProtocol(MsgspecJSONCodec(globals()["Point"]), MsgspecJSONCodec(globals()["Point"]))
    with pytest.raises(InvalidArgument, match="named 'Point'"):
        asyncapi_document({"/a": first, "/b": other}, title="X", version="1")


def test_the_official_parser_accepts_the_examples_documents(tmp_path: Path) -> None:
    parsed(ASYNCAPI, tmp_path)
    v1 = MessageProtocol(MsgspecJSONCodec(Point | Hello_), MsgspecJSONCodec(Point), subprotocol="p.v1")
    parsed(asyncapi_document({"/p": [v1, TALLY], "/greet": GREETING}, title="All", version="1"), tmp_path)
