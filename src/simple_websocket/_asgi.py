"""ASGITransport: the only module that knows the shape of ASGI WebSocket messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import cast

from ._events import Accept, Close, Connect, Deny, Disconnect, InboundEvent, OutboundEvent
from .exceptions import MalformedMessage, UnsupportedMessage
from .typing import ASGIReceive, ASGISend, Scope

_CONNECT = Connect()
_DENIAL_EXTENSION = "websocket.http.response"


class ASGITransport:
    """Turns ASGI ``receive``/``send`` messages into typed events and back.

    Server differences are absorbed here: hypercorn's unused ``text``/``bytes`` key set to
    None, a disconnect ``code`` that is an IntEnum or missing, a ``reason`` that is missing
    or None. Denial responses use the ``websocket.http.response`` extension when the server
    offers it and fall back to a close before accept (HTTP 403) when it does not.
    """

    __slots__ = ("_scope", "_send", "can_deny", "receive")

    def __init__(self, scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
        self._scope = scope
        self.receive: ASGIReceive = receive
        # ASGISend accepts any one-argument callable; every ASGI send takes plain dicts.
        self._send = cast("Callable[[dict[str, object]], Awaitable[object]]", send)
        extensions = scope.get("extensions")
        self.can_deny: bool = isinstance(extensions, Mapping) and _DENIAL_EXTENSION in extensions

    @property
    def scope(self) -> Scope:
        """The ASGI scope this transport was made for."""
        return self._scope

    def parse(self, item: object, /) -> InboundEvent:
        """Read one ASGI message as an event; raise PeerError for anything unusable."""
        try:
            kind = item["type"]  # type: ignore[index]  # checked below: anything without it is malformed
        except (TypeError, KeyError, IndexError):
            raise MalformedMessage(f"ASGI message without a 'type': {item!r:.200}") from None
        message = item if type(item) is dict else _as_mapping(item)
        if kind == "websocket.receive":
            text = message.get("text")
            if type(text) is str:
                return text
            data = message.get("bytes")
            if type(data) is bytes:
                return data
            return _odd_payload(text, data)
        if kind == "websocket.disconnect":
            return Disconnect(_close_code(message.get("code")), _close_reason(message.get("reason")))
        if kind == "websocket.connect":
            return _CONNECT
        if isinstance(kind, str):
            raise UnsupportedMessage(kind)
        raise MalformedMessage(f"ASGI message whose 'type' is not a str: {kind!r:.100}")

    def send(self, event: OutboundEvent, /) -> Awaitable[object]:
        """Return the server's awaitable that sends ``event`` as an ASGI message."""
        if type(event) is str:
            return self._send({"type": "websocket.send", "text": event})
        if type(event) is bytes:
            return self._send({"type": "websocket.send", "bytes": event})
        if isinstance(event, Accept):
            accept: dict[str, object] = {"type": "websocket.accept", "subprotocol": event.subprotocol}
            if event.headers:
                accept["headers"] = list(event.headers)
            return self._send(accept)
        if isinstance(event, Close):
            if event.code == 1000 or 3000 <= event.code <= 4999:
                # Always with a code: some clients (httpx-ws) fail on a close without one.
                return self._send({"type": "websocket.close", "code": event.code, "reason": event.reason})
            return self._close_with_fallback(event)
        if isinstance(event, Deny):
            return self._deny(event)
        raise TypeError(f"not an outbound event: {type(event).__name__}")

    async def _close_with_fallback(self, close: Close) -> None:
        """Close with a 1001-2999 code, or with 1000 on a server that refuses to send those.

        Daphne (through autobahn) raises a bare Exception for any code other than 1000 and
        3000-4999; the connection must still close.
        """
        try:
            await self._send({"type": "websocket.close", "code": close.code, "reason": close.reason})
        except (OSError, RuntimeError):
            raise
        except Exception:  # the refusal has no type of its own
            await self._send({"type": "websocket.close", "code": 1000, "reason": close.reason})

    async def _deny(self, deny: Deny) -> None:
        if not self.can_deny:
            await self._send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        start = {"type": "websocket.http.response.start", "status": deny.status, "headers": list(deny.headers)}
        await self._send(start)
        await self._send({"type": "websocket.http.response.body", "body": deny.body, "more_body": False})


def _as_mapping(item: object) -> Mapping[str, object]:
    if isinstance(item, Mapping):
        return cast("Mapping[str, object]", item)
    raise MalformedMessage(f"ASGI message is not a mapping: {type(item).__name__}")


def _odd_payload(text: object, data: object) -> str | bytes:
    if isinstance(text, str):
        return str(text)
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if text is None and data is None:
        raise MalformedMessage("websocket.receive with neither 'text' nor 'bytes'")
    raise MalformedMessage(
        f"websocket.receive with ill-typed payload: text={type(text).__name__}, bytes={type(data).__name__}"
    )


# A disconnect is final whatever its fields hold: an unusable code or reason is read as
# "none given" rather than raised, so that the departure itself is never lost.
def _close_code(code: object) -> int:
    if isinstance(code, int) and not isinstance(code, bool):
        return int(code)
    return 1005


def _close_reason(reason: object) -> str:
    return str(reason) if isinstance(reason, str) else ""
