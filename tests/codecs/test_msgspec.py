"""The msgspec codecs: typed round trips, frame kinds, DecodeError paths, strictness, schemas."""

from __future__ import annotations

import json
import subprocess
import sys

import anyio
import msgpack
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_websocket import DecodeError, EncodeError
from simple_websocket.codecs import CodecSocket, MsgspecJSONCodec, MsgspecMsgpackCodec
from simple_websocket.typing import Data

from ..support import memory
from ..support.memory import LIMIT, opened


class Item(msgspec.Struct):
    name: str
    qty: int


class Join(msgspec.Struct, tag_field="type", tag="join"):
    nick: str


class Order(msgspec.Struct, tag_field="type", tag="order"):
    items: list[Item]
    note: str | None = None


Client = Join | Order


class Sample(msgspec.Struct):
    """A Struct with a bit of every kind of field, for the round-trip property."""

    name: str
    qty: int
    price: float
    raw: bytes
    tags: list[str]
    counts: dict[str, int]
    parent: Item | None = None


ints = st.integers(-(2**63), 2**63 - 1)
items = st.builds(Item, name=st.text(), qty=ints)
clients = st.one_of(
    st.builds(Join, nick=st.text()),
    st.builds(Order, items=st.lists(items, max_size=4), note=st.none() | st.text()),
)
samples = st.builds(
    Sample,
    name=st.text(),
    qty=ints,
    price=st.floats(allow_nan=False, allow_infinity=False),
    raw=st.binary(),
    tags=st.lists(st.text(), max_size=4),
    counts=st.dictionaries(st.text(max_size=8), ints, max_size=4),
    parent=st.none() | items,
)

JSON_FRAMES_ALSO_AS_MSGPACK = [
    # (message, path, msgspec's reason)
    ({"type": "join", "nick": 1}, "$.nick", "Expected `str`, got `int`"),
    (
        {"type": "order", "items": [{"name": "a", "qty": 1}, {"name": 2, "qty": 1}]},
        "$.items[1].name",
        "Expected `str`, got `int`",
    ),
    ({"type": "order", "items": [{"name": "a", "qty": "1"}]}, "$.items[0].qty", "Expected `int`, got `str`"),
    ({"type": "join"}, "$", "Object missing required field `nick`"),
    ({"nick": "ann"}, "$", "Object missing required field `type`"),
    ([1, 2], "$", "Expected `object`, got `array`"),
    ("join", "$", "Expected `object`, got `str`"),
    ({"type": "nope", "nick": "ann"}, "$.type", "Invalid value 'nope'"),
]
CASE_IDS = ["field", "nested", "nested-int", "missing-field", "missing-tag", "root-array", "root-str", "unknown-tag"]


@pytest.mark.parametrize(
    ("value", "frame"),
    [
        (Join("ann"), '{"type":"join","nick":"ann"}'),
        (Order([Item("tea", 2)]), '{"type":"order","items":[{"name":"tea","qty":2}],"note":null}'),
        (Order([], "x"), '{"type":"order","items":[],"note":"x"}'),
    ],
    ids=["join", "order", "note"],
)
def test_json_round_trips_a_tagged_union_as_text_frames(value: Join | Order, frame: str) -> None:
    codec = MsgspecJSONCodec(Client)
    assert codec.encode(value) == frame
    assert codec.decode(frame) == value
    assert codec.decode(frame.encode()) == value  # a binary frame reads the same


def test_msgpack_round_trips_a_tagged_union_as_binary_frames() -> None:
    codec = MsgspecMsgpackCodec(Client)
    frame = codec.encode(Order([Item("tea", 2)]))
    assert type(frame) is bytes
    assert msgpack.unpackb(frame) == {"type": "order", "items": [{"name": "tea", "qty": 2}], "note": None}
    assert codec.decode(frame) == Order([Item("tea", 2)])
    assert codec.decode(msgpack.packb({"type": "join", "nick": "ann"})) == Join("ann")


def test_a_single_struct_and_a_non_struct_type() -> None:
    assert MsgspecJSONCodec(Item).decode('{"name":"a","qty":1}') == Item("a", 1)
    assert MsgspecJSONCodec(Item).encode(Item("a", 1)) == '{"name":"a","qty":1}'
    assert MsgspecMsgpackCodec(Item).decode(msgpack.packb({"name": "a", "qty": 1})) == Item("a", 1)
    numbers = MsgspecJSONCodec(list[int])
    assert numbers.encode([1, 2]) == "[1,2]"
    assert numbers.decode(b"[1, 2]") == [1, 2]
    with pytest.raises(DecodeError) as caught:
        numbers.decode('[1, "2"]')
    assert (caught.value.path, str(caught.value)) == ("$[1]", "JSON does not fit at $[1]: Expected `int`, got `str`")
    assert MsgspecMsgpackCodec(list[int]).decode(msgpack.packb([3])) == [3]


@pytest.mark.parametrize(("message", "path", "reason"), JSON_FRAMES_ALSO_AS_MSGPACK, ids=CASE_IDS)
def test_a_json_frame_that_does_not_fit_says_where(message: object, path: str, reason: str) -> None:
    for frame in (json.dumps(message), json.dumps(message).encode()):
        with pytest.raises(DecodeError) as caught:
            MsgspecJSONCodec(Client).decode(frame)
        assert caught.value.data == frame
        assert caught.value.path == path
        assert str(caught.value) == f"JSON does not fit at {path}: {reason}"
        assert isinstance(caught.value.__cause__, msgspec.ValidationError)


@pytest.mark.parametrize(("message", "path", "reason"), JSON_FRAMES_ALSO_AS_MSGPACK, ids=CASE_IDS)
def test_a_msgpack_frame_that_does_not_fit_says_where(message: object, path: str, reason: str) -> None:
    frame = msgpack.packb(message)
    with pytest.raises(DecodeError) as caught:
        MsgspecMsgpackCodec(Client).decode(frame)
    assert caught.value.data == frame
    assert caught.value.path == path
    assert str(caught.value) == f"msgpack does not fit at {path}: {reason}"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("{bad", "invalid JSON: JSON is malformed: object keys must be strings (byte 1)"),
        (b'{"type": "join"', "invalid JSON: Input data was truncated"),
        ("", "invalid JSON: Input data was truncated"),
        ('{"type": "join", "nick": "a"} x', "invalid JSON: JSON is malformed: trailing characters (byte 31)"),
    ],
    ids=["malformed", "truncated", "empty", "trailing"],
)
def test_malformed_json_has_no_path(frame: Data, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        MsgspecJSONCodec(Client).decode(frame)
    assert (caught.value.data, caught.value.path, str(caught.value)) == (frame, None, message)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"\xc1", "invalid msgpack: MessagePack data is malformed: invalid opcode '\\xc1' (byte 0)"),
        (msgpack.packb({"type": "join", "nick": "ann"})[:-1], "invalid msgpack: Input data was truncated"),
    ],
    ids=["reserved-byte", "truncated"],
)
def test_malformed_msgpack_has_no_path(frame: bytes, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        MsgspecMsgpackCodec(Client).decode(frame)
    assert (caught.value.data, caught.value.path, str(caught.value)) == (frame, None, message)


@pytest.mark.parametrize("frame", ['{"type":"join","nick":"ann"}', "\x82\xa4type\xa4join\xa4nick\xa3ann"])
def test_msgpack_refuses_a_text_frame_and_keeps_it(frame: str) -> None:
    with pytest.raises(DecodeError) as caught:
        MsgspecMsgpackCodec(Client).decode(frame)
    assert caught.value.data == frame
    assert caught.value.path is None
    assert str(caught.value) == "msgpack needs a binary frame, got a text frame"


def test_a_text_frame_that_is_no_utf_8_is_a_decode_error() -> None:
    # WebSocket text frames are UTF-8; a str with a lone surrogate cannot be one. JSONCodec (orjson)
    # refuses it with a DecodeError; so must a typed codec, whose decode promises nothing else.
    with pytest.raises(DecodeError) as caught:
        MsgspecJSONCodec(str).decode('"\ud800"')
    assert caught.value.data == '"\ud800"'
    assert caught.value.path is None


def test_strict_by_default_and_lax_when_asked() -> None:
    with pytest.raises(DecodeError) as caught:
        MsgspecJSONCodec(int).decode('"1"')
    assert (caught.value.path, str(caught.value)) == ("$", "JSON does not fit at $: Expected `int`, got `str`")
    assert MsgspecJSONCodec(int, strict=False).decode('"1"') == 1
    assert MsgspecJSONCodec(Item, strict=False).decode('{"name": "a", "qty": "7"}') == Item("a", 7)
    with pytest.raises(DecodeError) as caught:
        MsgspecMsgpackCodec(Item).decode(msgpack.packb({"name": "a", "qty": "7"}))
    assert caught.value.path == "$.qty"
    assert MsgspecMsgpackCodec(Item, strict=False).decode(msgpack.packb({"name": "a", "qty": "7"})) == Item("a", 7)


class Opaque:
    pass


@pytest.mark.parametrize("value", [{Opaque()}, Opaque(), [1, object()]], ids=["set-of-objects", "instance", "nested"])
def test_what_msgspec_cannot_write_is_an_encode_error(value: object) -> None:
    kind = "Opaque" if not isinstance(value, list) else "object"
    with pytest.raises(EncodeError) as caught:
        MsgspecJSONCodec[object](Client).encode(value)
    assert str(caught.value) == f"cannot encode as JSON: Encoding objects of type {kind} is unsupported"
    assert isinstance(caught.value, ValueError)
    with pytest.raises(EncodeError) as caught:
        MsgspecMsgpackCodec[object](Client).encode(value)
    assert str(caught.value) == f"cannot encode as msgpack: Encoding objects of type {kind} is unsupported"


def test_an_int_msgpack_cannot_hold_is_an_encode_error() -> None:
    with pytest.raises(EncodeError) as caught:
        MsgspecMsgpackCodec(int).encode(2**64)
    assert str(caught.value) == "cannot encode as msgpack: can't serialize ints < -2**63 or > 2**64 - 1"


def test_json_schema_is_msgspecs_with_the_given_references() -> None:
    template = "#/components/schemas/{name}"
    for codec in (MsgspecJSONCodec(Client), MsgspecMsgpackCodec(Client)):
        schema, components = codec.json_schema(template, "validation")
        assert schema == {
            "anyOf": [{"$ref": "#/components/schemas/Join"}, {"$ref": "#/components/schemas/Order"}],
            "discriminator": {
                "propertyName": "type",
                "mapping": {"join": "#/components/schemas/Join", "order": "#/components/schemas/Order"},
            },
        }
        assert components["Item"] == {
            "title": "Item",
            "type": "object",
            "properties": {"name": {"type": "string"}, "qty": {"type": "integer"}},
            "required": ["name", "qty"],
        }
        assert sorted(components) == ["Item", "Join", "Order"]
        ((expected,), expected_components) = msgspec.json.schema_components((Client,), ref_template=template)
        assert (schema, components) == (expected, expected_components)
        assert codec.json_schema(template, "serialization") == (schema, components)
    schema, components = MsgspecJSONCodec(list[int]).json_schema("#/$defs/{name}", "validation")
    assert (schema, components) == ({"type": "array", "items": {"type": "integer"}}, {})
    schema, components = MsgspecJSONCodec(Order).json_schema("#/$defs/{name}", "serialization")
    assert schema == {"$ref": "#/$defs/Order"}
    assert components["Order"]["properties"] == {
        "type": {"enum": ["order"]},
        "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    }


def test_repr_and_class_attributes() -> None:
    assert repr(MsgspecJSONCodec(Join)) == "MsgspecJSONCodec(Join)"
    assert repr(MsgspecMsgpackCodec(Item)) == "MsgspecMsgpackCodec(Item)"
    module = __name__
    assert repr(MsgspecJSONCodec(Client)) == f"MsgspecJSONCodec({module}.Join | {module}.Order)"
    assert (MsgspecJSONCodec.format_name, MsgspecJSONCodec.content_type) == ("JSON", "application/json")
    assert (MsgspecMsgpackCodec.format_name, MsgspecMsgpackCodec.content_type) == ("msgpack", "application/msgpack")
    assert MsgspecJSONCodec(Client).type == Client


def test_repr_of_a_generic_type_keeps_its_arguments() -> None:
    # MsgspecJSONCodec(list) is another codec: it decodes ["x"] where this one refuses it.
    assert repr(MsgspecJSONCodec(list[int])) == "MsgspecJSONCodec(list[int])"
    assert repr(MsgspecMsgpackCodec(dict[str, int])) == "MsgspecMsgpackCodec(dict[str, int])"


@given(clients)
def test_any_client_message_round_trips(value: Join | Order) -> None:
    text = MsgspecJSONCodec(Client).encode(value)
    binary = MsgspecMsgpackCodec(Client).encode(value)
    assert type(text) is str and type(binary) is bytes
    assert MsgspecJSONCodec(Client).decode(text) == value
    assert MsgspecMsgpackCodec(Client).decode(binary) == value


@given(samples)
def test_any_struct_round_trips(value: Sample) -> None:
    assert MsgspecJSONCodec(Sample).decode(MsgspecJSONCodec(Sample).encode(value)) == value
    assert MsgspecMsgpackCodec(Sample).decode(MsgspecMsgpackCodec(Sample).encode(value)) == value


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["transport", "asgi"])
async def test_over_a_socket_a_bad_frame_keeps_the_connection_open(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "MESSAGE_PATH", path)
    async with opened() as pair:
        json_sock = CodecSocket(pair.ws, MsgspecJSONCodec(Client))
        msgpack_sock = CodecSocket(pair.ws, MsgspecMsgpackCodec(Client))
        with anyio.fail_after(LIMIT):
            await json_sock.send(Join("ann"))
            assert await pair.client.receive() == '{"type":"join","nick":"ann"}'
            await msgpack_sock.send(Join("ann"))
            assert await pair.client.receive() == msgpack.packb({"type": "join", "nick": "ann"})
            await pair.client.send('{"type": "join", "nick": 5}')
            with pytest.raises(DecodeError) as caught:
                await json_sock.receive()
            assert (caught.value.data, caught.value.path) == ('{"type": "join", "nick": 5}', "$.nick")
            await pair.client.send('{"type": "join", "nick": "bob"}')
            with pytest.raises(DecodeError) as caught:
                await msgpack_sock.receive()
            assert (caught.value.data, caught.value.path) == ('{"type": "join", "nick": "bob"}', None)
            await pair.client.send(msgpack.packb({"type": "order", "items": []}))
            assert await msgpack_sock.receive() == Order([])


def test_a_missing_msgspec_names_the_extra_to_install() -> None:
    program = (
        "import sys; sys.modules['msgspec'] = None\n"
        "import simple_websocket.codecs as codecs\n"
        "try:\n"
        "    codecs.MsgspecJSONCodec\n"
        "except ImportError as error:\n"
        "    print(error, error.name)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout == "the msgspec codecs need msgspec: pip install 'simple-websocket-asgi[msgspec]' msgspec\n"
