"""Objects over JSON text frames: echo each object back with a count.

Run with ``uvicorn examples.codecs_json:app`` and send JSON text frames to ws://127.0.0.1:8000.
"""

from __future__ import annotations

from simple_websocket import ASGIReceive, ASGISend, DecodeError, Scope, WebSocketASGI
from simple_websocket.codecs import CodecSocket, JSONCodec


async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    """Answer every object with ``{"echo": obj, "count": n}``; answer bad JSON with an error."""
    if scope["type"] != "websocket":
        return
    sock = CodecSocket(await WebSocketASGI.accept(scope, receive, send), JSONCodec())
    count = 0
    while True:
        try:
            obj = await sock.receive()
        except DecodeError as error:
            await sock.send({"error": "invalid JSON", "frame": str(error.data)[:100]})
            continue
        count += 1
        await sock.send({"echo": obj, "count": count})
