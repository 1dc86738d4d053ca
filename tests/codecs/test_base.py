"""CodecSocket over the in-memory transport, on asyncio and trio, over each message path."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings

from simple_websocket import Close, ConnectionClosed, DecodeError
from simple_websocket.codecs import CodecSocket, JSONCodec, MsgpackCodec

from ..support import memory
from ..support.memory import opened
from .test_json import json_values
from .test_msgpack import msgpack_values

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["transport", "asgi", "asgi-limited", "asgi-metered"], autouse=True)
def message_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test over the general Transport path and the ASGI per-message path: plain, size-limited, metered."""
    monkeypatch.setattr(memory, "MESSAGE_PATH", request.param)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
async def test_json_objects_round_trip_as_text_frames(value: object) -> None:
    async with opened() as pair:
        sock = CodecSocket(pair.ws, JSONCodec())
        await sock.send(value)
        frame = await pair.client.receive()
        assert isinstance(frame, str)
        await pair.client.send(frame)
        assert await sock.receive() == value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=msgpack_values)
async def test_msgpack_objects_round_trip_as_binary_frames(value: object) -> None:
    async with opened() as pair:
        sock = CodecSocket(pair.ws, MsgpackCodec())
        await sock.send(value)
        frame = await pair.client.receive()
        assert isinstance(frame, bytes)
        await pair.client.send(frame)
        assert await sock.receive() == value


async def test_a_bad_frame_is_a_decode_error_and_the_connection_stays_open() -> None:
    async with opened() as pair:
        sock = CodecSocket(pair.ws, JSONCodec())
        await pair.client.send("{broken")
        with pytest.raises(DecodeError) as caught:
            await sock.receive()
        assert caught.value.data == "{broken"
        await pair.client.send('{"ok": true}')
        assert await sock.receive() == {"ok": True}


async def test_wrong_frame_kind_then_close_unsupported() -> None:
    async with opened() as pair:
        sock = CodecSocket(pair.ws, MsgpackCodec())
        await pair.client.send("text")
        with pytest.raises(DecodeError):
            await sock.receive()
        await sock.close_unsupported()
        assert await pair.client.receive() == Close(1003, "unsupported data")


async def test_close_invalid_uses_1007() -> None:
    async with opened() as pair:
        await CodecSocket(pair.ws, JSONCodec()).close_invalid("bad json")
        assert await pair.client.receive() == Close(1007, "bad json")


async def test_receive_timeout_and_iteration() -> None:
    async with opened() as pair:
        sock = CodecSocket(pair.ws, JSONCodec())
        assert await sock.receive(timeout=0.02) is None
        await pair.client.send("[1]")
        assert await sock.receive(timeout=1) == [1]
        for frame in ("1", "2"):
            await pair.client.send(frame)
        await pair.client.disconnect(1000)
        assert [obj async for obj in sock] == [1, 2]


async def test_a_default_tells_a_timeout_from_a_null_message() -> None:
    timed_out = object()
    async with opened() as pair:
        sock = CodecSocket(pair.ws, JSONCodec())
        assert await sock.receive(timeout=0.02, default=timed_out) is timed_out
        await pair.client.send("null")
        assert await sock.receive(timeout=1, default=timed_out) is None
        await pair.client.send("null")
        assert await sock.receive(timeout=1) is None  # without a default, a null and a timeout look alike


async def test_iteration_raises_on_an_abnormal_close() -> None:
    async with opened() as pair:
        await pair.client.disconnect(1011)
        with pytest.raises(ConnectionClosed):
            async for _ in CodecSocket(pair.ws, JSONCodec()):
                pass


async def test_the_core_stays_usable_beside_the_adapter() -> None:
    async with opened() as pair:
        codec = JSONCodec()
        sock = CodecSocket(pair.ws, codec)
        await pair.ws.send(codec.encode({"a": 1}))
        await sock.send({"a": 1})
        assert await pair.client.receive() == await pair.client.receive() == '{"a":1}'


@pytest.mark.parametrize(
    ("module", "codec", "extra"), [("orjson", "JSONCodec", "json"), ("msgpack", "MsgpackCodec", "msgpack")]
)
def test_a_missing_library_names_the_extra_to_install(module: str, codec: str, extra: str) -> None:
    program = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "import simple_websocket.codecs as codecs\n"
        "try:\n"
        f"    codecs.{codec}\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert f"pip install 'simple-websocket-asgi[{extra}]'" in result.stdout
