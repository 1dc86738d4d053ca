"""Each framework example in examples/frameworks/ on a real server, with the websockets client.

(Django Channels has its own module: tests/frameworks/test_channels.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from ..support.framework_checks import answers, closes_with_4000_bye, echoes_with_subprotocol, http_get
from ..support.servers import running
from ..support.ws_client import LIMIT

pytestmark = [pytest.mark.anyio, pytest.mark.server]

QUIRKS = {"Litestar": {"a mounted app sees its path below the mount point"}}


@dataclass(frozen=True)
class Example:
    framework: str
    app: str
    """module:attribute"""
    server: str
    websockets: dict[str, str]
    """URL path -> the path the handler sees there."""
    http: dict[str, tuple[int, bytes]]
    """URL path -> status and body of a GET."""


ROUTE_AND_MOUNT = {"/ws": "/ws", "/mounted/ws": "/mounted/ws"}
HELLO = {"/": (200, b"WebSocket at /ws")}
EXAMPLES = [
    Example(
        "FastAPI",
        "examples.frameworks.fastapi_app:app",
        "uvicorn-websockets",
        ROUTE_AND_MOUNT,
        {"/": (200, b'{"websocket":"/ws"}')},
    ),
    Example("Starlette", "examples.frameworks.starlette_app:app", "uvicorn-websockets", ROUTE_AND_MOUNT, HELLO),
    Example(
        "Litestar",
        "examples.frameworks.litestar_app:app",
        "uvicorn-websockets",
        {"/ws": "/ws", "/mounted/ws": "/ws/"},
        HELLO,
    ),
    *(
        Example("Quart", "examples.frameworks.quart_app:app", server, {"/ws": "/ws"}, {**HELLO, "/nowhere": (404, b"")})
        for server in ("uvicorn-websockets", "hypercorn-asyncio")
    ),
    *(
        Example(
            "bare ASGI",
            "examples.frameworks.bare_app:app",
            server,
            {"/": "/", "/any/path": "/any/path"},
            {"/": (404, b"Not Found")},
        )
        for server in ("uvicorn-websockets", "hypercorn-asyncio")
    ),
]


@dataclass(frozen=True)
class Running:
    example: Example
    base: str


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(
            example,
            id=f"{example.framework}-{example.server}",
            marks=pytest.mark.compat("framework", example.framework),
        )
        for example in EXAMPLES
    ],
)
def served(request: pytest.FixtureRequest) -> Iterator[Running]:
    example: Example = request.param
    with running(example.server, example.app) as base:
        yield Running(example, base)


async def test_every_websocket_path_echoes_with_a_subprotocol(served: Running) -> None:
    for path in served.example.websockets:
        await echoes_with_subprotocol(served.base + path)


async def test_the_app_close_reaches_the_client(served: Running) -> None:
    for path in served.example.websockets:
        await closes_with_4000_bye(served.base + path)


async def test_the_handler_sees_the_path_the_framework_gives_it(served: Running) -> None:
    seen = {path: await answers(served.base + path, "path?") for path in served.example.websockets}
    assert seen == served.example.websockets


def test_http_still_goes_to_the_framework(served: Running) -> None:
    for path, (status, body) in served.example.http.items():
        got_status, got_body = http_get(served.base + path)
        assert got_status == status, path
        if body:
            assert got_body == body, path


async def test_fastapi_refuses_a_page_from_another_site() -> None:
    with running("uvicorn-websockets", "examples.frameworks.fastapi_app:app") as base:
        for path in ("/ws", "/mounted/ws"):
            with pytest.raises(InvalidStatus) as caught:
                await connect(base + path, origin=Origin("http://evil.example"), open_timeout=LIMIT)
            assert caught.value.response.status_code == 403, path
