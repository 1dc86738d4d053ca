"""The Django Channels example on real daphne and uvicorn processes, with the websockets client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from ..support.framework_checks import answers, closes_with_4000_bye, http_get
from ..support.servers import ROOT, running
from ..support.ws_client import LIMIT, opening, recv

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


@dataclass(frozen=True)
class LoggedIn:
    server: Server
    session: str

    async def ask_user(self, origin: str | None) -> str | bytes:
        """Connect with ann's session cookie (and ``origin``) and ask who the handler sees."""
        headers = {"Cookie": f"sessionid={self.session}"}
        async with connect(
            self.server.echo,
            origin=None if origin is None else Origin(origin),
            additional_headers=headers,
            open_timeout=LIMIT,
        ) as client:
            await client.send("user?")
            return await recv(client)


@pytest.fixture(scope="module", params=["daphne", "uvicorn-websockets"])
def logged_in(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedIn]:
    """The example on a database where "ann" is logged in; yields her session id."""
    database = str(tmp_path_factory.mktemp("channels") / "db.sqlite3")
    env = {"CHANNELS_LOGIN_DB": database, "DJANGO_SETTINGS_MODULE": "tests.support.channels_login"}
    session = subprocess.run(
        [sys.executable, "-m", "tests.support.channels_login"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={**_environment(), **env},
    ).stdout.strip()
    with running(request.param, "examples.frameworks.channels_app:application", env=env) as base:
        yield LoggedIn(Server(request.param, base), session)


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


async def test_a_logged_in_session_from_a_foreign_origin_is_refused(logged_in: LoggedIn) -> None:
    assert await logged_in.ask_user(None) == "ann"  # the cookie logs in: there is something to steal
    assert await logged_in.ask_user(logged_in.server.base.replace("ws://", "http://")) == "ann"
    with pytest.raises(InvalidStatus) as caught:
        await logged_in.ask_user("http://evil.example")
    assert caught.value.response.status_code == 403
