"""The pydantic codec: a discriminated union, DecodeError paths in the frame, JSON-mode rules, schemas."""

from __future__ import annotations

import datetime
import subprocess
import sys
import warnings
from typing import Annotated, Literal

import anyio
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, computed_field

from simple_websocket import DecodeError, EncodeError
from simple_websocket.codecs import CodecSocket, PydanticJSONCodec
from simple_websocket.codecs._typed import json_path
from simple_websocket.typing import Data

from ..support import memory
from ..support.memory import LIMIT, opened


class Join(BaseModel):
    type: Literal["join"]
    nick: str


class Post(BaseModel):
    type: Literal["post"]
    tags: list[str]
    counts: dict[str, int] = {}


Client = Annotated[Join | Post, Field(discriminator="type")]


class Stamp(BaseModel):
    at: datetime.datetime = Field(strict=True)


class Box(BaseModel):
    width: int
    height: int = 1

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented use on a property
    @property
    def area(self) -> int:
        return self.width * self.height


def decode_error(codec: PydanticJSONCodec[object], frame: Data) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        codec.decode(frame)
    assert caught.value.data == frame
    return caught.value


def test_a_discriminated_union_round_trips_in_text_frames() -> None:
    codec = PydanticJSONCodec(Client)
    frame = codec.encode(Join(type="join", nick="ann"))
    assert frame == '{"type":"join","nick":"ann"}'
    assert codec.decode(frame) == Join(type="join", nick="ann")
    assert codec.decode(frame.encode()) == Join(type="join", nick="ann")  # a binary frame reads the same
    post = Post(type="post", tags=["a", "b"], counts={"x": 1})
    assert codec.encode(post) == '{"type":"post","tags":["a","b"],"counts":{"x":1}}'
    assert codec.decode(codec.encode(post)) == post
    assert codec.decode('{"type": "post", "tags": []}') == Post(type="post", tags=[])


@pytest.mark.parametrize(
    ("frame", "path", "reason"),
    [
        ('{"type": "join", "nick": 1}', "$.nick", "Input should be a valid string"),
        ('{"type": "post", "tags": ["a", 2]}', "$.tags[1]", "Input should be a valid string"),
        (
            '{"type": "post", "tags": [], "counts": {"a b": "x"}}',
            "$.counts['a b']",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            '{"type": "post", "tags": [], "counts": {"it\'s": "x"}}',
            "$.counts['it\\'s']",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        ('{"type": "join"}', "$", "Field required"),  # pydantic's loc is the missing key's: ('join', 'nick')
        ("[1]", "$", "Input should be an object"),
        (
            '{"type": "nope"}',
            "$",
            "Input tag 'nope' found using 'type' does not match any of the expected tags: 'join', 'post'",
        ),
        ('{"nick": "ann"}', "$", "Unable to extract tag using discriminator 'type'"),
    ],
    ids=["field", "index", "key-with-space", "key-with-quote", "missing", "root", "unknown-tag", "no-tag"],
)
def test_a_frame_that_does_not_fit_says_where_in_the_frame(frame: str, path: str, reason: str) -> None:
    for sent in (frame, frame.encode()):
        error = decode_error(PydanticJSONCodec[object](Client), sent)
        assert error.path == path
        assert str(error) == f"JSON does not fit at {path}: {reason}"
        assert isinstance(error.__cause__, pydantic.ValidationError)


def test_the_first_error_is_told_and_the_others_counted() -> None:
    error = decode_error(PydanticJSONCodec[object](Client), '{"type": "post", "tags": [1, "b", 3, 4]}')
    assert error.path == "$.tags[0]"
    assert str(error) == "JSON does not fit at $.tags[0]: Input should be a valid string (and 2 more)"


class TagA(BaseModel):
    type: Literal["a"]
    a: int


class TagB(BaseModel):
    type: Literal["b"]
    b: int


Tagged = Annotated[TagA | TagB, Field(discriminator="type")]


def test_a_tag_named_like_a_field_is_no_step_of_the_path() -> None:
    # pydantic's loc is ('a', 'a'): the union member's tag, then the field.
    error = decode_error(PydanticJSONCodec[object](Tagged), '{"type": "a", "a": "x"}')
    assert error.path == "$.a"


def test_a_union_member_below_a_scalar_is_no_step_of_the_path() -> None:
    # pydantic's loc is (1, 'int') and (1, 'bool'): the index, then the union members tried.
    error = decode_error(PydanticJSONCodec[object](list[int | bool]), '[1, "x"]')
    assert error.path == "$[1]"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("{bad", "invalid JSON: Invalid JSON: key must be a string at line 1 column 2"),
        ('{"type": "join"', "invalid JSON: Invalid JSON: EOF while parsing an object at line 1 column 15"),
        (b"\xff", "invalid JSON: Invalid JSON: expected value at line 1 column 1"),
    ],
    ids=["malformed", "truncated", "not-utf-8"],
)
def test_malformed_json_has_no_path(frame: Data, message: str) -> None:
    error = decode_error(PydanticJSONCodec[object](Client), frame)
    assert (error.path, str(error)) == (None, message)


class Opaque:
    pass


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Opaque(), "Unable to serialize unknown type: <class 'tests.codecs.test_pydantic.Opaque'>"),
        ({"type": "join", "nick": "ann"}, "Pydantic serializer warnings:"),
        (Stamp(at=datetime.datetime(2026, 1, 1)), "Pydantic serializer warnings:"),
    ],
    ids=["object", "dict", "other-model"],
)
def test_what_is_no_member_is_an_encode_error_not_a_warning(value: object, message: str) -> None:
    with warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        with pytest.raises(EncodeError) as caught:
            PydanticJSONCodec[object](Client).encode(value)
    assert str(caught.value).startswith(f"cannot encode as JSON: {message}")
    assert caught_warnings == []


def test_strict_refuses_a_str_for_an_int() -> None:
    assert PydanticJSONCodec(int).decode('"1"') == 1
    error = decode_error(PydanticJSONCodec[object](int, strict=True), '"1"')
    assert (error.path, str(error)) == ("$", "JSON does not fit at $: Input should be a valid integer")
    assert PydanticJSONCodec(int, strict=False).decode('"1"') == 1


def test_json_rules_let_a_strict_datetime_field_take_an_iso_8601_string() -> None:
    at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    frame = '{"at": "2026-01-02T03:04:05Z"}'
    with pytest.raises(pydantic.ValidationError):
        Stamp.model_validate({"at": "2026-01-02T03:04:05Z"})  # Python rules refuse the str
    assert PydanticJSONCodec(Stamp).decode(frame) == Stamp(at=at)
    assert PydanticJSONCodec(Stamp, strict=True).decode(frame.encode()) == Stamp(at=at)
    assert PydanticJSONCodec(Stamp).encode(Stamp(at=at)) == '{"at":"2026-01-02T03:04:05Z"}'
    error = decode_error(PydanticJSONCodec[object](Stamp), '{"at": 5}')
    assert (error.path, str(error)) == ("$.at", "JSON does not fit at $.at: Input should be a valid datetime")


def test_json_schema_validation_and_serialization_differ() -> None:
    codec = PydanticJSONCodec(Box)
    template = "#/components/schemas/{name}"
    accepted, accepted_components = codec.json_schema(template, "validation")
    written, written_components = codec.json_schema(template, "serialization")
    assert accepted == {
        "properties": {
            "width": {"title": "Width", "type": "integer"},
            "height": {"default": 1, "title": "Height", "type": "integer"},
        },
        "required": ["width"],
        "title": "Box",
        "type": "object",
    }
    assert written == {
        "properties": {
            "width": {"title": "Width", "type": "integer"},
            "height": {"default": 1, "title": "Height", "type": "integer"},
            "area": {"readOnly": True, "title": "Area", "type": "integer"},
        },
        "required": ["width", "area"],
        "title": "Box",
        "type": "object",
    }
    assert accepted_components == written_components == {}
    assert codec.encode(Box(width=2, height=3)) == '{"width":2,"height":3,"area":6}'


def test_json_schema_of_a_union_uses_the_ref_template() -> None:
    schema, components = PydanticJSONCodec(Client).json_schema("#/components/schemas/{name}", "validation")
    assert schema == {
        "discriminator": {
            "mapping": {"join": "#/components/schemas/Join", "post": "#/components/schemas/Post"},
            "propertyName": "type",
        },
        "oneOf": [{"$ref": "#/components/schemas/Join"}, {"$ref": "#/components/schemas/Post"}],
    }
    assert sorted(components) == ["Join", "Post"]
    assert components["Join"] == {
        "properties": {
            "type": {"const": "join", "title": "Type", "type": "string"},
            "nick": {"title": "Nick", "type": "string"},
        },
        "required": ["type", "nick"],
        "title": "Join",
        "type": "object",
    }
    schema, _ = PydanticJSONCodec(Client).json_schema("#/$defs/{name}", "serialization")
    assert schema["oneOf"] == [{"$ref": "#/$defs/Join"}, {"$ref": "#/$defs/Post"}]


@pytest.mark.parametrize(
    ("steps", "path"),
    [
        ((), "$"),
        ([], "$"),
        (("a", 1, "b"), "$.a[1].b"),
        (["_x9", -1], "$._x9[-1]"),
        ((True, False), "$['True']['False']"),  # bools are no indexes
        (("a b", "9x", ""), "$['a b']['9x']['']"),
        (("it's",), "$['it\\'s']"),
        (("back\\slash",), "$['back\\\\slash']"),
        (("é",), "$['é']"),
        (("a.b",), "$['a.b']"),
        ("ab", "$"),  # a str is no sequence of steps
        (None, "$"),
    ],
)
def test_json_path(steps: object, path: str) -> None:
    assert json_path(steps) == path


def test_repr_and_class_attributes() -> None:
    assert repr(PydanticJSONCodec(Join)) == "PydanticJSONCodec(Join)"
    module = __name__
    assert repr(PydanticJSONCodec(Join | Post)) == f"PydanticJSONCodec({module}.Join | {module}.Post)"
    assert (PydanticJSONCodec.format_name, PydanticJSONCodec.content_type) == ("JSON", "application/json")
    assert PydanticJSONCodec(Client).type == Client


@given(st.text(), st.lists(st.text(), max_size=4), st.dictionaries(st.text(max_size=8), st.integers(), max_size=4))
def test_any_message_round_trips(nick: str, tags: list[str], counts: dict[str, int]) -> None:
    codec = PydanticJSONCodec(Client)
    for value in (Join(type="join", nick=nick), Post(type="post", tags=tags, counts=counts)):
        assert codec.decode(codec.encode(value)) == value


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["transport", "asgi"])
async def test_over_a_socket_a_bad_frame_keeps_the_connection_open(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "MESSAGE_PATH", path)
    async with opened() as pair:
        sock = CodecSocket(pair.ws, PydanticJSONCodec(Client))
        with anyio.fail_after(LIMIT):
            await sock.send(Join(type="join", nick="ann"))
            assert await pair.client.receive() == '{"type":"join","nick":"ann"}'
            await pair.client.send(b'{"type": "post", "tags": ["a", 1]}')
            with pytest.raises(DecodeError) as caught:
                await sock.receive()
            assert (caught.value.data, caught.value.path) == (b'{"type": "post", "tags": ["a", 1]}', "$.tags[1]")
            await pair.client.send('{"type": "join", "nick": "bob"}')
            assert await sock.receive() == Join(type="join", nick="bob")


def test_a_missing_pydantic_names_the_extra_to_install() -> None:
    program = (
        "import sys; sys.modules['pydantic'] = None\n"
        "import simple_websocket.codecs as codecs\n"
        "try:\n"
        "    codecs.PydanticJSONCodec\n"
        "except ImportError as error:\n"
        "    print(error, error.name)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    message = "the pydantic codec needs pydantic: pip install 'simple-websocket-asgi[pydantic]'"
    assert result.stdout == f"{message} pydantic\n"


def test_the_classes_of_a_type_are_read_through_annotated_and_unions() -> None:
    from simple_websocket.codecs.pydantic import _classes_of

    assert _classes_of(Client) == {Join, Post}
    assert _classes_of(Join | None) == {Join, type(None)}
    assert _classes_of(list[int]) == frozenset()
    assert _classes_of(Join | list[int]) == frozenset()  # not only classes: every object is checked whole


def test_a_member_is_written_as_pydantic_writes_it_and_a_subclass_is_checked_whole() -> None:
    class Joiner(Join):  # a subclass: not one of T's classes, written through the check
        pass

    codec = PydanticJSONCodec(Client)
    assert codec.encode(Join(type="join", nick="ann")) == codec.encode(Joiner(type="join", nick="ann"))
    broken = Join.model_construct(type="join", nick=7)  # a wrong-typed field, as model_construct allows
    with pytest.warns(UserWarning, match="serialized value may not be as expected"):
        assert codec.encode(broken) == '{"type":"join","nick":7}'
    with pytest.raises(EncodeError):
        PydanticJSONCodec(list[int]).encode(["x"])  # type: ignore[list-item]  # what the check is for
