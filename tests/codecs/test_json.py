"""The orjson codecs: round trips, options, and hostile input."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_websocket import DecodeError, EncodeError
from simple_websocket.codecs import JSONBinaryCodec, JSONCodec

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_round_trip_in_both_frame_kinds(value: object) -> None:
    text = JSONCodec().encode(value)
    binary = JSONBinaryCodec().encode(value)
    assert type(text) is str and type(binary) is bytes
    assert JSONCodec().decode(text) == value
    assert JSONCodec().decode(binary) == value  # a text codec reads binary frames too
    assert JSONBinaryCodec().decode(text) == value
    assert json.loads(text) == value


def test_non_finite_floats_become_null_as_orjson_writes_them() -> None:
    assert JSONCodec().encode([float("inf"), float("nan")]) == "[null,null]"


def test_options_pass_through() -> None:
    assert JSONCodec(sort_keys=True).encode({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert JSONCodec(non_str_keys=True).encode({1: "x"}) == '{"1":"x"}'
    naive = datetime.datetime(2026, 1, 1, 12, 0)
    assert JSONCodec(naive_utc=True).encode(naive) == '"2026-01-01T12:00:00+00:00"'


@dataclass
class Point:
    x: int


class Opaque:
    pass


def test_default_hook_and_encode_errors() -> None:
    assert JSONCodec(default=lambda obj: sorted(obj) if isinstance(obj, set) else str(obj)).encode({1, 2}) == "[1,2]"
    assert JSONCodec().encode(Point(1)) == '{"x":1}'
    with pytest.raises(EncodeError) as caught:
        JSONCodec().encode(Opaque())
    assert isinstance(caught.value, ValueError)
    with pytest.raises(EncodeError):
        JSONCodec().encode({1: "x"})  # non-str keys need the option
    with pytest.raises(EncodeError):
        JSONCodec().encode(2**64)
    with pytest.raises(EncodeError, match="cannot encode as JSON"):
        JSONBinaryCodec().encode(Opaque())


@pytest.mark.parametrize(
    "frame",
    ['{"a": 1', "", "nul", "[1,]", b"\xff\xfe", "[" * 5000 + "]" * 5000, "1" * 400, '{"a": NaN}', b"\x00"],
    ids=["truncated", "empty", "word", "trailing-comma", "not-utf8", "deep", "huge-int", "nan", "nul"],
)
def test_hostile_frames_are_decode_errors_that_keep_the_frame(frame: str | bytes) -> None:
    with pytest.raises(DecodeError) as caught:
        JSONCodec().decode(frame)
    assert caught.value.data == frame


@given(st.text() | st.binary())
def test_random_frames_decode_or_raise_decode_error(frame: str | bytes) -> None:
    try:
        JSONCodec().decode(frame)
    except DecodeError as error:
        assert error.data == frame  # noqa: PT017  # either outcome is right; a DecodeError must keep the frame


def test_converter_gives_typed_results_and_its_failures_are_decode_errors() -> None:
    def to_point(obj: object) -> Point:
        if isinstance(obj, dict) and isinstance(obj.get("x"), int):
            return Point(obj["x"])
        raise ValueError("not a point")

    codec = JSONCodec(to_point)
    assert codec.decode('{"x": 3}') == Point(3)
    with pytest.raises(DecodeError) as caught:
        codec.decode('{"y": 3}')
    assert caught.value.data == '{"y": 3}'
