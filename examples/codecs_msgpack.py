"""Objects over msgpack binary frames; a text frame closes the connection with 1003.

Run with ``uvicorn examples.codecs_msgpack:app``.
"""

from __future__ import annotations

from simple_websocket import ASGIReceive, ASGISend, DecodeError, Scope, WebSocketASGI
from simple_websocket.codecs import CodecSocket, MsgpackCodec


async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    """Echo every object; close with 1003 on a frame msgpack cannot read."""
    if scope["type"] != "websocket":
        return
    sock = CodecSocket(await WebSocketASGI.accept(scope, receive, send), MsgpackCodec())
    try:
        async for obj in sock:
            await sock.send(obj)
    except DecodeError:
        await sock.close_unsupported("msgpack binary frames only")
