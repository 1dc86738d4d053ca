from collections.abc import Awaitable, Callable, Mapping
from typing import TypeAlias

from channels.sessions import CookieMiddleware

_Scope: TypeAlias = Mapping[str, object]
_Receive: TypeAlias = Callable[[], Awaitable[Mapping[str, object]]]
_Send: TypeAlias = Callable[[dict[str, object]], Awaitable[object]]
_ASGIApp: TypeAlias = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

# CookieMiddleware(SessionMiddleware(AuthMiddleware(inner))): scope["user"] for ``inner``.
def AuthMiddlewareStack(inner: _ASGIApp) -> CookieMiddleware: ...
