"""A bare ASGI application, no framework: 404 for HTTP, lifespan answered, the wrapper for WebSocket.

Run it: ``uvicorn examples.frameworks.bare_app:app`` or ``hypercorn examples.frameworks.bare_app:app``,
then connect to ws://127.0.0.1:8000/ offering "echo.v1" or "echo.v2".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from simple_websocket import ASGIReceive, ConnectionClosed, Scope, WebSocketASGI

from .handler import SUBPROTOCOLS, echo

Send = Callable[[dict[str, object]], Awaitable[None]]


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    if scope["type"] == "websocket":
        ws = await WebSocketASGI.accept(scope, receive, send, subprotocols=SUBPROTOCOLS)
        try:
            await echo(ws)
        except ConnectionClosed:
            pass  # the client went away without a close frame: nothing is left to do
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"Not Found"})
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
