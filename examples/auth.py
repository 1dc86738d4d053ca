"""Authentication before accept: read a credential from the handshake, refuse with 401/403 or open.

Run it: ``uvicorn examples.auth:app``, then connect to ws://127.0.0.1:8000/?token=s3cret-token.
A browser's ``new WebSocket(url, protocols)`` cannot set headers such as ``Authorization``: the
query string, a subprotocol name and the site's cookies are what it can send.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from simple_websocket import WebSocketASGI, websocket_app

TOKENS = {"s3cret-token": "ann"}
"""Stands for your token or session store."""
TOKEN_PREFIX = "token."
"""A subprotocol ``token.<token>`` carries a token for browsers (never agree to it: offer "chat" too)."""
PLAIN = {"content-type": "text/plain; charset=utf-8"}


def credential(ws: WebSocketASGI) -> str | None:
    """The token from ``?token=``, a ``token.<token>`` subprotocol or a ``token`` cookie, in that order."""
    for name, value in ws.request.query:
        if name == "token":
            return value
    for offered in ws.request.subprotocols:
        if offered.startswith(TOKEN_PREFIX):
            return offered[len(TOKEN_PREFIX) :]
    cookies = SimpleCookie()
    try:
        cookies.load(ws.request.header("cookie") or "")
    except CookieError:
        return None
    morsel = cookies.get("token")
    return None if morsel is None else morsel.value


async def handler(ws: WebSocketASGI) -> None:
    """Refuse before accepting when the credential is missing (401) or wrong (403); greet, then echo."""
    token = credential(ws)
    if token is None:
        await ws.reject(status=401, headers=PLAIN, body=b"log in first: send a token\n")
        return
    user = TOKENS.get(token)
    if user is None:
        await ws.reject(status=403, headers=PLAIN, body=b"unknown token\n")
        return
    await ws.open()  # agrees on "chat" if offered, never on the token subprotocol
    await ws.send(f"hello {user}")
    async for message in ws:
        await ws.send(message)


# accept=False: the handler decides. The origin check (websocket_app's default) runs first.
app = websocket_app(handler, subprotocols=["chat"], accept=False)
