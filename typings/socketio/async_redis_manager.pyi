import logging
from collections.abc import Mapping

from socketio.async_manager import AsyncManager

class AsyncRedisManager(AsyncManager):
    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        channel: str = "socketio",
        write_only: bool = False,
        logger: logging.Logger | None = None,
        json: object = None,
        redis_options: Mapping[str, object] | None = None,
    ) -> None: ...
