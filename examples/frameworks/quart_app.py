"""Quart: a plain ASGI WebSocket app served beside a Quart app, dispatched on the path.

``/ws`` goes to ``websocket_app(echo)``; everything else (HTTP, lifespan, Quart's own
WebSocket routes) goes to Quart.

Run it: ``uvicorn examples.frameworks.quart_app:app`` (or ``hypercorn``), then connect to
ws://127.0.0.1:8000/ws offering "echo.v1" or "echo.v2".
"""

from __future__ import annotations

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import Quart

from .handler import app as echo_app

quart_app = Quart(__name__)


@quart_app.get("/")
async def index() -> str:
    return "WebSocket at /ws"


async def app(scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
    if scope["type"] == "websocket" and scope["path"] == "/ws":
        await echo_app(scope, receive, send)
    else:
        await quart_app(scope, receive, send)
