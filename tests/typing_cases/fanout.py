"""The fan-out layer's public types, pinned (tests/test_types.py)."""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import reveal_type

from simple_websocket.codecs import JSONCodec, MsgpackCodec
from simple_websocket.fanout import Broker, Event, Gap, Joined, Left, Message, Position, RedisBackend


@dataclass
class Chat:
    text: str


def to_chat(obj: object) -> Chat:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return Chat(obj["text"])
    raise ValueError("not a chat message")


async def cases(broker: Broker, event: Event[Chat]) -> None:
    reveal_type(broker.subscribe("room"))  # R: simple_websocket.fanout._subscription.Subscription[str | bytes]
    reveal_type(broker.subscribe("room", codec=JSONCodec()))  # R: simple_websocket.fanout._subscription.Subscription[object]
    reveal_type(broker.subscribe("a", "b", history=5, codec=JSONCodec(to_chat)))  # R: simple_websocket.fanout._subscription.Subscription[tests.typing_cases.fanout.Chat]
    reveal_type(broker.subscribe("room", codec=MsgpackCodec()))  # R: simple_websocket.fanout._subscription.Subscription[object]
    since = Position.parse("7.1733300000.123456")
    reveal_type(since)  # R: simple_websocket.fanout._position.Position
    reveal_type(since.token)  # R: str
    reveal_type(broker.subscribe("room", since=since))  # R: simple_websocket.fanout._subscription.Subscription[str | bytes]
    reveal_type(broker.subscribe("a", "b", since={"a": since}, codec=JSONCodec(to_chat)))  # R: simple_websocket.fanout._subscription.Subscription[tests.typing_cases.fanout.Chat]
    reveal_type(await broker.join("room", "ann", session="secret"))  # R: bool
    reveal_type(await broker.leave("room", "ann", grace=12.0))  # R: bool
    async with broker.subscribe("room", codec=JSONCodec(to_chat)) as sub:
        reveal_type(sub)  # R: simple_websocket.fanout._subscription.Subscription[tests.typing_cases.fanout.Chat]
        reveal_type(sub.recovered)  # R: bool | None
        reveal_type(sub.position("room"))  # R: simple_websocket.fanout._position.Position
        reveal_type(await sub.receive())  # R: simple_websocket.fanout._events.Message[tests.typing_cases.fanout.Chat] | simple_websocket.fanout._events.Gap | simple_websocket.fanout._events.Joined | simple_websocket.fanout._events.Left
        async for received in sub:
            if isinstance(received, Message):
                reveal_type(received.data)  # R: tests.typing_cases.fanout.Chat
                reveal_type(received.frame)  # R: str | bytes
        reveal_type(sub.members("room"))  # R: frozenset[str]
    reveal_type(await broker.publish("room", "text"))  # R: simple_websocket.fanout._position.Position
    reveal_type(await broker.history("room", 10))  # R: list[simple_websocket.fanout._events.Message[str | bytes]]
    reveal_type(await broker.history("room", 10, codec=JSONCodec(to_chat)))  # R: list[simple_websocket.fanout._events.Message[tests.typing_cases.fanout.Chat]]
    reveal_type(await broker.join("room", "ann"))  # R: bool
    reveal_type(await broker.members("room"))  # R: frozenset[str]
    if isinstance(event, Gap):
        reveal_type(event.missed)  # R: int | None
        reveal_type(event.cause)  # R: Literal['overflow'] | Literal['retention'] | Literal['reset'] | Literal['ahead']
        reveal_type(event.position)  # R: simple_websocket.fanout._position.Position
    elif isinstance(event, Left):
        reveal_type(event.lost)  # R: bool
    elif isinstance(event, Joined):
        reveal_type(event.seq)  # R: int
    reveal_type(Broker(RedisBackend("redis://127.0.0.1:6379/0")).backend)  # R: simple_websocket.fanout._backend.Backend
