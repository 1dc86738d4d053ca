"""The echo handler under the test clients people already use, with no server.

Starlette's TestClient, Channels' WebsocketCommunicator and httpx-ws's ASGIWebSocketTransport,
each on ``examples.frameworks.handler.app`` and on the Django Channels example's application.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Literal, TypeAlias

import anyio
import httpx
import pytest
from channels.testing import WebsocketCommunicator
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws import WebSocketDisconnect as HttpxWebSocketDisconnect
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from examples.frameworks.channels_app import application as channels_application
from examples.frameworks.handler import app as echo_app
from simple_websocket import WebSocketASGI, websocket_app

from .support.memory import LIMIT

_Receive: TypeAlias = Callable[[], Awaitable[Mapping[str, object]]]
_Send: TypeAlias = Callable[[dict[str, object]], Awaitable[object]]
App: TypeAlias = Callable[[Mapping[str, object], _Receive, _Send], Awaitable[None]]

APPS: dict[str, App] = {"echo": echo_app, "channels": channels_application}

QUIRKS: dict[str, set[str]] = {
    "Channels WebsocketCommunicator": {"asyncio only", "no denial response: a refusal is a close (1008) before accept"},
    "httpx-ws ASGIWebSocketTransport": {
        "no denial response: a refusal is a close (1008) before accept",
        "a client-side close can end its session with ClosedResourceError (frankie567/httpx-ws#146)",
    },
}
"""What each test client is known not to do, as the tests below assert it."""
PATH = "/ws/echo/"
OFFERED = ["x", "echo.v1"]  # the match comes second, after a comma (and, with httpx-ws, a space)

# Channels' AuthMiddlewareStack looks the user up through asgiref's SyncToAsync, which needs
# an asyncio event loop ("no running event loop" on trio): the Channels app runs on asyncio only.
Backend: TypeAlias = Literal["asyncio", "trio"]
APPS_ON_BACKENDS: list[tuple[str, Backend]] = [("echo", "asyncio"), ("echo", "trio"), ("channels", "asyncio")]


async def _undecided(ws: WebSocketASGI) -> None:
    """Neither opens nor refuses the connection: websocket_app refuses it."""


REFUSING = websocket_app(_undecided, accept=False)


class Watched:
    """Runs an ASGI app within LIMIT seconds (so no client waits forever) and records how it ended."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.ended = threading.Event()  # the TestClient runs the app in another thread
        self.error: BaseException | None = None

    async def __call__(self, scope: Mapping[str, object], receive: _Receive, send: _Send) -> None:
        try:
            with anyio.fail_after(LIMIT):
                await self.app(scope, receive, send)
        except BaseException as exc:
            self.error = exc
            raise
        finally:
            self.ended.set()

    def ended_cleanly(self, timeout: float = 0) -> bool:
        return self.ended.wait(timeout) and self.error is None


# -- Starlette TestClient: synchronous, runs the app in a thread through an anyio portal. ------
# Its receive has no timeout (an app that neither accepts nor closes blocks it forever); a
# client close carries reason None; `with TestClient(app)` would run lifespan, which Channels'
# ProtocolTypeRouter refuses (ValueError) unless it routes "lifespan".

starlette_client = pytest.mark.compat("test client", "Starlette TestClient")


@starlette_client
@pytest.mark.parametrize(("name", "backend"), APPS_ON_BACKENDS)
def test_starlette_testclient_echo(name: str, backend: Backend) -> None:
    client = TestClient(Watched(APPS[name]), backend=backend)
    with client.websocket_connect(PATH, subprotocols=OFFERED) as ws:
        assert ws.accepted_subprotocol == "echo.v1"
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"
        ws.send_text("subprotocol?")
        assert ws.receive_text() == "echo.v1"


@starlette_client
@pytest.mark.parametrize(("name", "backend"), APPS_ON_BACKENDS)
def test_starlette_testclient_sees_the_app_close(name: str, backend: Backend) -> None:
    app = Watched(APPS[name])
    with TestClient(app, backend=backend).websocket_connect(PATH) as ws:
        ws.send_text("close")
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive_text()
        assert (caught.value.code, caught.value.reason) == (4000, "bye")
        assert app.ended_cleanly(LIMIT)


@starlette_client
@pytest.mark.parametrize(("name", "backend"), APPS_ON_BACKENDS)
def test_starlette_testclient_close_ends_the_handler(name: str, backend: Backend) -> None:
    app = Watched(APPS[name])
    with TestClient(app, backend=backend).websocket_connect(PATH) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
        ws.close(1000)
        assert app.ended_cleanly(LIMIT)


@starlette_client
def test_starlette_testclient_sees_a_refusal() -> None:
    with pytest.raises(WebSocketDenialResponse) as caught, TestClient(Watched(REFUSING)).websocket_connect(PATH):
        pass
    assert caught.value.status_code == 403  # the scope offers websocket.http.response


# -- Channels WebsocketCommunicator: asyncio only (asyncio.Queue, asyncio.create_task). ------------
# Sparse scope (no scheme, client, server, root_path); it cannot send empty messages (send_to
# asserts); connect() times out (TimeoutError) when the app neither accepts nor closes.

channels_communicator = pytest.mark.compat("test client", "Channels WebsocketCommunicator")
on_asyncio = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # the communicator is built on asyncio
both_apps = pytest.mark.parametrize("name", ["echo", "channels"])


@channels_communicator
@pytest.mark.anyio
@on_asyncio
@both_apps
async def test_channels_communicator_echo(name: str) -> None:
    app = Watched(APPS[name])
    communicator = WebsocketCommunicator(app, PATH, subprotocols=OFFERED)
    assert await communicator.connect(LIMIT) == (True, "echo.v1")
    await communicator.send_to(text_data="hello")
    assert await communicator.receive_from(LIMIT) == "hello"
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await communicator.receive_from(LIMIT) == b"\x00\x01"
    await communicator.send_to(text_data="subprotocol?")
    assert await communicator.receive_from(LIMIT) == "echo.v1"
    await communicator.disconnect(timeout=LIMIT)


@channels_communicator
@pytest.mark.anyio
@on_asyncio
@both_apps
async def test_channels_communicator_sees_the_app_close(name: str) -> None:
    app = Watched(APPS[name])
    communicator = WebsocketCommunicator(app, PATH)
    assert await communicator.connect(LIMIT) == (True, None)
    await communicator.send_to(text_data="close")
    assert await communicator.receive_output(LIMIT) == {"type": "websocket.close", "code": 4000, "reason": "bye"}
    await communicator.wait(LIMIT)
    assert app.ended_cleanly()


@channels_communicator
@pytest.mark.anyio
@on_asyncio
@both_apps
async def test_channels_communicator_disconnect_ends_the_handler(name: str) -> None:
    app = Watched(APPS[name])
    communicator = WebsocketCommunicator(app, PATH)
    assert await communicator.connect(LIMIT) == (True, None)
    await communicator.send_to(text_data="hi")
    assert await communicator.receive_from(LIMIT) == "hi"
    await communicator.disconnect(timeout=LIMIT)  # waits for the app, raises what it raised
    assert app.ended_cleanly()


@channels_communicator
@pytest.mark.anyio
@on_asyncio
async def test_channels_communicator_sees_a_refusal() -> None:
    communicator = WebsocketCommunicator(Watched(REFUSING), PATH)
    assert await communicator.connect(LIMIT) == (False, 1008)  # no denial extension: close before accept
    await communicator.wait(LIMIT)


# -- httpx-ws ASGIWebSocketTransport: asyncio and trio. ----------------------------------------
# Subprotocols split on "," without stripping (" echo.v1"); scheme "http"; the disconnect code
# is an IntEnum; a close needs a "code" key; app exceptions become a 1011 close and are not
# raised; the app must answer within initial_receive_timeout (1 s) or the client raises.

httpx_ws_client = pytest.mark.compat("test client", "httpx-ws ASGIWebSocketTransport")


def connect_ws(
    client: httpx.AsyncClient, subprotocols: list[str] | None = None
) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    return aconnect_ws(
        "http://127.0.0.1" + PATH, client, subprotocols=subprotocols, session_class=AsyncWebSocketSession
    )


@httpx_ws_client
@pytest.mark.anyio
@pytest.mark.parametrize(("name", "anyio_backend"), APPS_ON_BACKENDS)
async def test_httpx_ws_echo(name: str) -> None:
    transport = ASGIWebSocketTransport(Watched(APPS[name]))
    async with httpx.AsyncClient(transport=transport) as client, connect_ws(client, OFFERED) as ws:
        assert ws.subprotocol == "echo.v1"
        await ws.send_text("hello")
        assert await ws.receive_text(timeout=LIMIT) == "hello"
        await ws.send_bytes(b"\x00\x01")
        assert await ws.receive_bytes(timeout=LIMIT) == b"\x00\x01"
        await ws.send_text("subprotocol?")
        assert await ws.receive_text(timeout=LIMIT) == "echo.v1"


@httpx_ws_client
@pytest.mark.anyio
@pytest.mark.parametrize(("name", "anyio_backend"), APPS_ON_BACKENDS)
async def test_httpx_ws_sees_the_app_close(name: str) -> None:
    app = Watched(APPS[name])
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app)) as client, connect_ws(client) as ws:
        await ws.send_text("close")
        with pytest.raises(HttpxWebSocketDisconnect) as caught:
            await ws.receive_text(timeout=LIMIT)
    assert (caught.value.code, caught.value.reason) == (4000, "bye")
    assert app.ended_cleanly()  # the transport waits for the app when the client exits


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    inner: object = getattr(exc, "exceptions", None)  # an exception group's members
    if isinstance(inner, tuple):
        for member in inner:
            if isinstance(member, BaseException):
                yield from _leaves(member)
    else:
        yield exc


@contextmanager
def httpx_ws_reader_error_after_client_close() -> Iterator[None]:
    """Lets through only httpx-ws 0.9's own error after a client-side close (frankie567/httpx-ws#146).

    Once the app returns, the transport closes its queue and the session's background reader
    raises ClosedResourceError (or EndOfStream) out of the client's context, with any ASGI app,
    a raw one included. Anything else is re-raised.
    """
    try:
        yield
    except BaseException as exc:
        if not all(isinstance(leaf, (anyio.ClosedResourceError, anyio.EndOfStream)) for leaf in _leaves(exc)):
            raise


@httpx_ws_client
@pytest.mark.anyio
@pytest.mark.parametrize(("name", "anyio_backend"), APPS_ON_BACKENDS)
async def test_httpx_ws_close_ends_the_handler(name: str) -> None:
    app = Watched(APPS[name])
    with httpx_ws_reader_error_after_client_close():
        async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app)) as client, connect_ws(client) as ws:
            await ws.send_text("hi")
            assert await ws.receive_text(timeout=LIMIT) == "hi"
            await ws.close(1000)
    assert app.ended_cleanly(LIMIT)


@httpx_ws_client
@pytest.mark.anyio
async def test_httpx_ws_sees_a_refusal() -> None:
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(Watched(REFUSING))) as client:
        with pytest.raises(HttpxWebSocketDisconnect) as caught:
            async with connect_ws(client):
                pass
    assert caught.value.code == 1008  # the scope offers no denial extension: close before accept
