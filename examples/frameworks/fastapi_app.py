"""FastAPI: the wrapper inside a WebSocket route, and the handler's ASGI app mounted beside it.

Run it: ``uvicorn examples.frameworks.fastapi_app:app``, then connect to ws://127.0.0.1:8000/ws
(or /mounted/ws) offering "echo.v1" or "echo.v2".
"""

from __future__ import annotations

from fastapi import FastAPI, WebSocket

from simple_websocket import SAME_ORIGIN, ConnectionClosed, OriginRefused, WebSocketASGI

from .handler import SUBPROTOCOLS, echo
from .handler import app as echo_app

app = FastAPI()


@app.websocket("/ws")
async def websocket_route(websocket: WebSocket) -> None:
    try:
        # Pages from other sites are refused with 403: a browser would send them this site's cookies.
        ws = await WebSocketASGI.accept(
            websocket.scope, websocket.receive, websocket.send, subprotocols=SUBPROTOCOLS, origins=SAME_ORIGIN
        )
    except OriginRefused:
        return
    try:
        await echo(ws)
    except ConnectionClosed:
        pass  # the client went away without a close frame: nothing is left to do


app.mount("/mounted", echo_app)  # websocket_app(...) serves every WebSocket under /mounted


@app.get("/")
async def index() -> dict[str, str]:
    return {"websocket": "/ws"}
