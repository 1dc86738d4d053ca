"""MemoryBackend: topics held in this process; the default, with no dependency."""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Collection, Mapping, Sequence

import anyio
import anyio.lowlevel
from typing_extensions import Self

from .. import _telemetry
from ..exceptions import BrokerUnavailable, InvalidArgument
from ._backend import Entry, Head, Kind, Stamped
from ._position import Position, trusted

__all__ = ["MemoryBackend"]


#: Publishes in a row after which a publisher lets other tasks run, readers or not.
_BURST = 32


class _Stream:
    __slots__ = ("entries", "members", "read_to", "seq", "sessions")

    def __init__(self, retention: int) -> None:
        self.seq = 0
        self.read_to = 0  # the furthest any reader has read
        self.entries: deque[Entry] = deque(maxlen=retention)
        self.members: dict[str, str] = {}  # member -> owner
        self.sessions: dict[str, str] = {}  # member -> the session it was joined with


class MemoryBackend:
    """Topics in this process's memory: fan-out within one process (one server worker).

    Several Brokers may share one MemoryBackend; each topic keeps its last ``retention`` entries
    for history and for subscribers that fall behind.
    """

    def __init__(self, *, retention: int = 1000) -> None:
        if retention < 1:
            raise InvalidArgument(f"retention must be at least 1, got {retention}")
        self.retention = retention
        self._streams: dict[str, _Stream] = {}
        self._appended: anyio.Event | None = None  # made when a reader waits
        self._burst = 0
        self._epoch = uuid.uuid4().hex  # this object's data lives exactly as long as the object

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def _stream(self, topic: str) -> _Stream:
        stream = self._streams.get(topic)
        if stream is None:
            stream = self._streams[topic] = _Stream(self.retention)
        return stream

    def _append(self, topic: str, kind: Kind, payload: str | bytes) -> int:
        stream = self._stream(topic)
        stream.seq += 1
        if _telemetry.recorder is None:
            stream.entries.append(Entry(topic, stream.seq, kind, payload))
        else:
            stream.entries.append(Stamped(topic, stream.seq, kind, payload, time.time()))
        appended = self._appended
        if appended is not None:
            self._appended = None
            appended.set()
        return stream.seq

    async def append(self, topic: str, kind: Kind, payload: str | bytes, *, key: str) -> Position:
        seq = self._append(topic, kind, payload)
        # A publisher in a loop lets readers run before they fall half the retention behind (and
        # other tasks every _BURST publishes), but not after every publish: readers then take
        # entries in batches, and each subscriber wakes once per batch rather than per message.
        self._burst += 1
        if self._burst >= _BURST or seq - self._streams[topic].read_to >= max(1, self.retention // 2):
            self._burst = 0
            await anyio.lowlevel.checkpoint()
        else:
            await anyio.lowlevel.checkpoint_if_cancelled()
        return trusted(seq, self._epoch)

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        for topic, cursor in cursors.items():
            if cursor.epoch != self._epoch:
                raise BrokerUnavailable(f"topic {topic!r}: epoch {cursor.epoch!r} is not this backend's")
        with anyio.move_on_after(timeout):
            while True:
                found = [entry for topic, cursor in cursors.items() for entry in self._after(topic, cursor.seq)]
                if found:
                    return found
                if self._appended is None:
                    self._appended = anyio.Event()
                await self._appended.wait()
        return ()

    def _after(self, topic: str, cursor: int) -> Sequence[Entry]:
        stream = self._streams.get(topic)
        if stream is None or stream.seq <= cursor:
            return ()
        stream.read_to = max(stream.read_to, stream.seq)
        entries = stream.entries
        start = max(0, len(entries) - (stream.seq - cursor))
        return [entries[i] for i in range(start, len(entries))]

    async def head(self, topic: str) -> Head:
        stream = self._stream(topic)
        return Head(stream.seq, frozenset(stream.members), self._epoch)

    async def history(self, topic: str, limit: int, *, until: int | None = None) -> Sequence[Entry]:
        stream = self._streams.get(topic)
        if stream is None or limit <= 0:
            return ()
        last = stream.seq if until is None else until
        found: list[Entry] = []
        for entry in reversed(stream.entries):
            if entry.seq <= last and (entry.kind is Kind.TEXT or entry.kind is Kind.BINARY):
                found.append(entry)
                if len(found) == limit:
                    break
        found.reverse()
        return found

    async def replay(self, topic: str, after: Position, until: int) -> Sequence[Entry] | None:
        if after.epoch != self._epoch:
            return None
        stream = self._streams.get(topic)
        if stream is None:
            return ()
        return [entry for entry in stream.entries if after.seq < entry.seq <= until]

    async def join(self, topic: str, member: str, *, owner: str, session: str | None = None, take: bool = True) -> bool:
        stream = self._stream(topic)
        current = stream.members.get(member)
        if current is not None:
            if current != owner and not (take and session is not None and stream.sessions.get(member) == session):
                return False
            stream.members[member] = owner
            return True
        stream.members[member] = owner
        if session is not None:
            stream.sessions[member] = session
        self._append(topic, Kind.JOIN, member)
        return True

    async def leave(self, topic: str, member: str, *, owner: str) -> bool:
        stream = self._stream(topic)
        if stream.members.get(member) != owner:
            return False
        del stream.members[member]
        stream.sessions.pop(member, None)
        self._append(topic, Kind.LEAVE, member)
        return True

    async def heartbeat(self, owner: str, *, ttl: float) -> None:
        return None  # every owner lives in this process: it is alive while the process is

    async def reap(self, topics: Collection[str]) -> None:
        return None
