"""Handling what real connections throw at a handler: a peer that vanishes, a message it can't read.

Run with ``uvicorn examples.errors:app``. Every outcome is logged on the ``examples.errors``
logger (warnings reach stderr even with no logging set up).
"""

from __future__ import annotations

import logging

from simple_websocket import (
    CloseCode,
    ConnectionClosed,
    MalformedMessage,
    UnsupportedMessage,
    WebSocketASGI,
    websocket_app,
)

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 300.0


async def handler(ws: WebSocketASGI) -> None:
    """Echo until the client leaves, goes idle, or sends something that makes no sense."""
    while True:
        try:
            message = await ws.receive(timeout=IDLE_TIMEOUT)
        except ConnectionClosed as closed:
            # ABNORMAL_CLOSURE (1006) when the connection dropped without a close frame
            log.warning("client left: code %d, by_peer=%s", closed.code, closed.by_peer)
            return
        except UnsupportedMessage as error:
            # an ASGI message type the wrapper doesn't know (a middleware's, a newer server's):
            # nothing was lost and the connection is still open
            log.warning("ignored ASGI message %r", error.message_type)
            await ws.send(f"ignored {error.message_type}")
            continue
        except MalformedMessage as error:
            # the server broke the ASGI contract: end this connection, keep serving others
            log.warning("malformed ASGI message: %s", error)
            await ws.close(CloseCode.INTERNAL_ERROR, "server error")
            return
        if message is None:
            await ws.close(CloseCode.GOING_AWAY, "idle for too long")
            return
        await ws.send(message)


app = websocket_app(handler)
