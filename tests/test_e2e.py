"""WebSocketASGI on real uvicorn and hypercorn processes, with the websockets client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError
from websockets.typing import Subprotocol

from .servers import running

pytestmark = [pytest.mark.anyio, pytest.mark.server]



@pytest.fixture(scope="module", params=["uvicorn-websockets", "uvicorn-wsproto", "hypercorn-asyncio", "hypercorn-trio"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with running(request.param, "tests.e2e_app:app") as base:
        yield base


async def test_echo_keeps_frame_kinds_and_empty_messages(url: str) -> None:
    async with connect(url + "/echo", subprotocols=[Subprotocol("a")], open_timeout=5) as client:
        assert client.subprotocol == "a"
        for data in ("hello", "", b"\x00\x01", b""):
            await client.send(data)
            echoed = await client.recv()
            assert echoed == data
            assert type(echoed) is type(data)


async def test_app_close_reaches_the_client_with_code_and_reason(url: str) -> None:
    async with connect(url + "/close", open_timeout=5) as client:
        with pytest.raises(ConnectionClosedError) as caught:
            await client.recv()
    assert caught.value.rcvd is not None
    assert (caught.value.rcvd.code, caught.value.rcvd.reason) == (4001, "bye")


async def test_client_close_ends_the_apps_loop(url: str) -> None:
    for _ in range(3):  # the server survives clients leaving in turn
        async with connect(url + "/echo", open_timeout=5) as client:
            await client.send("x")
            assert await client.recv() == "x"
            await client.close(4002, "cya")
