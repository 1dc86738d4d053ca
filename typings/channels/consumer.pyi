from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from channels.layers import BaseChannelLayer

_Receive: TypeAlias = Callable[[], Awaitable[Mapping[str, object]]]
_Send: TypeAlias = Callable[[dict[str, object]], Awaitable[object]]
_ASGIApp: TypeAlias = Callable[[Mapping[str, object], _Receive, _Send], Awaitable[None]]

class AsyncConsumer:
    channel_layer_alias: str
    # Set when the consumer is called, before any handler runs.
    scope: dict[str, Any]
    channel_layer: BaseChannelLayer | None
    channel_name: str  # only with a channel layer
    # Dispatches a message to the method named after its "type" ("room.message" -> room_message).
    async def dispatch(self, message: Mapping[str, object]) -> None: ...
    # One consumer instance per connection.
    @classmethod
    def as_asgi(cls, **initkwargs: object) -> _ASGIApp: ...
