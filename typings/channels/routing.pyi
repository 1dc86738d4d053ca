from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeAlias

from django.urls import URLPattern

_Scope: TypeAlias = Mapping[str, object]
_Receive: TypeAlias = Callable[[], Awaitable[Mapping[str, object]]]
_Send: TypeAlias = Callable[[dict[str, object]], Awaitable[object]]
_ASGIApp: TypeAlias = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

class ProtocolTypeRouter:
    application_mapping: Mapping[str, _ASGIApp]
    def __init__(self, application_mapping: Mapping[str, _ASGIApp]) -> None: ...
    # Raises ValueError for a scope type missing from the mapping.
    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None: ...

class URLRouter:
    routes: Sequence[URLPattern]
    def __init__(self, routes: Sequence[URLPattern]) -> None: ...
    # Raises ValueError when no route matches (outermost router) or the scope has no path.
    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None: ...
