import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, overload

_Handler = TypeVar("_Handler", bound=Callable[..., Awaitable[object] | object])

class AsyncClient:
    # Other keyword arguments go to engineio.AsyncClient (request_timeout, http_session, ssl_verify...).
    def __init__(
        self,
        reconnection: bool = True,
        reconnection_attempts: int = 0,
        reconnection_delay: float = 1,
        reconnection_delay_max: float = 5,
        randomization_factor: float = 0.5,
        logger: logging.Logger | bool = False,
        serializer: str = "default",
        json: object = None,
        handle_sigint: bool = True,
        **kwargs: Any,
    ) -> None: ...
    connected: bool
    @overload
    def on(self, event: str, handler: None = None, namespace: str | None = None) -> Callable[[_Handler], _Handler]: ...
    @overload
    def on(self, event: str, handler: Callable[..., object], namespace: str | None = None) -> None: ...
    def event(self, handler: _Handler) -> _Handler: ...
    async def connect(
        self,
        url: str,
        headers: Mapping[str, str] = ...,
        auth: object = None,
        transports: list[str] | str | None = None,
        namespaces: list[str] | str | None = None,
        socketio_path: str = "socket.io",
        wait: bool = True,
        wait_timeout: float = 1,
        retry: bool = False,
    ) -> None: ...
    async def emit(
        self,
        event: str,
        data: object = None,
        namespace: str | None = None,
        callback: Callable[..., object] | None = None,
    ) -> None: ...
    async def disconnect(self) -> None: ...
    async def wait(self) -> None: ...
