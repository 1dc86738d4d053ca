"""examples/quickstart.py, testing_handlers.py and errors.py, as the README shows them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest
from starlette.testclient import TestClient
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from examples import errors, testing_handlers

from .support.servers import output_of, running

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module", params=["app", "echo_app"])
def quickstart_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with running("uvicorn-websockets", f"examples.quickstart:{request.param}") as url:
        yield url


@pytest.fixture(scope="module")
def errors_url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.errors:app") as url:
        yield url


@pytest.mark.server
async def test_quickstart_echoes_with_the_chat_subprotocol(quickstart_url: str) -> None:
    async with connect(quickstart_url, subprotocols=[Subprotocol("chat")], open_timeout=5) as client:
        assert client.subprotocol == "chat"
        for data in ("hi", b"\x00", ""):
            await client.send(data)
            assert await client.recv() == data


async def test_the_testing_example_passes() -> None:
    await testing_handlers.check_echo()


@pytest.mark.server
async def test_a_dropped_connection_is_logged_as_1006(errors_url: str) -> None:
    client = await connect(errors_url, open_timeout=5)
    await client.send("hi")
    assert await client.recv() == "hi"
    assert client.transport is not None
    client.transport.abort()
    deadline = time.monotonic() + 5
    while "client left: code 1006, by_peer=True" not in output_of(errors_url):
        assert time.monotonic() < deadline, output_of(errors_url)
        await anyio.sleep(0.05)  # the aborted socket is only closed once the loop runs


def test_an_unknown_message_type_is_reported_and_the_connection_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(errors.app) as client, client.websocket_connect("/") as ws:
        ws.send({"type": "websocket.ping"})
        assert ws.receive_text() == "ignored websocket.ping"
        ws.send_text("still here")
        assert ws.receive_text() == "still here"
    assert "ignored ASGI message 'websocket.ping'" in caplog.text


def test_a_malformed_message_closes_with_1011(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(errors.app) as client, client.websocket_connect("/") as ws:
        ws.send({"type": "websocket.receive"})
        assert ws.receive() == {"type": "websocket.close", "code": 1011, "reason": "server error"}
    assert "malformed ASGI message" in caplog.text
