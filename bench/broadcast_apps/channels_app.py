"""Django Channels with channels_redis, as the Channels tutorial writes its chat consumer.

    FANOUT_REDIS_URL=redis://127.0.0.1:6379/0 uvicorn bench.broadcast_apps.channels_app:application

A connection joins the room's group on connect and leaves it on disconnect; each text it sends is
decoded and sent to the group (``group_send``); each group message is encoded and sent to the
client. The channel layer (``channels_redis.core.RedisChannelLayer``) keeps its defaults: at most
100 messages wait per channel, and ``group_send`` drops what does not fit, without a word. The one
fix, in channels_settings: no socket timeout on the layer's Redis connections, which redis-py 8
would otherwise end in the middle of the layer's blocking reads (see there).
"""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.broadcast_apps.channels_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import BaseChannelLayer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class RoomConsumer(AsyncWebsocketConsumer):
    room_group_name: str

    @property
    def layer(self) -> BaseChannelLayer:
        """The channel layer, which settings.CHANNEL_LAYERS configures."""
        assert self.channel_layer is not None
        return self.channel_layer

    async def connect(self) -> None:
        self.room_group_name = f"room_{self.scope['url_route']['kwargs']['name']}"
        await self.layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        message = json.loads(text_data or "null")
        await self.layer.group_send(self.room_group_name, {"type": "room.message", "message": message})

    async def room_message(self, event: dict[str, object]) -> None:
        await self.send(text_data=json.dumps(event["message"]))


application = ProtocolTypeRouter({"websocket": URLRouter([path("rooms/<str:name>", RoomConsumer.as_asgi())])})
