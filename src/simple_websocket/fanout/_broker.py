"""Broker: publish to topics, subscribe to them, and who is present, over a pluggable Backend."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, overload

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup
from typing_extensions import Self

from ..codecs import Codec
from ..exceptions import BrokerUnavailable, InvalidArgument, InvalidData, InvalidState
from ..typing import Data
from ._backend import Backend, Cursor, Entry, Kind
from ._events import Event, Gap, Joined, Left, Message
from ._memory import MemoryBackend
from ._subscription import Overflow, Subscription

__all__ = ["Broker"]

T = TypeVar("T")
R = TypeVar("R")

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
        self._own: dict[str, set[str]] = {}
        self._group: TaskGroup | None = None
        self._reading: anyio.CancelScope | None = None
        self._topics_changed = anyio.Event()
        self._alive_until = 0.0

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
        except BrokerUnavailable:
            pass  # the others will reap them once this process's heartbeat expires
        finally:
            self._own.clear()
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)
            for read in self._topics.values():
                for sub in read.subscribers:
                    sub.end()
            self._topics.clear()
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
                    return await call()
            except (BrokerUnavailable, TimeoutError) as error:
                if anyio.current_time() + delay >= deadline:
                    raise BrokerUnavailable(
                        f"the broker did not answer within {self.publish_timeout} s: {error}"
                    ) from error
            await anyio.sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)

    # -- publish ---------------------------------------------------------------------------

    async def publish(self, topic: str, data: Data | bytearray | memoryview) -> int:
        """Publish one message (str as text, bytes-like as binary) and return its seq.

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
        return await self._retry(lambda: self.backend.append(topic, kind, payload, key=key))

    # -- subscribe -------------------------------------------------------------------------

    @overload
    def subscribe(
        self, *topics: str, max_backlog: int = ..., overflow: Overflow = ..., history: int = ...
    ) -> Subscription[Data]: ...

    @overload
    def subscribe(
        self,
        *topics: str,
        max_backlog: int = ...,
        overflow: Overflow = ...,
        history: int = ...,
        codec: Codec[T, str] | Codec[T, bytes],
    ) -> Subscription[T]: ...

    def subscribe(
        self,
        *topics: str,
        max_backlog: int = 256,
        overflow: Overflow = "end",
        history: int = 0,
        codec: Codec[object, str] | Codec[object, bytes] | None = None,
    ) -> Subscription[object]:
        """Events of ``topics`` from now on; use with ``async with``.

        At most ``max_backlog`` events wait for the subscriber; past that, ``overflow`` says what
        happens (``"end"``: the next read raises SlowSubscriber; ``"drop_oldest"``: a Gap reports
        how many were dropped). ``history``: first the last ``history`` messages of each topic
        published before the subscription started (as many as the backend still holds), then
        the live events, with none missing or repeated in between. With ``codec``, messages'
        data arrive decoded (DecodeError for a message that cannot be, and the subscription goes on).
        """
        if not topics:
            raise InvalidArgument("subscribe() needs at least one topic")
        if max_backlog < 1:
            raise InvalidArgument(f"max_backlog must be at least 1, got {max_backlog}")
        if overflow not in ("end", "drop_oldest"):
            raise InvalidArgument(f"overflow must be 'end' or 'drop_oldest', got {overflow!r}")
        if history < 0:
            raise InvalidArgument(f"history must be 0 or more, got {history}")
        return Subscription(
            topics,
            max_backlog=max_backlog,
            overflow=overflow,
            decode=None if codec is None else codec.decode,
            register=lambda sub: self._register(sub, history),
            unregister=self._unregister,
        )

    async def _register(self, sub: Subscription[object], history: int) -> None:
        self._check_running()
        added = False
        starts: dict[str, int] = {}
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
                sub.start(name, topic.members)
                starts[name] = topic.cursor
            if added:
                self._restart_read()
            for name, start in starts.items() if history else ():
                entries = await self._retry(
                    lambda name=name, start=start: self.backend.history(name, history, until=start)  # type: ignore[misc]  # lambda defaults bind the loop variables
                )
                sub.prepend([Message(name, entry.payload, entry.seq) for entry in entries])
        except BaseException:
            self._unregister(sub)
            raise

    def _unregister(self, sub: Subscription[object]) -> None:
        removed = False
        for name in sub.topics:
            topic = self._topics.get(name)
            if topic is not None and sub in topic.subscribers:
                topic.subscribers.remove(sub)
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
        entries = await self._retry(lambda: self.backend.history(topic, limit, until=None))
        decode: Callable[[Data], object] = (lambda data: data) if codec is None else codec.decode
        return [Message(topic, decode(entry.payload), entry.seq) for entry in entries]

    async def join(self, topic: str, member: str) -> bool:
        """Add ``member`` to the topic's presence, owned by this process; False if it is taken
        (by this process or another).

        Every subscriber of the topic sees a Joined event. The member stays until ``leave()``,
        until this Broker exits, or until this process stops answering (then ``Left(lost=True)``).
        """
        self._check_running()
        own = self._own.setdefault(topic, set())
        if member in own:
            return False
        own.add(member)  # held from now on, so that a concurrent join of the same name here fails
        joined = False
        try:
            await self._stay_alive()
            joined = await self._retry(lambda: self.backend.join(topic, member, owner=self.owner))
        finally:
            if not joined:
                self._disown(topic, member)
        return joined

    def _disown(self, topic: str, member: str) -> None:
        own = self._own.get(topic)
        if own is not None:
            own.discard(member)
            if not own:
                del self._own[topic]

    async def leave(self, topic: str, member: str) -> bool:
        """Remove ``member`` from the topic's presence; False if this process did not have it."""
        self._check_running()
        if member not in self._own.get(topic, ()):
            return False
        self._disown(topic, member)
        return await self._retry(lambda: self.backend.leave(topic, member, owner=self.owner))

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
                for member in list(members):
                    if not await self.backend.join(topic, member, owner=self.owner):
                        self._disown(topic, member)  # another process took the name meanwhile
        self._alive_until = started + self.presence_ttl

    async def _beat_forever(self) -> None:
        period = self.presence_ttl / 3
        while True:
            with anyio.move_on_after(period):
                try:
                    await self._keep_alive()
                    await self.backend.reap({*self._topics, *self._own})
                except BrokerUnavailable:
                    pass  # the next beat tries again
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
                    cursors = {name: Cursor(topic.cursor, topic.epoch) for name, topic in self._topics.items()}
                    entries = await self.backend.read(cursors, timeout=_READ_WAIT)
                except BrokerUnavailable:
                    cut_off = True
                    await anyio.sleep(delay)
                    delay = min(delay * 2, _BACKOFF_MAX)
                    continue
                cut_off, delay = False, _BACKOFF_FIRST
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
                topic.cursor, topic.members, topic.epoch = 0, frozenset(), head.epoch
                self._fan(topic, Gap(name, None, "reset"))
                self._alive_until = 0.0  # the members this process had there are gone too

    def _dispatch(self, entry: Entry) -> bool:
        """Hand ``entry`` to its topic's subscribers; True if one of their backlogs is half full."""
        topic = self._topics.get(entry.topic)
        if topic is None or entry.seq <= topic.cursor:
            return False  # unsubscribed meanwhile, or read before a restart of this topic's reading
        crowded = False
        if entry.seq != topic.cursor + 1:
            crowded = self._fan(topic, Gap(entry.topic, entry.seq - topic.cursor - 1, "retention"))
        topic.cursor = entry.seq
        event: Event[Data]
        kind = entry.kind
        if kind is Kind.TEXT or kind is Kind.BINARY:
            event = Message(entry.topic, entry.payload, entry.seq)
        else:
            member = str(entry.payload)
            if kind is Kind.JOIN:
                topic.members = topic.members | {member}
                event = Joined(entry.topic, member, entry.seq)
            else:
                topic.members = topic.members - {member}
                event = Left(entry.topic, member, entry.seq, lost=kind is Kind.LOST)
                if kind is Kind.LOST and member in self._own.get(entry.topic, ()):
                    self._alive_until = 0.0  # taken for dead while still here: the next beat rejoins
        return self._fan(topic, event) or crowded

    def _fan(self, topic: _Topic, event: Event[Data]) -> bool:
        item = (event, topic.members)
        crowded = False
        ended: list[Subscription[object]] = []
        for sub in topic.subscribers:
            waiting = sub.offer(item)
            if waiting < 0:
                ended.append(sub)
            elif waiting * 2 >= sub.max_backlog:
                crowded = True
        for sub in ended:
            self._unregister(sub)
        return crowded
