from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from socketio.async_server import AsyncServer

class ASGIApp:
    def __init__(
        self,
        socketio_server: AsyncServer,
        other_asgi_app: Callable[..., Awaitable[None]] | None = None,
        static_files: Mapping[str, object] | None = None,
        socketio_path: str = "socket.io",
        on_startup: Callable[[], object] | None = None,
        on_shutdown: Callable[[], object] | None = None,
    ) -> None: ...
    async def __call__(
        self,
        scope: Mapping[str, Any],
        receive: Callable[[], Awaitable[Mapping[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None: ...
