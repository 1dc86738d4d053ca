"""Django Channels: the echo handler as an ASGI app in ``URLRouter``, behind ``AuthMiddlewareStack``.

``ws/echo/`` is served by ``websocket_app(...)``; HTTP goes to Django. ``AuthMiddlewareStack``
resolves the Django user into ``scope["user"]`` before the handler runs, so the handler reads it
with ``ws.scope["user"]``.

Why ``origins=SAME_ORIGIN`` (``websocket_app``'s default, spelled out here): the browser sends the
session cookie with a handshake from any page, so without an Origin check every site a logged-in
user visits could talk to this endpoint as that user. Channels' ``AllowedHostsOriginValidator``
around the router would do it too, but it also refuses clients that send no Origin (scripts, other
servers), which cannot carry a browser's cookie unless they are given it.

Why not inside an ``AsyncWebsocketConsumer``: a consumer owns the connection. Its dispatch loop
reads every ASGI message itself, and its ``self.receive(text_data, bytes_data)`` and
``self.send(text_data, bytes_data, close)`` are the consumer's own handlers, not the ASGI
``receive``/``send`` callables a ``WebSocketASGI`` needs. Route an ASGI application
(``websocket_app(handler)``) in ``URLRouter`` instead, as below.

Run it: ``python -m examples.frameworks.channels_app`` (uvicorn on 127.0.0.1, ``PORT`` or 8000),
or ``daphne examples.frameworks.channels_app:application``.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.frameworks.channels_settings")
django.setup()  # Channels' auth and routing import Django models: set Django up first

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

from simple_websocket import SAME_ORIGIN, WebSocketASGI, websocket_app  # noqa: E402

from .handler import SUBPROTOCOLS  # noqa: E402


async def echo_with_user(ws: WebSocketASGI) -> None:
    """``echo``'s replies, plus "user?" answered with the Django user ("AnonymousUser" without a login).

    ``echo`` owns its receive loop and cannot be handed one message at a time, so this loop
    answers "user?" itself and keeps ``echo``'s other replies.
    """
    user = str(ws.scope.get("user"))  # resolved by AuthMiddlewareStack before the handler runs
    async for message in ws:
        if message == "user?":
            await ws.send(user)
        elif message == "subprotocol?":
            await ws.send(ws.subprotocol or "none")
        elif message == "path?":
            await ws.send(ws.request.path)
        elif message == "close":
            await ws.close(4000, "bye")
            return
        else:
            await ws.send(message)


application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": AuthMiddlewareStack(
            URLRouter(
                [
                    path("ws/echo/", websocket_app(echo_with_user, subprotocols=SUBPROTOCOLS, origins=SAME_ORIGIN)),
                ]
            )
        ),
    }
)


if __name__ == "__main__":
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    print(f"Django Channels echo on ws://127.0.0.1:{port}/ws/echo/ (Ctrl-C stops it)")
    uvicorn.run(application, host="127.0.0.1", port=port, log_level="warning")
