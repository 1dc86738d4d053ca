"""Named types used across the public API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeAlias

from typing_extensions import Never

from ._beside import ensure_ours

ensure_ours()  # the __init__.py installed is this package's, not simple-websocket's

if TYPE_CHECKING:
    from ._websocket import WebSocketASGI

__all__ = ["ASGIApp", "ASGIReceive", "ASGISend", "Data", "Handler", "Headers", "HeadersLike", "Scope"]

Data: TypeAlias = str | bytes
"""A whole WebSocket message: ``str`` travels as a text frame, ``bytes`` as a binary frame."""

Headers: TypeAlias = "tuple[tuple[bytes, bytes], ...]"
"""HTTP headers as ASGI carries them: (lower-case name, value) byte pairs, in order."""

HeadersLike: TypeAlias = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]
"""Extra HTTP headers: a mapping of str, or (name, value) pairs of str or bytes."""

Scope: TypeAlias = Mapping[str, object]
"""An ASGI connection scope, as any server or framework passes it (Starlette's and Litestar's fit)."""

ASGIReceive: TypeAlias = Callable[[], Awaitable[Mapping[str, object]]]
"""The ASGI ``receive`` callable."""

ASGISend: TypeAlias = Callable[[Never], Awaitable[object]]
"""The ASGI ``send`` callable, however the framework types its message parameter.

Frameworks disagree on that type (Starlette: ``MutableMapping[str, Any]``; Litestar and
asgiref: unions of TypedDicts), so every one-argument callable is accepted; it is called
with plain ``dict`` messages that follow the ASGI WebSocket specification.
"""

ASGIApp: TypeAlias = Callable[[Scope, ASGIReceive, ASGISend], Awaitable[None]]
"""An ASGI application, typed loosely enough that every framework's apps and callables fit."""

Handler: TypeAlias = "Callable[[WebSocketASGI], Awaitable[object]]"
"""What ``websocket_app`` serves: called once per connection, with the connection."""
