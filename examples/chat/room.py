"""The chat room over a fan-out Broker: the same room for every worker that shares the broker.

A room is one topic: what people say, and who is in it (the Broker's presence: joins, leaves,
and members of a worker that died), in one order that every worker sees alike. Each person reads
it through a subscription with a bounded backlog: the last messages first, then live events; or,
for a person coming back (``since``), every event after the last one they got, then live events.

A person holds their nickname with a session secret that only their page knows: coming back with
it (to this worker or another) within the room's ``grace`` period, they keep the nickname and
nobody sees them leave and join again.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import msgspec

from simple_websocket import Data, DecodeError
from simple_websocket.codecs import MsgspecJSONCodec
from simple_websocket.fanout import Broker, Event, Gap, Joined, Left, Message, Position, Subscription

from . import protocol as wire
from .protocol import SERVER_V1, SERVER_V2, Said, SaidV1, Stats

Payload = dict[str, object]
#: What the room shows a person for one room event, in chat.v2's terms.
Shown = wire.Joined | wire.Left | Said | wire.Gap

#: Room events a person may have waiting before they count as too slow.
QUEUE_SIZE = 256
#: Messages a person sees from before they joined.
HISTORY = 20
#: Encoded events kept for the other people of this worker (a few queues' worth).
_FRAMES = 1024
#: How long leaving may take when the broker does not answer.
LEAVE_TIMEOUT = 5.0


class Spoken(msgspec.Struct, tag_field="type", tag="message"):
    """What the room publishes when someone says something."""

    nick: str
    text: str
    ts: float


class Farewell(msgspec.Struct, tag_field="type", tag="farewell"):
    """What the room publishes just before a member is dropped: why (told to the others)."""

    nick: str
    reason: str


#: The room's own messages in its topic (not the clients' protocol: see protocol.py).
_TOPIC = MsgspecJSONCodec(Spoken | Farewell)


class NicknameTaken(Exception):
    """A person coming back asked for their nickname, and someone else (another session) has it."""


@dataclass(eq=False)
class Member:
    """One person in the room: their nickname and their subscription to the room's events."""

    nick: str
    events: Subscription[Data]
    session: bytes | None = None
    """A digest of the secret the person's page holds its nickname with (None: a client that has
    none); the secret itself is not kept."""
    resumed: bool = False
    """Whether the person came back after a position (``since``) rather than joining afresh."""
    reason: str = "left"
    """Why they leave, told to the others: ``left``, or ``too slow`` when dropped."""
    grace: float = 0.0
    """How long the nickname stays in the room after the connection ends, for its session to come
    back (0 when it ends for good: the server stops, or the person was too slow)."""
    replaced: anyio.Event = field(default_factory=anyio.Event)
    """Set when the same session came back on a new connection to this worker while this one
    still looked alive: this connection is to end."""
    gone: anyio.Event = field(default_factory=anyio.Event)
    """Set once the member has left the room (or handed its nickname on)."""


@dataclass
class View:
    """What one person has learnt from the events they read: why others are leaving."""

    reasons: dict[str, str] = field(default_factory=dict)


class Room:
    """Everyone connected to any worker that shares ``broker``'s backend, and what they say."""

    def __init__(
        self,
        broker: Broker,
        *,
        name: str = "chat",
        queue_size: int = QUEUE_SIZE,
        history: int = HISTORY,
        grace: float = 0.0,
    ) -> None:
        self.broker = broker
        self.topic = name
        self.queue_size = queue_size
        self.history = history
        self.grace = grace
        self._users: tuple[frozenset[str], list[str]] = (frozenset(), [])
        # Keyed by position, never by seq alone: after a backend lost its data the numbering starts
        # again in a new epoch, and seq 5 of the new one is not the old seq 5.
        self._frames: OrderedDict[tuple[str, Position, str], str | None] = OrderedDict()
        self._here: dict[str, Member] = {}  # the members connected to this worker, by nickname

    @asynccontextmanager
    async def enter(
        self, wanted: str, *, session: str | None = None, since: Position | None = None
    ) -> AsyncIterator[Member]:
        """Join as ``wanted``; leave on exit (after the room's grace period, unless told otherwise).

        Afresh (no ``since``): the room's last messages first; ``wanted-2``, ``wanted-3``... if the
        nickname is taken by someone else (a nickname held with the same ``session`` is taken
        back). Coming back (``since``: the position of the last event the person got): every
        event after it, then live ones; exactly ``wanted`` or NicknameTaken.

        The subscription starts before the join, so a fresh member's own join is its first live event.
        """
        history = 0 if since is not None else self.history
        subscription = self.broker.subscribe(self.topic, max_backlog=self.queue_size, history=history, since=since)
        async with subscription as events:
            if since is None:
                nick = await self._claim(wanted, session)
            else:
                nick = await self._reclaim(wanted, session)
            digest = None if session is None else _digest(session)
            member = Member(nick, events, session=digest, resumed=since is not None, grace=self.grace)
            self._here[nick] = member
            try:
                yield member
            finally:
                if self._here.get(nick) is member:
                    del self._here[nick]
                try:
                    with anyio.move_on_after(LEAVE_TIMEOUT, shield=True):
                        if member.reason != "left":  # dropped: gone at once, and the others are told why
                            member.grace = 0.0
                            farewell = Farewell(nick, member.reason)
                            await self.broker.publish(self.topic, _TOPIC.encode(farewell))
                        await self.broker.leave(self.topic, nick, grace=member.grace)
                finally:
                    member.gone.set()

    async def _claim(self, wanted: str, session: str | None) -> str:
        for suffix in range(1, 10_000):
            nick = wanted if suffix == 1 else f"{wanted}-{suffix}"
            if await self.broker.join(self.topic, nick, session=session):
                return nick
        raise RuntimeError(f"no free nickname left for {wanted!r}")

    async def _reclaim(self, nick: str, session: str | None) -> str:
        """Take ``nick`` back for a person coming back with ``session``, or raise NicknameTaken."""
        if await self.broker.join(self.topic, nick, session=session):
            return nick
        # Still held on this worker by a connection of the same session that looks alive (the
        # page saw it drop, the server has not noticed yet): end that one and take over from it.
        old = self._here.get(nick)
        if old is not None and old.session is not None and session is not None:
            if not hmac.compare_digest(old.session, _digest(session)):
                raise NicknameTaken(nick)
            old.replaced.set()
            with anyio.move_on_after(LEAVE_TIMEOUT):
                await old.gone.wait()
            if await self.broker.join(self.topic, nick, session=session):
                return nick
        raise NicknameTaken(nick)

    async def say(self, member: Member, text: str) -> Position:
        """Publish one message from ``member`` to everyone (itself included); its place in the room's stream."""
        return await self.broker.publish(self.topic, _TOPIC.encode(Spoken(member.nick, text, time.time())))

    async def stats(self) -> Payload:
        """How many people are connected, to any worker."""
        return {"users": len(await self.broker.members(self.topic))}

    def shape(self, event: Event[Data], view: View, member: Member) -> Shown | None:
        """The client's event for a room event (in chat.v2), or None for one the client does not see."""
        pos = event.position.token
        users = self._sorted(member.events.members(self.topic))
        stats = Stats(len(users))
        if isinstance(event, Message):
            try:
                said = _TOPIC.decode(event.data)
            except DecodeError:
                return None  # not the room's: nobody sees it
            if isinstance(said, Farewell):  # why someone is about to leave
                view.reasons[said.nick] = said.reason
                return None
            return Said(said.nick, said.text, said.ts, pos, users, stats)
        if isinstance(event, Joined):
            return wire.Joined(event.member, pos, users, stats)
        if isinstance(event, Left):
            reason = view.reasons.pop(event.member, "lost" if event.lost else "left")
            return wire.Left(event.member, reason, pos, users, stats)
        return wire.Gap(event.missed, event.cause, pos, users, stats)

    def frame(self, event: Event[Data], view: View, member: Member, protocol: str) -> str | None:
        """``shape()``'s event as the JSON text the client gets in ``protocol``.

        Every person of a worker reads the same events: each one is shaped and encoded once per
        protocol, not once per person (but a Gap, which is one subscriber's own, every time).
        """
        cached = not isinstance(event, Gap)
        key = (event.topic, event.position, protocol)
        if cached and key in self._frames:
            text = self._frames[key]
            if isinstance(event, Message):
                if text is None:  # a farewell note (no frame): it still counts for this person's view
                    self.shape(event, view, member)
            elif isinstance(event, Left):
                view.reasons.pop(event.member, None)
            return text
        shaped = self.shape(event, view, member)
        if shaped is None:
            text = None
        elif protocol == "chat.v1":
            text = SERVER_V1.encode(without_timestamp(shaped))
        else:
            text = SERVER_V2.encode(shaped)
        if cached:
            self._frames[key] = text
            if len(self._frames) > _FRAMES:
                self._frames.popitem(last=False)
        return text

    def _sorted(self, members: frozenset[str]) -> list[str]:
        """``sorted(members)``, once per change of membership rather than once per person and event."""
        if self._users[0] is not members:
            self._users = (members, sorted(members))
        return self._users[1]


def _digest(session: str) -> bytes:
    """What this worker keeps of a session secret, to recognise it (as the Broker does)."""
    return hashlib.sha256(session.encode()).digest()


def without_timestamp(shown: Shown) -> wire.Joined | wire.Left | SaidV1 | wire.Gap:
    """``shown`` as chat.v1 has it: messages without their timestamp."""
    if isinstance(shown, Said):
        return SaidV1(shown.nick, shown.text, shown.pos, shown.users, shown.stats)
    return shown
