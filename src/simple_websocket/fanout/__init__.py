"""Fan-out across processes: publish to topics, subscribe, history and presence.

.. code-block:: python

    from simple_websocket.fanout import Broker, Message, RedisBackend

    broker = Broker(RedisBackend("redis://127.0.0.1:6379/0", retention=10_000))
    async with broker:                                    # once per process (an ASGI lifespan)
        async with broker.subscribe("room:1") as sub:      # nothing leaks when the task is cancelled
            await broker.publish("room:1", "hello")        # str as text, bytes as binary
            async for event in sub:
                if isinstance(event, Message):
                    await ws.send(event.data)               # the frame kind survives the trip

``Broker()`` keeps topics in this process (``MemoryBackend``, no dependency); ``RedisBackend``
shares them between every process on one Redis server (extra ``[redis]``: coredis),
``RedisClusterBackend`` over the masters of a Redis Cluster. Order per topic
is publish order, the same for every subscriber in every process. Each subscriber has a bounded
backlog with an explicit overflow policy; missed messages are reported as ``Gap`` events, never
skipped silently. Other brokers plug in through the ``Backend`` protocol.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ..exceptions import BrokerUnavailable, FanoutError, SlowSubscriber
from ._backend import Backend, Cursor, Entry, Head, Kind
from ._broker import Broker, Since
from ._events import Event, Gap, GapCause, Joined, Left, Message
from ._memory import MemoryBackend
from ._position import Position
from ._subscription import Overflow, Subscription

if TYPE_CHECKING:
    from ._cluster import RedisClusterBackend
    from ._redis import RedisBackend

__all__ = [
    "Backend",
    "Broker",
    "BrokerUnavailable",
    "Cursor",
    "Entry",
    "Event",
    "FanoutError",
    "Gap",
    "GapCause",
    "Head",
    "Joined",
    "Kind",
    "Left",
    "MemoryBackend",
    "Message",
    "Overflow",
    "Position",
    "RedisBackend",
    "RedisClusterBackend",
    "Since",
    "SlowSubscriber",
    "Subscription",
]


def __getattr__(name: str) -> object:
    if name == "RedisBackend":  # imported on first use: coredis is an optional extra
        return import_module("._redis", __name__).RedisBackend
    if name == "RedisClusterBackend":
        return import_module("._cluster", __name__).RedisClusterBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
