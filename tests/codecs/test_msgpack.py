"""The msgpack codec: round trips, safe defaults, and hostile input."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_websocket import DecodeError, EncodeError
from simple_websocket.codecs import MsgpackCodec

msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@given(msgpack_values)
def test_round_trip(value: object) -> None:
    codec = MsgpackCodec()
    frame = codec.encode(value)
    assert type(frame) is bytes
    assert codec.decode(frame) == value


def test_text_frames_are_refused() -> None:
    with pytest.raises(DecodeError) as caught:
        MsgpackCodec().decode("text frame")
    assert caught.value.data == "text frame"


@pytest.mark.parametrize(
    "frame",
    [
        msgpack.packb({"a": [1, 2, 3]})[:-1],  # truncated
        b"\xc1",  # never-used byte
        msgpack.packb([1]) + b"\x01",  # extra data
        b"\x91" * 100_000 + b"\x90",  # deeply nested
        msgpack.packb({1: "x"}),  # non-str map key
        msgpack.packb(msgpack.ExtType(42, b"data")),  # unknown extension type
        b"\xdb\xff\xff\xff\xff",  # a 4 GiB string announced in 5 bytes
        b"\xa2\xff\xfe",  # invalid UTF-8 string
    ],
    ids=["truncated", "reserved", "extra", "deep", "int-key", "ext", "huge-length", "bad-utf8"],
)
def test_hostile_frames_are_decode_errors(frame: bytes) -> None:
    with pytest.raises(DecodeError) as caught:
        MsgpackCodec().decode(frame)
    assert caught.value.data == frame


@given(st.binary(max_size=64))
def test_random_frames_decode_or_raise_decode_error(frame: bytes) -> None:
    try:
        MsgpackCodec().decode(frame)
    except DecodeError as error:
        assert error.data == frame  # noqa: PT017  # either outcome is right; a DecodeError must keep the frame


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


def test_ext_hooks_pass_through() -> None:
    def default(obj: object) -> object:
        if isinstance(obj, Money):
            return msgpack.ExtType(1, obj.cents.to_bytes(8, "big"))
        raise TypeError(f"cannot pack {type(obj).__name__}")

    def ext_hook(code: int, data: bytes) -> object:
        return Money(int.from_bytes(data, "big")) if code == 1 else msgpack.ExtType(code, data)

    codec = MsgpackCodec(default=default, ext_hook=ext_hook)
    decoded = codec.decode(codec.encode([Money(250)]))
    assert isinstance(decoded, list) and isinstance(decoded[0], Money) and decoded[0].cents == 250
    with pytest.raises(EncodeError):
        codec.encode(object())
    with pytest.raises(EncodeError):
        MsgpackCodec().encode(2**64)


def test_a_failed_encode_leaves_nothing_behind() -> None:
    codec = MsgpackCodec()
    with pytest.raises(EncodeError):
        codec.encode([1, 2, object()])
    assert codec.decode(codec.encode([3])) == [3]


def test_converter() -> None:
    codec = MsgpackCodec(lambda obj: int(obj) if isinstance(obj, int) else int("x"))
    assert codec.decode(codec.encode(5)) == 5
    with pytest.raises(DecodeError):
        codec.decode(codec.encode("five"))


TIMESTAMP_WIDTHS = {
    "fixext4": b"\xd6\xff" + bytes(4),
    "fixext8": b"\xd7\xff" + bytes(8),
    "ext8-96": b"\xc7\x0c\xff" + bytes(12),
    "ext8-32": b"\xc7\x04\xff" + bytes(4),
    "ext16-64": b"\xc8\x00\x08\xff" + bytes(8),
    "ext32-32": b"\xc9\x00\x00\x00\x04\xff" + bytes(4),
    "nested": msgpack.packb([1, {"at": [msgpack.Timestamp(1, 2)]}]),
}


@pytest.mark.parametrize("frame", TIMESTAMP_WIDTHS.values(), ids=TIMESTAMP_WIDTHS.keys())
def test_timestamps_are_decode_errors_by_default(frame: bytes) -> None:
    assert MsgpackCodec(timestamps=True).decode(frame)  # msgpack itself reads it as a timestamp
    for codec in (MsgpackCodec(), MsgpackCodec(ext_hook=lambda code, data: data)):
        with pytest.raises(DecodeError) as caught:
            codec.decode(frame)
        assert caught.value.data == frame


def test_timestamps_when_asked_for() -> None:
    codec = MsgpackCodec(timestamps=True)
    decoded = codec.decode(codec.encode({"at": msgpack.Timestamp(1_700_000_000, 5)}))
    assert decoded == {"at": msgpack.Timestamp(1_700_000_000, 5)}


def test_bytes_that_look_like_a_timestamp_are_not_one() -> None:
    value = [-1, b"\xd6\xff\x00\x00\x00\x00", "\xff"]
    assert MsgpackCodec().decode(msgpack.packb(value)) == value
