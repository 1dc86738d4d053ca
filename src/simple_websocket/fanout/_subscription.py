"""Subscription: one subscriber's bounded backlog of events, read as an async iterator."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Generator, Sequence
from typing import Generic, Literal, Protocol, TypeAlias

import anyio
from typing_extensions import Self, TypeVar

from .. import _telemetry
from .._loop import on_asyncio
from ..exceptions import InvalidArgument, SlowSubscriber
from ..typing import Data
from ._events import Event, Gap, Message
from ._position import Position

__all__ = ["Overflow", "Subscription"]

_log = logging.getLogger(__name__)

_share = Message.__dict__["_shared"].__set__  # the slot's own setter: Message is frozen

T_co = TypeVar("T_co", covariant=True, default=Data)

Overflow: TypeAlias = Literal["end", "drop_oldest"]
"""What happens when a subscriber's backlog is full: ``end`` the subscription (the next read raises
SlowSubscriber: close the WebSocket with 1013), or ``drop_oldest`` and yield a Gap saying how many."""

# An event as the broker's reader hands it out: the event and the topic's members at that point.
_Item: TypeAlias = "tuple[Event[Data], frozenset[str]]"


class _Waiter(Protocol):
    """What a reader waiting for the next event awaits: an asyncio Future, or an _EventWaiter."""

    def done(self) -> bool: ...
    def set_result(self, result: None, /) -> None: ...
    def __await__(self) -> Generator[object, None, object]: ...


class _EventWaiter:
    """A waiter on any backend anyio runs (trio): an anyio Event with a Future's three methods."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = anyio.Event()

    def done(self) -> bool:
        return self._event.is_set()

    def set_result(self, result: None, /) -> None:
        self._event.set()

    def __await__(self) -> Generator[object, None, object]:
        return self._event.wait().__await__()


def _waiter_factory() -> Callable[[], _Waiter]:
    """How the running task makes a waiter: on asyncio a bare Future, about a fifth of an anyio
    Event's cost per wait, which a subscriber pays each time it has read its whole backlog."""
    return asyncio.get_running_loop().create_future if on_asyncio() else _EventWaiter


class Subscription(Generic[T_co]):
    """Events of one or more topics, in publish order per topic, with a bounded backlog.

    Made by ``Broker.subscribe()``; use it as ``async with broker.subscribe(...) as sub: async for
    event in sub``. Leaving the ``async with`` (or cancelling the task) unsubscribes.
    """

    __slots__ = (
        "_backlog",
        "_codec",
        "_decode",
        "_dropped",
        "_ended",
        "_history",
        "_new_waiter",
        "_overflow_seen",
        "_overflowed",
        "_register",
        "_seen",
        "_starts",
        "_unregister",
        "_waiter",
        "max_backlog",
        "overflow",
        "recovered",
        "replayed",
        "topics",
    )

    def __init__(
        self,
        topics: Collection[str],
        *,
        max_backlog: int,
        overflow: Overflow,
        decode: Callable[[Data], T_co] | None,
        codec: object = None,
        register: Callable[[Subscription[T_co]], Awaitable[None]],
        unregister: Callable[[Subscription[T_co]], None],
    ) -> None:
        self.topics: frozenset[str] = frozenset(topics)
        """The topics this subscription receives."""
        self.max_backlog: int = max_backlog
        """How many events may wait to be read before ``overflow`` applies."""
        self.overflow: Overflow = overflow
        self._backlog: deque[_Item] = deque()
        self._waiter: _Waiter | None = None  # set when the reader waits for the next event
        self._new_waiter: Callable[[], _Waiter] | None = None  # found at the first wait
        self._ended = False  # no event will be added any more
        self._decode = decode
        self._codec = codec  # whose decoded messages this subscription shares (by identity)
        # Per topic, the last event yielded and the members as of it; before any, where it starts.
        self._seen: dict[str, _Item] = {}
        self._starts: dict[str, tuple[Position, frozenset[str]]] = {}
        self._dropped: dict[str, tuple[int, Position]] = {}  # how many, and the last one's position
        self._history: deque[Event[Data]] = deque()
        self.recovered: bool | None = None
        """With ``since``: True if every event after it was replayed, False if a Gap says what
        is missing (see ``Broker.subscribe``); None without ``since``."""
        self.replayed: int = 0
        """How many events (of every topic) were queued at the start to be yielded before the live
        ones: those after ``since``, or the ``history`` messages."""
        self._overflowed = False
        self._overflow_seen: anyio.Event | None = None
        self._register = register
        self._unregister = unregister

    # -- the Broker's side -------------------------------------------------------------------

    def start(self, topic: str, members: frozenset[str], position: Position) -> None:
        """Set a topic's members, and the position its first event follows, as this subscription
        starts receiving it."""
        self._starts[topic] = (position, members)

    def prepend(self, events: Sequence[Event[Data]]) -> None:
        """Events from before the subscription started (history, or a replay after ``since``),
        yielded before everything else, in the order given."""
        self._history.extend(events)
        self.replayed += len(events)

    def discard_until(self, topic: str, position: Position) -> None:
        """Drop the queued events of ``topic`` up to ``position`` (of its epoch): had already."""
        kept = [item for item in self._backlog if item[0].topic != topic or not position.covers(item[0].position)]
        if len(kept) != len(self._backlog):
            self._backlog.clear()
            self._backlog.extend(kept)

    def offer(self, item: _Item) -> int:
        """Queue an event without waiting: how many events wait now, or -1 once the subscription is over."""
        if self._ended:
            return -1
        backlog = self._backlog
        if len(backlog) >= self.max_backlog:
            if self.overflow == "end":
                self._overflowed = True
                self.end()
                _log.warning(
                    "a subscriber of %s fell %d events behind: its subscription ends (SlowSubscriber)",
                    ", ".join(sorted(self.topics)),
                    self.max_backlog,
                )
                _telemetry.note_fanout("slow_subscribers")
                if self._overflow_seen is not None:
                    self._overflow_seen.set()
                return -1
            dropped = backlog.popleft()[0]
            count = self._dropped.get(dropped.topic, (0, dropped.position))[0]
            self._dropped[dropped.topic] = (count + 1, dropped.position)
        backlog.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():  # done: the reader was cancelled meanwhile
                waiter.set_result(None)
        return len(backlog)

    def end(self) -> None:
        """No more events will come (the Broker stopped): iteration ends once the backlog is read."""
        self._ended = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- the subscriber's side -----------------------------------------------------------------

    @property
    def waiting(self) -> int:
        """How many events wait to be read (at most ``max_backlog``), besides those of ``replayed``."""
        return len(self._backlog)

    @property
    def overflowed(self) -> bool:
        """Whether the backlog overflowed under ``overflow="end"``: the subscription is over."""
        return self._overflowed

    async def wait_overflowed(self) -> None:
        """Return once the backlog overflows under ``overflow="end"`` (never under "drop_oldest").

        For a subscriber that may be stuck elsewhere, e.g. in a WebSocket send to a client that
        stopped reading: run it beside that work and close the connection (1013) when it returns.
        """
        if not self._overflowed:
            if self._overflow_seen is None:
                self._overflow_seen = anyio.Event()
            await self._overflow_seen.wait()

    def members(self, topic: str) -> frozenset[str]:
        """The topic's members as of the last event this subscription yielded for it."""
        seen = self._seen.get(topic)
        if seen is not None:
            return seen[1]
        start = self._starts.get(topic)
        return frozenset() if start is None else start[1]

    def position(self, topic: str) -> Position:
        """Where this subscriber is in ``topic``: the position of the last event yielded for it,
        or, before any, the position the first one follows. Everything after it is still to come:
        keep it (``position.token`` for a client) to resume from it with ``subscribe(since=...)``."""
        seen = self._seen.get(topic)
        if seen is not None:
            return seen[0].position
        start = self._starts.get(topic)
        if start is None:
            raise InvalidArgument(f"this subscription does not receive topic {topic!r} (or has not started)")
        return start[0]

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event[T_co]:
        """The next event; raises SlowSubscriber once the backlog overflowed under ``end``.

        An event already waiting is returned at once, without letting other tasks run first (as
        ``asyncio.Queue.get`` does): a subscriber drains its backlog in one go.
        """
        while True:
            if self._overflowed:
                raise SlowSubscriber(self.max_backlog)
            if self._history:
                event = self._history.popleft()
                self._seen[event.topic] = (event, self.members(event.topic))
                return self._decoded(event)
            if self._dropped:
                topic = next(iter(self._dropped))
                count, position = self._dropped.pop(topic)
                gap = Gap(topic, count, "overflow", position)
                self._seen[topic] = (gap, self.members(topic))
                _telemetry.note_fanout("gaps", reason="overflow")
                return gap
            if self._backlog:
                item = self._backlog.popleft()
                event = item[0]
                self._seen[event.topic] = item
                if self._decode is None:
                    return event  # type: ignore[return-value]  # undecoded, T_co is Data
                return self._decoded(event)
            if self._ended:
                raise StopAsyncIteration
            new_waiter = self._new_waiter
            if new_waiter is None:
                new_waiter = self._new_waiter = _waiter_factory()
            waiter = self._waiter = new_waiter()
            await waiter

    def _decoded(self, event: Event[Data]) -> Event[T_co]:
        if type(event) is Message and self._decode is not None:
            shared = event._shared
            if shared is not None and shared[0] is self._codec:
                return shared[1]  # type: ignore[return-value]  # decoded by this same codec
            decoded = Message(event.topic, self._decode(event.data), event.position, event.frame)
            if self._codec is not None:
                _share(event, (self._codec, decoded))
            return decoded
        return event  # type: ignore[return-value]  # undecoded, T_co is Data; the other events carry no T_co

    async def receive(self) -> Event[T_co]:
        """The next event (the same as one step of ``async for``)."""
        return await self.__anext__()

    def close(self) -> None:
        """Unsubscribe; events still queued are discarded. Leaving ``async with`` does this."""
        self._backlog.clear()
        self.end()
        self._unregister(self)

    async def __aenter__(self) -> Self:
        """Subscribe: from here on, every event of the topics reaches this subscription."""
        await self._register(self)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
