import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from socketio.async_manager import AsyncManager

_Handler = TypeVar("_Handler", bound=Callable[..., Awaitable[object] | object])

class AsyncServer:
    # Other keyword arguments go to engineio.AsyncServer (async_mode, cors_allowed_origins, ping_interval...).
    def __init__(
        self,
        client_manager: AsyncManager | None = None,
        logger: logging.Logger | bool = False,
        json: object = None,
        async_handlers: bool = True,
        namespaces: list[str] | str | None = None,
        **kwargs: Any,
    ) -> None: ...
    @overload
    def on(self, event: str, handler: None = None, namespace: str | None = None) -> Callable[[_Handler], _Handler]: ...
    @overload
    def on(self, event: str, handler: Callable[..., object], namespace: str | None = None) -> None: ...
    def event(self, handler: _Handler) -> _Handler: ...
    async def emit(
        self,
        event: str,
        data: object = None,
        to: str | None = None,
        room: str | None = None,
        skip_sid: str | list[str] | None = None,
        namespace: str | None = None,
        callback: Callable[..., object] | None = None,
        ignore_queue: bool = False,
    ) -> None: ...
    async def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None: ...
    async def leave_room(self, sid: str, room: str, namespace: str | None = None) -> None: ...
    async def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]: ...
    async def save_session(self, sid: str, session: dict[str, Any], namespace: str | None = None) -> None: ...
