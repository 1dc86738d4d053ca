"""Starlette: the wrapper inside a ``WebSocketRoute``, and the handler's ASGI app in a ``Mount``.

Run it: ``uvicorn examples.frameworks.starlette_app:app``, then connect to ws://127.0.0.1:8000/ws
(or /mounted/ws) offering "echo.v1" or "echo.v2".
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket

from simple_websocket import ConnectionClosed, WebSocketASGI

from .handler import SUBPROTOCOLS, echo
from .handler import app as echo_app


async def websocket_endpoint(websocket: WebSocket) -> None:
    ws = await WebSocketASGI.accept(websocket.scope, websocket.receive, websocket.send, subprotocols=SUBPROTOCOLS)
    try:
        await echo(ws)
    except ConnectionClosed:
        pass  # the client went away without a close frame: nothing is left to do


async def index(request: Request) -> PlainTextResponse:
    return PlainTextResponse("WebSocket at /ws")


app = Starlette(
    routes=[
        Route("/", index),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/mounted", app=echo_app),
    ]
)
