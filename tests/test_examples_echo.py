"""examples/echo.py through a real uvicorn process: the page loads and the socket echoes."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from .support.servers import running

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.echo:app") as base:
        yield base


def test_page_is_served(url: str) -> None:
    with urllib.request.urlopen(url.replace("ws://", "http://") + "/", timeout=5) as response:
        assert response.status == 200
        assert b"new WebSocket" in response.read()


async def test_socket_echoes_with_the_echo_subprotocol(url: str) -> None:
    async with connect(url + "/ws", subprotocols=[Subprotocol("echo")], open_timeout=5) as client:
        assert client.subprotocol == "echo"
        await client.send("hi")
        assert await client.recv() == "hi"
        await client.send(b"\x01")
        assert await client.recv() == b"\x01"
