"""The chat room over a fan-out Broker: the same room for every worker that shares the broker.

A room is one topic: what people say, and who is in it (the Broker's presence: joins, leaves,
and members of a worker that died), in one order that every worker sees alike. Each person reads
it through a subscription with a bounded backlog: the last messages first, then live events.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from simple_websocket import Data, DecodeError
from simple_websocket.codecs import JSONCodec
from simple_websocket.fanout import Broker, Event, Joined, Left, Message, Subscription

Payload = dict[str, object]

#: Room events a person may have waiting before they count as too slow.
QUEUE_SIZE = 256
#: Messages a person sees from before they joined.
HISTORY = 20
#: Encoded events kept for the other people of this worker (a few queues' worth).
_FRAMES = 1024
#: How long leaving may take when the broker does not answer.
LEAVE_TIMEOUT = 5.0

_JSON = JSONCodec()


@dataclass(eq=False)
class Member:
    """One person in the room: their nickname and their subscription to the room's events."""

    nick: str
    events: Subscription[Data]
    reason: str = "left"
    """Why they leave, told to the others: ``left``, or ``too slow`` when dropped."""


@dataclass
class View:
    """What one person has learnt from the events they read: why others are leaving."""

    reasons: dict[str, str] = field(default_factory=dict)


class Room:
    """Everyone connected to any worker that shares ``broker``'s backend, and what they say."""

    def __init__(
        self, broker: Broker, *, name: str = "chat", queue_size: int = QUEUE_SIZE, history: int = HISTORY
    ) -> None:
        self.broker = broker
        self.topic = name
        self.queue_size = queue_size
        self.history = history
        self._users: tuple[frozenset[str], list[str]] = (frozenset(), [])
        self._frames: OrderedDict[tuple[str, int | None, str], str | None] = OrderedDict()

    @asynccontextmanager
    async def enter(self, wanted: str) -> AsyncIterator[Member]:
        """Join as ``wanted`` (or ``wanted-2``, ``wanted-3``... if taken); leave on exit.

        The subscription starts before the join, so the member's own join is its first live event.
        """
        subscription = self.broker.subscribe(self.topic, max_backlog=self.queue_size, history=self.history)
        async with subscription as events:
            nick = await self._claim(wanted)
            member = Member(nick, events)
            try:
                yield member
            finally:
                with anyio.move_on_after(LEAVE_TIMEOUT, shield=True):
                    if member.reason != "left":
                        farewell = {"type": "farewell", "nick": nick, "reason": member.reason}
                        await self.broker.publish(self.topic, _JSON.encode(farewell))
                    await self.broker.leave(self.topic, nick)

    async def _claim(self, wanted: str) -> str:
        for suffix in range(1, 10_000):
            nick = wanted if suffix == 1 else f"{wanted}-{suffix}"
            if await self.broker.join(self.topic, nick):
                return nick
        raise RuntimeError(f"no free nickname left for {wanted!r}")

    async def say(self, member: Member, text: str) -> int:
        """Publish one message from ``member`` to everyone (itself included); its place in the room's stream."""
        message = {"type": "message", "nick": member.nick, "text": text, "ts": time.time()}
        return await self.broker.publish(self.topic, _JSON.encode(message))

    async def stats(self) -> Payload:
        """How many people are connected, to any worker."""
        return {"users": len(await self.broker.members(self.topic))}

    def shape(self, event: Event[Data], view: View, member: Member) -> Payload | None:
        """The client's event for a room event, or None for one the client does not see."""
        shaped: Payload
        if isinstance(event, Message):
            data = _decoded(event.data)
            if data.get("type") == "farewell":  # why someone is about to leave
                view.reasons[str(data.get("nick"))] = str(data.get("reason"))
                return None
            shaped = {"type": "message", "nick": data.get("nick"), "text": data.get("text"), "ts": data.get("ts")}
        elif isinstance(event, Joined):
            shaped = {"type": "join", "nick": event.member}
        elif isinstance(event, Left):
            reason = view.reasons.pop(event.member, "lost" if event.lost else "left")
            shaped = {"type": "leave", "nick": event.member, "reason": reason}
        else:
            shaped = {"type": "gap", "missed": event.missed}
        shaped["users"] = users = self._sorted(member.events.members(self.topic))
        shaped["stats"] = {"users": len(users)}
        return shaped

    def frame(self, event: Event[Data], view: View, member: Member, protocol: str) -> str | None:
        """``shape()``'s event as the JSON text the client gets in ``protocol``.

        Every person of a worker reads the same events: each one is shaped and encoded once per
        protocol, not once per person.
        """
        seq = getattr(event, "seq", None)
        key = (event.topic, seq, protocol)
        if seq is not None and key in self._frames:
            if isinstance(event, Message):  # a farewell note still counts for this person's view
                self.shape(event, view, member)
            elif isinstance(event, Left):
                view.reasons.pop(event.member, None)
            return self._frames[key]
        shaped = self.shape(event, view, member)
        if shaped is None:
            text = None
        else:
            if protocol == "chat.v1":  # chat.v1 has no timestamps
                shaped.pop("ts", None)
            text = _JSON.encode(shaped)
        if seq is not None:
            self._frames[key] = text
            if len(self._frames) > _FRAMES:
                self._frames.popitem(last=False)
        return text

    def _sorted(self, members: frozenset[str]) -> list[str]:
        """``sorted(members)``, once per change of membership rather than once per person and event."""
        if self._users[0] is not members:
            self._users = (members, sorted(members))
        return self._users[1]


def _decoded(data: Data) -> dict[str, object]:
    """A message this room published (anything else in the topic reads as an empty one)."""
    try:
        obj = _JSON.decode(data)
    except DecodeError:
        return {}
    return obj if isinstance(obj, dict) else {}
