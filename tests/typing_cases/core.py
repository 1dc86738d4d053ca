# Checked by tests/test_types.py: each reveal_type line states the type users must see.
from __future__ import annotations

from typing_extensions import reveal_type

from simple_websocket import ASGIApp, ASGIReceive, ASGISend, ConnectionClosed, Scope, WebSocketASGI, websocket_app


async def cases(scope: Scope, receive: ASGIReceive, send: ASGISend, seconds: float, maybe: float | None) -> None:
    ws = await WebSocketASGI.accept(scope, receive, send, "chat")
    reveal_type(ws)  # R: simple_websocket._websocket.WebSocketASGI
    reveal_type(await ws.receive())  # R: str | bytes
    reveal_type(await ws.receive(None))  # R: str | bytes
    reveal_type(await ws.receive(seconds))  # R: str | bytes | None
    reveal_type(await ws.receive(timeout=maybe))  # R: str | bytes | None
    reveal_type(ws.subprotocol)  # R: str | None
    reveal_type(ws.connected)  # R: bool
    reveal_type(ws.close_info)  # R: simple_websocket.exceptions.ConnectionClosed | None
    reveal_type(ws.request.client)  # R: tuple[str, int] | None
    reveal_type(ws.request.headers)  # R: tuple[tuple[bytes, bytes], ...]
    async for message in ws:
        reveal_type(message)  # R: str | bytes
    try:
        await ws.close(1000, "bye")
    except ConnectionClosed as closed:
        reveal_type(closed.reason)  # R: int
        reveal_type(closed.code)  # R: int
        reveal_type(closed.message)  # R: str


async def handler(ws: WebSocketASGI) -> None:
    await ws.send("hi")


def mounting(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    app = websocket_app(handler, subprotocols=["chat"])
    reveal_type(app)  # R: simple_websocket._app.WebSocketApp
    served: ASGIApp = app  # mountable wherever an ASGI app is
    reveal_type(served)  # R: def (typing.Mapping[str, object], def () -> typing.Awaitable[typing.Mapping[str, object]], def (Never) -> typing.Awaitable[object]) -> typing.Awaitable[None]
