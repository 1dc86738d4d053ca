"""The codec examples through a real uvicorn process and the websockets client."""

from __future__ import annotations

from collections.abc import Iterator

import msgpack
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from ..support.servers import running

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(scope="module")
def json_url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.codecs_json:app") as url:
        yield url


@pytest.fixture(scope="module")
def msgpack_url() -> Iterator[str]:
    with running("hypercorn-asyncio", "examples.codecs_msgpack:app") as url:
        yield url


async def test_json_example_echoes_objects_and_answers_bad_json(json_url: str) -> None:
    async with connect(json_url, open_timeout=5) as client:
        await client.send(orjson.dumps({"text": "hi", "n": [1, 2.5, None]}).decode())
        reply = await client.recv()
        assert isinstance(reply, str)
        assert orjson.loads(reply) == {"echo": {"text": "hi", "n": [1, 2.5, None]}, "count": 1}
        await client.send("{oops")
        assert orjson.loads(await client.recv()) == {"error": "invalid JSON", "frame": "{oops"}
        await client.send(b'{"binary": true}')
        assert orjson.loads(await client.recv()) == {"echo": {"binary": True}, "count": 2}


async def test_msgpack_example_echoes_and_closes_on_text(msgpack_url: str) -> None:
    async with connect(msgpack_url, open_timeout=5) as client:
        value = {"a": [1, b"\x00", "ü"], "b": {"c": None}}
        await client.send(msgpack.packb(value))
        reply = await client.recv()
        assert isinstance(reply, bytes)
        assert msgpack.unpackb(reply) == value
        await client.send("not msgpack")
        with pytest.raises(ConnectionClosedError) as caught:
            await client.recv()
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1003
