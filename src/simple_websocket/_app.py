"""websocket_app: turn ``async def handler(ws) -> None`` into an ASGI application."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, cast, overload

import anyio
from typing_extensions import Never, TypeVar

from ._close_code import CloseCode
from ._origin import SAME_ORIGIN, Origins, OriginsLike
from ._websocket import ConnectionState, WebSocketASGI
from .exceptions import ConnectionClosed, DecodeError, UnsupportedMessage
from .typing import ASGIApp, ASGIReceive, ASGISend, Handler, HeadersLike, Scope

if TYPE_CHECKING:
    from .codecs import CodecSocket, MessageProtocol

_log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")

__all__ = ["WebSocketApp", "websocket_app"]

_Send = Callable[[Mapping[str, object]], Awaitable[object]]

#: How long closing may take after the handler ends before the server is left to drop the peer.
CLOSE_TIMEOUT = 5.0

_UPGRADE_REQUIRED = b"This endpoint speaks WebSocket only.\n"


class WebSocketApp:
    """An ASGI application that accepts each WebSocket connection and runs ``handler(ws)`` on it.

    ``websocket_app`` is this class under the name simple_websocket code calls it by.

    - Only pages from the host the request came to may connect (``origins=SAME_ORIGIN``:
      the Origin header must name the ``Host`` header's host and port; clients that send no
      Origin, which browsers never do, are admitted). Any other origin is refused with HTTP
      403 before the handler runs. List the sites of your pages in ``origins`` (an
      ``Origins``, or origin strings), or pass None to check nothing.
    - The connection is accepted with the first offered name in ``subprotocols``, ``headers``
      added to the response; with ``accept=False`` the handler gets it unanswered (its origin
      already checked) and calls ``ws.open()`` or ``ws.reject()`` itself.
    - With ``protocol`` (a ``MessageProtocol``), the handler gets a ``CodecSocket`` in that
      protocol rather than the WebSocketASGI, and the protocol's subprotocol is offered when
      ``subprotocols`` is not given.
    - When the handler returns, a connection it left open is closed (1000) and one it left
      unanswered is refused (403). When it raises, the connection is closed with 1011 (or
      refused with 500) and the exception goes on to the server, which logs it.
      ``ConnectionClosed`` escaping the handler is taken as the end of the connection, and
      ``DecodeError`` (a message the peer should not have sent) as the peer's fault: the
      connection is closed with 1007 and its reason (cut to fit), and nothing is logged.
    - Other scopes go to ``fallback`` if given; otherwise HTTP requests get 426 Upgrade
      Required and lifespan events are acknowledged.
    """

    __slots__ = (
        "accept",
        "close_timeout",
        "fallback",
        "handler",
        "headers",
        "max_message_size",
        "origins",
        "protocol",
        "subprotocols",
    )

    handler: Handler
    """What runs on each connection (with a ``protocol``, the given handler around its socket)."""
    protocol: MessageProtocol[object, Never] | None
    """The messages this endpoint speaks, both ways, if declared."""
    subprotocols: str | Sequence[str] | None
    headers: HeadersLike | None
    max_message_size: int | None
    accept: bool
    """Accept before calling the handler; if False, the handler must call ``ws.open()`` or ``ws.reject()``."""
    fallback: ASGIApp | None
    """Where scopes other than ``websocket`` go; None answers HTTP with 426 and acknowledges lifespan."""
    close_timeout: float
    origins: Origins | None
    """Who may connect; None lets every origin in."""

    @overload
    def __init__(
        self,
        handler: Handler,
        *,
        protocol: None = None,
        subprotocols: str | Sequence[str] | None = None,
        headers: HeadersLike | None = None,
        max_message_size: int | None = None,
        accept: bool = True,
        fallback: ASGIApp | None = None,
        close_timeout: float = CLOSE_TIMEOUT,
        origins: OriginsLike | None = SAME_ORIGIN,
    ) -> None: ...

    @overload
    def __init__(
        self,
        handler: Callable[[CodecSocket[In, Out]], Awaitable[None]],
        *,
        protocol: MessageProtocol[In, Out],
        subprotocols: str | Sequence[str] | None = None,
        headers: HeadersLike | None = None,
        max_message_size: int | None = None,
        accept: bool = True,
        fallback: ASGIApp | None = None,
        close_timeout: float = CLOSE_TIMEOUT,
        origins: OriginsLike | None = SAME_ORIGIN,
    ) -> None: ...

    def __init__(
        self,
        handler: Handler | Callable[[CodecSocket[In, Out]], Awaitable[None]],
        *,
        protocol: MessageProtocol[In, Out] | None = None,
        subprotocols: str | Sequence[str] | None = None,
        headers: HeadersLike | None = None,
        max_message_size: int | None = None,
        accept: bool = True,
        fallback: ASGIApp | None = None,
        close_timeout: float = CLOSE_TIMEOUT,
        origins: OriginsLike | None = SAME_ORIGIN,
    ) -> None:
        if protocol is None:
            self.handler = cast(Handler, handler)
        else:
            self.handler = protocol.serve(cast("Callable[[CodecSocket[In, Out]], Awaitable[None]]", handler))
            if subprotocols is None:
                subprotocols = protocol.subprotocol
        self.protocol = protocol
        self.subprotocols = subprotocols
        self.headers = headers
        self.max_message_size = max_message_size
        self.accept = accept
        self.fallback = fallback
        self.close_timeout = close_timeout
        self.origins = None if origins is None else Origins.of(origins)

    async def __call__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        kind = scope.get("type")
        if kind == "websocket":
            await self._serve(scope, receive, send)
        elif self.fallback is not None:
            await self.fallback(scope, receive, send)
        elif kind == "http":
            await _upgrade_required(cast(_Send, send))
        elif kind == "lifespan":
            await _lifespan(receive, cast(_Send, send))
        else:
            raise UnsupportedMessage(f"no support for ASGI scope type {kind!r}")

    async def _serve(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        ws = WebSocketASGI(scope, receive, send, self.subprotocols, max_message_size=self.max_message_size)
        try:
            if self.origins is not None:
                await ws.check_origin(self.origins)
            if self.accept:
                await ws.open(headers=self.headers)
            await self.handler(ws)
        except ConnectionClosed:
            pass  # the peer left, the origin was refused, or the handler closed: nothing more to say
        except DecodeError as error:
            _log.debug("closing %s from %s with 1007: %s", scope.get("path"), scope.get("client"), error)
            await self._answer(ws, failed=False, code=CloseCode.INVALID_DATA, reason=_reason(str(error)))
        except BaseException as error:
            if not _only_closed(error):
                await self._answer(ws, failed=True)
                raise
        await self._answer(ws, failed=False)

    async def _answer(
        self, ws: WebSocketASGI, *, failed: bool, code: int = CloseCode.NORMAL_CLOSURE, reason: str = ""
    ) -> None:
        """Close (``code``, ``reason``) or refuse whatever the handler left open, within ``close_timeout``."""
        if ws.state is ConnectionState.CLOSED:
            return
        with anyio.move_on_after(self.close_timeout, shield=failed):
            try:
                if ws.state is ConnectionState.OPEN:
                    await ws.close(1011, "internal error") if failed else await ws.close(code, reason)
                else:
                    await ws.reject(status=500 if failed else 403)
            except ConnectionClosed:
                pass


def _only_closed(error: BaseException) -> bool:
    """Whether ``error`` is a group (from a handler's task group) of nothing but ConnectionClosed."""
    inner = getattr(error, "exceptions", None)
    if not isinstance(error, Exception) or not isinstance(inner, tuple) or not inner:
        return False
    return all(isinstance(each, ConnectionClosed) or _only_closed(each) for each in inner)


def _reason(text: str) -> str:
    """``text`` cut to the 123 bytes of UTF-8 a close reason may have."""
    encoded = text.encode()
    return text if len(encoded) <= 123 else encoded[:120].decode(errors="ignore") + "..."


websocket_app = WebSocketApp
"""``websocket_app(handler, ...)`` makes a WebSocketApp: one class, one signature (see WebSocketApp)."""


async def _upgrade_required(send: _Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 426,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_UPGRADE_REQUIRED)).encode()),
                (b"upgrade", b"websocket"),
                (b"connection", b"Upgrade"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _UPGRADE_REQUIRED})


async def _lifespan(receive: ASGIReceive, send: _Send) -> None:
    while True:
        kind = (await receive()).get("type")
        if kind == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
