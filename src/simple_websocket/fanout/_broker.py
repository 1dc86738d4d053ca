"""Broker: publish to topics, subscribe to them, and who is present, over a pluggable Backend."""

from __future__ import annotations

import hashlib
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias, TypeVar, overload

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from typing_extensions import Self

from .. import _telemetry
from ..codecs import Codec
from ..exceptions import BrokerUnavailable, InvalidArgument, InvalidData, InvalidState
from ..typing import Data
from ._backend import Backend, Entry, Kind, Stamped
from ._events import Event, Gap, Joined, Left, Message
from ._memory import MemoryBackend
from ._position import Position, trusted
from ._subscription import Overflow, Subscription

__all__ = ["Broker", "Since"]

_log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Since: TypeAlias = "Position | Mapping[str, Position] | None"
"""Where ``subscribe(since=...)`` resumes: the Position of its one topic, or one per topic."""

#: How long one read waits for new entries before it asks again.
_READ_WAIT = 5.0
#: First and longest pause between two attempts while the backend cannot be reached.
_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 2.0


@dataclass(eq=False)
class _Topic:
    """A topic this process reads: where its reader is, who is present, who subscribes."""

    cursor: int
    members: frozenset[str]
    epoch: str
    subscribers: list[Subscription[object]] = field(default_factory=list)
    # Subscriptions that resumed past the cursor: events up to their position are had already.
    skipping: dict[Subscription[object], Position] = field(default_factory=dict)


class Broker:
    """Fan-out across processes: publish str or bytes to topics, subscribe, history, presence.

    One Broker per process, entered once for the process's life (an ASGI lifespan, or around
    ``anyio.run``'s main); it keeps one backend connection and one reader, and fans what it reads
    out to every subscription of the process.

    .. code-block:: python

        broker = Broker(RedisBackend("redis://127.0.0.1:6379/0"))   # Broker() keeps it in memory
        async with broker:
            async with broker.subscribe("room:1") as sub:
                await broker.publish("room:1", "hello")
                async for event in sub:          # Message, Gap, Joined or Left
                    ...

    ``publish_timeout`` bounds how long publish() and the other calls keep retrying while the
    backend is unreachable before they raise BrokerUnavailable. ``presence_ttl``: a process that
    stops (even with ``kill -9``) has its members removed by the other processes within
    ``presence_ttl * 4 / 3`` seconds.
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        publish_timeout: float = 5.0,
        presence_ttl: float = 6.0,
    ) -> None:
        if publish_timeout <= 0 or presence_ttl <= 0:
            raise InvalidArgument("publish_timeout and presence_ttl must be positive")
        self.backend: Backend = MemoryBackend() if backend is None else backend
        self.publish_timeout = publish_timeout
        self.presence_ttl = presence_ttl
        self.owner: str = uuid.uuid4().hex
        """This process's identity in the backend's presence tables."""
        self._keys = itertools.count(1)
        self._topics: dict[str, _Topic] = {}
        self._own: dict[str, dict[str, str | None]] = {}  # topic -> member -> its session's digest
        self._lingering: dict[tuple[str, str], anyio.CancelScope] = {}
        self._leaving: dict[tuple[str, str], anyio.Event] = {}  # a lingering member's leave in flight
        self._group: TaskGroup | None = None
        self._reading: anyio.CancelScope | None = None
        self._topics_changed = anyio.Event()
        self._alive_until = 0.0
        self._cut_off = False  # the reader cannot reach the backend
        self._answered = True  # the last call to the backend (publish, subscribe, heartbeat...) got an answer

    # -- life ------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._group is not None:
            raise InvalidState("this Broker is already running")
        await self.backend.__aenter__()
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        group.start_soon(self._read_forever)
        group.start_soon(self._beat_forever)
        _telemetry.watch(self)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        try:
            with anyio.move_on_after(self.publish_timeout, shield=True):
                for topic, members in list(self._own.items()):
                    for member in list(members):
                        await self.backend.leave(topic, member, owner=self.owner)
                        self._disown(topic, member)
        except BrokerUnavailable:
            pass  # the others will reap them once this process's heartbeat expires
        finally:
            self._own.clear()
            self._lingering.clear()
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)
            for read in self._topics.values():
                for sub in read.subscribers:
                    sub.end()
            self._topics.clear()
            _telemetry.unwatch(self)
            await self.backend.__aexit__(None, None, None)

    def _check_running(self) -> TaskGroup:
        if self._group is None:
            raise InvalidState("the Broker is not running: enter it first (async with broker:)")
        return self._group

    async def _retry(self, call: Callable[[], Awaitable[R]]) -> R:
        """Run a backend call, retrying with backoff for up to ``publish_timeout`` seconds."""
        deadline = anyio.current_time() + self.publish_timeout
        delay = _BACKOFF_FIRST
        while True:
            left = deadline - anyio.current_time()
            try:
                with anyio.fail_after(max(left, 0.001)):
                    result = await call()
                self._answered = True
                return result
            except (BrokerUnavailable, TimeoutError) as error:
                self._answered = False
                if anyio.current_time() + delay >= deadline:
                    raise BrokerUnavailable(
                        f"the broker did not answer within {self.publish_timeout} s: {error}"
                    ) from error
            await anyio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    # -- publish ---------------------------------------------------------------------------

    async def publish(self, topic: str, data: Data | bytearray | memoryview) -> Position:
        """Publish one message (str as text, bytes-like as binary) and return its position.

        Retries while the backend is unreachable (never twice the same message), and raises
        BrokerUnavailable after ``publish_timeout`` seconds; the message was then not published.
        """
        self._check_running()
        payload: str | bytes
        if isinstance(data, str):
            kind, payload = Kind.TEXT, str(data)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            kind, payload = Kind.BINARY, bytes(data)
        else:
            raise InvalidData(f"publish() takes str or bytes-like data, not {type(data).__name__}")
        key = f"{self.owner}:{next(self._keys)}"
        position = await self._retry(lambda: self.backend.append(topic, kind, payload, key=key))
        if _telemetry.recorder is not None:
            _telemetry.FANOUT.published += 1.0
        return position

    # -- subscribe -------------------------------------------------------------------------

    @overload
    def subscribe(
        self,
        *topics: str,
        max_backlog: int = ...,
        overflow: Overflow = ...,
        history: int = ...,
        since: Since = ...,
    ) -> Subscription[Data]: ...

    @overload
    def subscribe(
        self,
        *topics: str,
        max_backlog: int = ...,
        overflow: Overflow = ...,
        history: int = ...,
        since: Since = ...,
        codec: Codec[T, str] | Codec[T, bytes],
    ) -> Subscription[T]: ...

    def subscribe(
        self,
        *topics: str,
        max_backlog: int = 256,
        overflow: Overflow = "end",
        history: int = 0,
        since: Since = None,
        codec: Codec[object, str] | Codec[object, bytes] | None = None,
    ) -> Subscription[object]:
        """Events of ``topics`` from now on; use with ``async with``.

        At most ``max_backlog`` events wait for the subscriber; past that, ``overflow`` says what
        happens (``"end"``: the next read raises SlowSubscriber; ``"drop_oldest"``: a Gap reports
        how many were dropped). ``history``: first the last ``history`` messages of each topic
        published before the subscription started (as many as the backend still holds), then
        the live events, with none missing or repeated in between. With ``codec``, messages'
        data arrive decoded (DecodeError for a message that cannot be, and the subscription goes on).

        ``since`` resumes where a subscriber left off: a Position (of the one topic subscribed to)
        or one per topic (``{topic: position}``; ``history`` applies to the topics it leaves out). Each such topic
        starts right after its position: every event after it that the backend still holds, in
        order and once, then the live ones, with nothing missing or repeated at the seam; then
        ``recovered`` is True. All or nothing: when the backend cannot give every one of them
        (older than its retention, another epoch, a position the topic never had), the topic
        starts with one Gap saying why (and how many, where known), then the live events, and
        ``recovered`` is False.
        """
        if not topics:
            raise InvalidArgument("subscribe() needs at least one topic")
        if max_backlog < 1:
            raise InvalidArgument(f"max_backlog must be at least 1, got {max_backlog}")
        if overflow not in ("end", "drop_oldest"):
            raise InvalidArgument(f"overflow must be 'end' or 'drop_oldest', got {overflow!r}")
        if history < 0:
            raise InvalidArgument(f"history must be 0 or more, got {history}")
        starts = _since(topics, since)
        return Subscription(
            topics,
            max_backlog=max_backlog,
            overflow=overflow,
            decode=None if codec is None else codec.decode,
            codec=codec,
            register=lambda sub: self._register(sub, history, starts),
            unregister=self._unregister,
        )

    async def _register(self, sub: Subscription[object], history: int, since: Mapping[str, Position]) -> None:
        self._check_running()
        added = False
        starts: dict[str, Position] = {}
        try:
            for name in sub.topics:
                topic = self._topics.get(name)
                if topic is None:
                    head = await self._retry(lambda name=name: self.backend.head(name))  # type: ignore[misc]  # lambda default binds the loop variable
                    topic = self._topics.get(name)
                    if topic is None:
                        topic = self._topics[name] = _Topic(head.seq, head.members, head.epoch)
                        added = True
                # From here on the reader hands this subscription every event after the cursor.
                topic.subscribers.append(sub)
                starts[name] = start = trusted(topic.cursor, topic.epoch)
                sub.start(name, topic.members, start)
            if added:
                self._restart_read()
            for name, start in starts.items():
                if name in since:
                    await self._resume(sub, name, since[name], start)
                elif history:
                    entries = await self._retry(
                        lambda name=name, start=start: self.backend.history(name, history, until=start.seq)  # type: ignore[misc]  # lambda defaults bind the loop variables
                    )
                    if entries:
                        sub.start(name, sub.members(name), trusted(entries[0].seq - 1, start.epoch))
                        sub.prepend([_event(entry, start.epoch) for entry in entries])
        except BaseException:
            self._unregister(sub)
            raise
        if since:
            _telemetry.note_fanout("resumes", reason="recovered" if sub.recovered else "not_recovered")

    async def _resume(self, sub: Subscription[object], name: str, since: Position, start: Position) -> None:
        """Queue the events of ``name`` after ``since`` up to ``start`` (where live events begin),
        or one Gap if the backend cannot give every one of them."""
        gap: Gap | None = None
        if since.epoch != start.epoch:
            gap = Gap(name, None, "reset", start)
        elif since.seq <= start.seq:
            entries = await self._retry(lambda: self.backend.replay(name, since, start.seq))
            if entries is None:
                # The topic's data was lost meanwhile: the reader reports the reset to every subscriber.
                sub.recovered = False
                return
            if len(entries) != start.seq - since.seq or (entries and entries[0].seq != since.seq + 1):
                gap = Gap(name, start.seq - since.seq, "retention", start)
            else:
                sub.start(name, sub.members(name), since)
                sub.prepend([_event(entry, start.epoch) for entry in entries])
        else:
            # Past this process's reader: events another process already read, or a position
            # this topic never had.
            head = await self._retry(lambda: self.backend.head(name))
            if head.epoch != since.epoch:
                gap = Gap(name, None, "reset", start)
            elif since.seq > head.seq:
                gap = Gap(name, None, "ahead", start)
            else:
                sub.start(name, sub.members(name), since)
                sub.discard_until(name, since)  # read by this process's reader meanwhile
                self._topics[name].skipping[sub] = since
        if gap is not None:
            sub.prepend([gap])
            sub.recovered = False
            _telemetry.note_fanout("gaps", reason=gap.cause)
        elif sub.recovered is None:
            sub.recovered = True

    def _unregister(self, sub: Subscription[object]) -> None:
        removed = False
        for name in sub.topics:
            topic = self._topics.get(name)
            if topic is not None and sub in topic.subscribers:
                topic.subscribers.remove(sub)
                topic.skipping.pop(sub, None)
                if not topic.subscribers:
                    del self._topics[name]
                    removed = True
        if removed:
            self._restart_read()

    def _restart_read(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
        self._topics_changed.set()

    # -- history and presence --------------------------------------------------------------

    @overload
    async def history(self, topic: str, limit: int) -> list[Message[Data]]: ...

    @overload
    async def history(self, topic: str, limit: int, *, codec: Codec[T, str] | Codec[T, bytes]) -> list[Message[T]]: ...

    async def history(
        self, topic: str, limit: int, *, codec: Codec[object, str] | Codec[object, bytes] | None = None
    ) -> Sequence[Message[object]]:
        """The topic's last ``limit`` messages still held (at most the backend's retention), oldest first."""
        self._check_running()
        epoch = (await self._retry(lambda: self.backend.head(topic))).epoch
        entries = await self._retry(lambda: self.backend.history(topic, limit, until=None))
        decode: Callable[[Data], object] = (lambda data: data) if codec is None else codec.decode
        return [Message(topic, decode(entry.payload), trusted(entry.seq, epoch), entry.payload) for entry in entries]

    async def join(self, topic: str, member: str, *, session: str | None = None) -> bool:
        """Add ``member`` to the topic's presence, owned by this process; False if it is taken
        (by this process or another).

        Every subscriber of the topic sees a Joined event. The member stays until ``leave()``,
        until this Broker exits, or until this process stops answering (then ``Left(lost=True)``).

        ``session`` (a secret that only the member's client knows) lets that client take its
        name back after a reconnect: a member joined with a session and still present (in
        another process, even one that died and was not reaped yet, or here during a
        ``leave(grace=...)``) passes to this process when joined again with the same session,
        and nobody sees it leave or join. Only a digest of the session is stored.
        """
        self._check_running()
        digest = None if session is None else hashlib.sha256(session.encode()).hexdigest()
        leaving = self._leaving.get((topic, member))
        if leaving is not None:  # its grace ran out just now: join once it has left
            await leaving.wait()
        # Before the member is held here: a rejoin after a lapse must not take it for one of ours.
        await self._stay_alive()
        own = self._own.setdefault(topic, {})
        if member in own:
            lingering = self._lingering.get((topic, member))
            if lingering is None or digest is None or own[member] != digest:
                return False
            # Back within its grace period, to this process: it never left.
            lingering.cancel()
            del self._lingering[topic, member]
        else:
            own[member] = digest  # held from now on, so that a concurrent join of the same name here fails
        joined = False
        try:
            joined = await self._retry(lambda: self.backend.join(topic, member, owner=self.owner, session=digest))
        finally:
            if not joined:
                self._disown(topic, member)
        return joined

    def _disown(self, topic: str, member: str) -> None:
        own = self._own.get(topic)
        if own is not None:
            own.pop(member, None)
            if not own:
                del self._own[topic]

    async def leave(self, topic: str, member: str, *, grace: float = 0.0) -> bool:
        """Remove ``member`` from the topic's presence; False if this process did not have it.

        With ``grace`` (seconds), the member stays present that long first: if its client joins
        again with its session meanwhile (to any process), nobody sees it leave. A reconnecting
        client is usually back within a few seconds; the member then leaves only if it is not.
        """
        group = self._check_running()
        if grace < 0:
            raise InvalidArgument(f"grace must be 0 or more, got {grace}")
        if member not in self._own.get(topic, ()) or (topic, member) in self._lingering:
            return False
        if grace > 0:
            self._lingering[topic, member] = scope = anyio.CancelScope()
            group.start_soon(self._linger, topic, member, grace, scope)
            return True
        self._disown(topic, member)
        return await self._retry(lambda: self.backend.leave(topic, member, owner=self.owner))

    async def _linger(self, topic: str, member: str, grace: float, scope: anyio.CancelScope) -> None:
        with scope:
            await anyio.sleep(grace)
            del self._lingering[topic, member]
            self._disown(topic, member)
            self._leaving[topic, member] = left = anyio.Event()
            try:
                delay = _BACKOFF_FIRST
                while True:  # until Redis answers or this Broker exits: a live owner is never reaped
                    try:
                        await self._retry(lambda: self.backend.leave(topic, member, owner=self.owner))
                        return
                    except BrokerUnavailable:
                        await anyio.sleep(delay)
                        delay = min(delay * 2, _BACKOFF_MAX)
            finally:
                del self._leaving[topic, member]
                left.set()

    async def members(self, topic: str) -> frozenset[str]:
        """Who is present in ``topic`` now, across every process."""
        self._check_running()
        return (await self._retry(lambda: self.backend.head(topic))).members

    async def _stay_alive(self) -> None:
        if anyio.current_time() + self.presence_ttl / 2 > self._alive_until:
            await self._retry(self._keep_alive)

    async def _keep_alive(self) -> None:
        """Say this process is alive; if it may have been taken for dead meanwhile (its heartbeat
        lapsed, or the backend lost its data), join its members again: others may have reaped them."""
        started = anyio.current_time()
        await self.backend.heartbeat(self.owner, ttl=self.presence_ttl)
        if started >= self._alive_until:
            for topic, members in list(self._own.items()):
                for member, digest in list(members.items()):
                    # Never taken back from a process its client reconnected to meanwhile.
                    if not await self.backend.join(topic, member, owner=self.owner, session=digest, take=False):
                        self._disown(topic, member)  # another process took the name meanwhile
        self._alive_until = started + self.presence_ttl

    async def _beat_forever(self) -> None:
        period = self.presence_ttl / 3
        while True:
            with anyio.move_on_after(period):
                try:
                    await self._keep_alive()
                    await self.backend.reap({*self._topics, *self._own})
                    self._answered = True
                except BrokerUnavailable:
                    self._answered = False  # the next beat tries again
            await anyio.sleep(period)

    # -- the reader ------------------------------------------------------------------------

    async def _read_forever(self) -> None:
        delay = _BACKOFF_FIRST
        cut_off = False
        while True:
            if not self._topics:
                self._topics_changed = anyio.Event()
                await self._topics_changed.wait()
                continue
            with anyio.CancelScope() as self._reading:
                try:
                    if cut_off:
                        await self._resync()
                    cursors = {name: trusted(topic.cursor, topic.epoch) for name, topic in self._topics.items()}
                    entries = await self.backend.read(cursors, timeout=_READ_WAIT)
                except BrokerUnavailable as error:
                    if not cut_off:
                        _log.warning(
                            "the broker is unreachable: reading %s stopped until it answers (%s)",
                            ", ".join(sorted(self._topics)),
                            error,
                        )
                    cut_off = self._cut_off = True
                    await anyio.sleep(delay)
                    delay = min(delay * 2, _BACKOFF_MAX)
                    continue
                if cut_off:
                    _log.warning("the broker answers again: reading %s resumed", ", ".join(sorted(self._topics)))
                    _telemetry.note_fanout("broker.reconnects")
                cut_off = self._cut_off = False
                delay = _BACKOFF_FIRST
                for entry in entries:
                    if self._dispatch(entry) and len(entries) > 1:
                        # A backlog is half full: let the subscribers drain theirs before the next
                        # entry, so that a batch longer than a backlog overflows only subscribers
                        # that do not keep up.
                        await anyio.lowlevel.checkpoint()
            self._reading = None

    async def _resync(self) -> None:
        """After an outage: notice a backend that lost its data (a new epoch) for each topic read."""
        for name, topic in list(self._topics.items()):
            head = await self.backend.head(name)
            if head.epoch != topic.epoch:  # the backend lost the topic's data: its numbering starts again
                if head.previous == topic.epoch and topic.cursor < head.start:
                    # A failover kept the old numbering up to head.start: what this reader had
                    # not read of it yet is still good, and comes before the reset.
                    old = await self.backend.replay(name, trusted(topic.cursor, topic.epoch), head.start)
                    for entry in old or ():
                        self._dispatch(entry)
                _log.warning("the broker lost the data of %s: its subscribers get a Gap (reset)", name)
                topic.cursor, topic.members, topic.epoch = head.start, head.members, head.epoch
                self._fan_gap(topic, Gap(name, None, "reset", trusted(head.start, head.epoch)))
                self._alive_until = 0.0  # the members this process had there are gone too

    def _dispatch(self, entry: Entry) -> bool:
        """Hand ``entry`` to its topic's subscribers; True if one of their backlogs is half full."""
        topic = self._topics.get(entry.topic)
        if topic is None or entry.seq <= topic.cursor:
            return False  # unsubscribed meanwhile, or read before a restart of this topic's reading
        crowded = False
        if entry.seq != topic.cursor + 1:
            gap = Gap(entry.topic, entry.seq - topic.cursor - 1, "retention", trusted(entry.seq - 1, topic.epoch))
            crowded = self._fan_gap(topic, gap)
        topic.cursor = entry.seq
        kind = entry.kind
        if kind is Kind.TEXT or kind is Kind.BINARY:
            payload = entry.payload
            event: Event[Data] = Message(entry.topic, payload, trusted(entry.seq, topic.epoch), payload)
        else:
            event = _event(entry, topic.epoch)
            member = str(entry.payload)
            if kind is Kind.JOIN:
                topic.members = topic.members | {member}
            else:
                topic.members = topic.members - {member}
                if kind is Kind.LOST and member in self._own.get(entry.topic, ()):
                    self._alive_until = 0.0  # taken for dead while still here: the next beat rejoins
        recorder = _telemetry.recorder
        if recorder is not None:  # the one check per entry while metrics are off
            _note_dispatch(recorder, entry, _offered(topic, event))
        return self._fan(topic, event) or crowded

    def _fan_gap(self, topic: _Topic, gap: Gap) -> bool:
        _telemetry.note_fanout("gaps", _offered(topic, gap), gap.cause)
        return self._fan(topic, gap)

    def _fan(self, topic: _Topic, event: Event[Data]) -> bool:
        item = (event, topic.members)
        crowded = False
        ended: list[Subscription[object]] = []
        for sub in topic.subscribers if not topic.skipping else _receiving(topic, event):
            waiting = sub.offer(item)
            if waiting < 0:
                ended.append(sub)
            elif waiting * 2 >= sub.max_backlog:
                crowded = True
        for sub in ended:
            self._unregister(sub)
        return crowded

    # -- what the metrics read (see _telemetry.Watched) -----------------------------------------

    @property
    def reachable(self) -> bool:
        """Whether the backend answered this Broker's reader and its last call (True once it stopped)."""
        return self._group is None or (not self._cut_off and self._answered)

    def backlogs(self) -> tuple[int, int]:
        """The deepest backlog of this process's subscriptions, and all of them together.

        Called when the metrics collect, maybe on another thread: it reads copies and never awaits.
        """
        subs: set[Subscription[object]] = set()
        for _ in range(10):
            try:  # copies: a dict that changes size while it is iterated raises, and another try finds it settled
                subs = {sub for topic in list(self._topics.values()) for sub in list(topic.subscribers)}
                break
            except RuntimeError:
                continue
        sizes = [sub.waiting for sub in subs]
        return max(sizes, default=0), sum(sizes)


def _offered(topic: _Topic, event: Event[Data]) -> int:
    """How many of the topic's subscriptions ``_fan`` offers ``event`` to."""
    if not topic.skipping:
        return len(topic.subscribers)
    had = sum(1 for since in topic.skipping.values() if since.covers(event.position))
    return len(topic.subscribers) - had


def _note_dispatch(recorder: _telemetry.Recorder, entry: Entry, offered: int) -> None:
    """Count an entry handed to ``offered`` subscriptions; for one in LAG_SAMPLE, how long after its publish."""
    _telemetry.FANOUT.delivered += offered
    if entry.seq % _telemetry.LAG_SAMPLE == 0 and isinstance(entry, Stamped):
        recorder.lag(max(0.0, time.time() - entry.time))


def _receiving(topic: _Topic, event: Event[Data]) -> list[Subscription[object]]:
    """The topic's subscriptions that do not have ``event`` already (they resumed past it)."""
    had = {sub for sub, since in topic.skipping.items() if since.covers(event.position)}
    for sub in [sub for sub in topic.skipping if sub not in had]:
        del topic.skipping[sub]  # caught up: from here on it takes every event
    return [sub for sub in topic.subscribers if sub not in had]


def _since(topics: Sequence[str], since: Since) -> Mapping[str, Position]:
    """``since`` as one position per topic it names; InvalidArgument for anything else."""
    if since is None:
        return {}
    if isinstance(since, Position):
        if len(set(topics)) != 1:
            raise InvalidArgument("a Position names a place in one topic: give since={topic: position, ...}")
        return {topics[0]: since}
    if not isinstance(since, Mapping):
        raise InvalidArgument(
            f"since must be a Position or a mapping of topics to positions, not {type(since).__name__}"
        )
    for topic, position in since.items():
        if topic not in topics:
            raise InvalidArgument(f"since names topic {topic!r}, which this subscription does not receive")
        if not isinstance(position, Position):
            raise InvalidArgument(f"since[{topic!r}] must be a Position, not {type(position).__name__}")
    return dict(since)


def _event(entry: Entry, epoch: str) -> Event[Data]:
    """The event an entry of the numbering ``epoch`` stands for."""
    position = trusted(entry.seq, epoch)
    kind = entry.kind
    if kind is Kind.TEXT or kind is Kind.BINARY:
        return Message(entry.topic, entry.payload, position, entry.payload)
    if kind is Kind.JOIN:
        return Joined(entry.topic, str(entry.payload), position)
    return Left(entry.topic, str(entry.payload), position, lost=kind is Kind.LOST)
