"""The two echo apps the end-to-end benchmark compares, one per path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from simple_websocket import ASGIReceive, ConnectionClosed, Scope, WebSocketASGI

Send = Callable[[dict[str, object]], Awaitable[None]]


async def raw(receive: ASGIReceive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes")})
        elif message["type"] == "websocket.disconnect":
            return


async def ours(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    ws = await WebSocketASGI.accept(scope, receive, send)
    try:
        async for message in ws:
            await ws.send(message)
    except ConnectionClosed:
        pass


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        if scope.get("path") == "/raw":
            await raw(receive, send)
        else:
            await ours(scope, receive, send)
