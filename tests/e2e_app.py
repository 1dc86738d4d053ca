"""A small ASGI app for the end-to-end tests: the path picks the behaviour."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from simple_websocket import ASGIReceive, ConnectionClosed, Scope, WebSocketASGI


async def app(scope: Scope, receive: ASGIReceive, send: Callable[[dict[str, object]], Awaitable[None]]) -> None:
    if scope["type"] == "lifespan":  # hypercorn's trio worker dies if lifespan goes unanswered
        while (event := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        return
    ws = await WebSocketASGI.accept(scope, receive, send, subprotocols=["b", "a"])
    if scope.get("path") == "/close":
        await ws.close(4001, "bye")
        return
    try:
        async for message in ws:
            if message == "who closed?":
                await ws.send(repr(ws.close_info))
            await ws.send(message)
    except ConnectionClosed:
        pass
