from collections.abc import Awaitable, Callable, Mapping
from typing import TypeAlias

_Scope: TypeAlias = Mapping[str, object]
_Receive: TypeAlias = Callable[[], Awaitable[Mapping[str, object]]]
_Send: TypeAlias = Callable[[dict[str, object]], Awaitable[object]]

class ASGIHandler:
    """Serves ``http`` scopes only; any other scope type raises ValueError."""

    chunk_size: int
    def __init__(self) -> None: ...
    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None: ...
