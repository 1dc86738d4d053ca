"""Litestar: the wrapper inside a ``@websocket`` route, and the handler's ASGI app mounted with ``@asgi``.

Run it: ``uvicorn examples.frameworks.litestar_app:app``, then connect to ws://127.0.0.1:8000/ws
(or /mounted/ws) offering "echo.v1" or "echo.v2".
"""

from __future__ import annotations

from litestar import Litestar, WebSocket, asgi, get, websocket
from litestar.datastructures import State
from litestar.types import Receive, Scope, Send

from simple_websocket import ConnectionClosed, WebSocketASGI

from .handler import SUBPROTOCOLS, echo
from .handler import app as echo_app


@websocket("/ws")
async def websocket_route(socket: WebSocket[object, object, State]) -> None:
    ws = await WebSocketASGI.accept(socket.scope, socket.receive, socket.send, subprotocols=SUBPROTOCOLS)
    try:
        await echo(ws)
    except ConnectionClosed:
        pass  # the client went away without a close frame: nothing is left to do


@asgi("/mounted", is_mount=True)
async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
    await echo_app(scope, receive, send)  # websocket_app(...) serves every WebSocket under /mounted


@get("/")
async def index() -> str:
    return "WebSocket at /ws"


app = Litestar(route_handlers=[index, websocket_route, mounted])
