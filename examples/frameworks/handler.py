"""The handler every framework example serves: an echo that tells its subprotocol and can close.

``async def echo(ws)`` is plain simple_websocket code with no framework in sight; each example
shows one way to reach it from a framework, and ``app`` is the ready-made ASGI application for
frameworks that mount ASGI apps.
"""

from __future__ import annotations

from simple_websocket import WebSocketASGI, websocket_app

SUBPROTOCOLS = ["echo.v2", "echo.v1"]


async def echo(ws: WebSocketASGI) -> None:
    """Send every message back as it came (text as text, bytes as bytes).

    ``"subprotocol?"`` is answered with the agreed subprotocol (or ``"none"``), ``"path?"``
    with the request path, and ``"close"`` ends the connection with 4000 "bye".
    """
    async for message in ws:
        if message == "subprotocol?":
            await ws.send(ws.subprotocol or "none")
        elif message == "path?":
            await ws.send(ws.request.path)
        elif message == "close":
            await ws.close(4000, "bye")
            return
        else:
            await ws.send(message)


app = websocket_app(echo, subprotocols=SUBPROTOCOLS)
