"""The Django Channels example on real daphne and uvicorn processes, with the websockets client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ..client import opening, recv
from ..servers import running
from .checks import answers, closes_with_4000_bye, http_get

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.compat("framework", "Django Channels")]

QUIRKS = {"Django Channels": {"route websocket_app(...) in URLRouter: a consumer cannot drive WebSocketASGI"}}


@dataclass(frozen=True)
class Server:
    name: str
    base: str  # ws://host:port

    @property
    def echo(self) -> str:
        return self.base + "/ws/echo/"


@pytest.fixture(scope="module", params=["daphne", "uvicorn-websockets"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    name: str = request.param
    with running(name, "examples.frameworks.channels_app:application") as base:
        yield Server(name, base)


async def test_text_and_binary_echo(server: Server) -> None:
    async with opening(server.echo) as client:
        for data in ("hello", b"\x00\x01"):
            await client.send(data)
            echoed = await recv(client)
            assert echoed == data
            assert type(echoed) is type(data)


async def test_subprotocol_is_negotiated(server: Server) -> None:
    async with opening(server.echo, "echo.v1") as client:
        assert client.subprotocol == "echo.v1"
        await client.send("subprotocol?")
        assert await recv(client) == "echo.v1"


async def test_handler_sees_the_user_from_auth_middleware(server: Server) -> None:
    assert await answers(server.echo, "user?") == "AnonymousUser"


async def test_app_close_reaches_the_client(server: Server) -> None:
    # daphne sends the close code only: the reason is dropped.
    await closes_with_4000_bye(server.echo, reason="" if server.name == "daphne" else "bye")


async def test_empty_messages(server: Server) -> None:
    async with opening(server.echo) as client:
        for data in ("", b"", "after"):
            await client.send(data)
        received = [await recv(client) for _ in range(1 if server.name == "daphne" else 3)]
    # daphne drops empty outgoing messages (its websocket.send handling tests them for truth).
    assert received == (["after"] if server.name == "daphne" else ["", b"", "after"])


def test_http_goes_to_django(server: Server) -> None:
    status, body = http_get(server.base + "/")
    assert status == 404
    assert b"The requested resource was not found on this server." in body
