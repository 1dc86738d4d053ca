"""The README's first example, twice: a bare ASGI app, and the same echo made with websocket_app.

Run either with ``uvicorn examples.quickstart:app`` or ``uvicorn examples.quickstart:echo_app``
and connect to ws://127.0.0.1:8000 offering the "chat" subprotocol.
"""

from __future__ import annotations

from simple_websocket import ASGIReceive, ASGISend, Scope, WebSocketASGI, websocket_app


async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    if scope["type"] != "websocket":
        return  # a real app answers HTTP and lifespan too: websocket_app below does
    ws = await WebSocketASGI.accept(scope, receive, send, subprotocols=["chat"])
    async for message in ws:  # str for a text frame, bytes for a binary frame
        await ws.send(message)


async def echo(ws: WebSocketASGI) -> None:
    async for message in ws:
        await ws.send(message)


echo_app = websocket_app(echo, subprotocols=["chat"])  # HTTP gets 426, lifespan is answered
