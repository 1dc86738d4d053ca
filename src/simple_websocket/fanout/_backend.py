"""The Backend protocol: what a broker (Redis, memory, or one of your own) must provide.

A backend stores, per topic, an append-only stream of entries numbered 1, 2, 3... in the order
they were appended, keeps the last ``retention`` of them, and a presence table (member -> owner).
The Broker on top does everything else: one reader per process, local fan-out to subscribers,
backlogs and their policies, gaps, reconnects with backoff, heartbeats.

To add a backend (PostgreSQL LISTEN/NOTIFY over a table, NATS JetStream, ...), implement these
methods with these guarantees:

- ``append`` is atomic and idempotent per ``key``: the same key appended twice (a retry after a
  lost reply) stores one entry and returns its position both times.
- ``read`` returns entries with ``seq`` above each topic's cursor, in order, and may return early
  with nothing; it never returns a ``seq`` twice for the same cursor. It must be cancellable. It
  raises ``BrokerUnavailable`` when a topic's epoch is no longer its cursor's (the data was lost
  while the reader was away, even if the connection came back unnoticed): the Broker then reads
  each topic's ``head`` again and reports the reset.
- ``head`` returns the topic's last ``seq``, its members and its epoch as one consistent snapshot;
  the epoch stays the same for as long as the topic's data does. An epoch is 1-64 characters of
  ``A-Z a-z 0-9 . _ ~ -`` (it travels in position tokens).
- ``replay`` returns the entries after a position up to a seq, as many as are still held, read
  together with the epoch: None when the topic's epoch is not the position's. It may stop early
  once the first entry of the range is known to be gone (the Broker then reports a Gap).
- ``join``/``leave`` change the presence table and append the matching entry in the same atomic
  step, so that every reader sees membership change at the same position of the stream. A member
  joined with a ``session`` is handed to another owner that joins it with the same session,
  with no entry appended (a reconnecting client taking its name back).
- ``heartbeat``/``reap``: an owner that stops calling ``heartbeat`` for ``ttl`` seconds is dead;
  ``reap`` removes a dead owner's members, appending a ``LOST`` entry for each (exactly once,
  whichever process reaps).
- Every method raises ``BrokerUnavailable`` when the broker cannot be reached; nothing blocks for
  longer than its timeout.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

from typing_extensions import Protocol, Self

from ._position import Position

__all__ = ["Backend", "Cursor", "Entry", "Head", "Kind"]


class Kind(IntEnum):
    """What an entry of a topic's stream holds."""

    TEXT = 1
    BINARY = 2
    JOIN = 3
    LEAVE = 4
    LOST = 5


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a topic's stream: a message (TEXT, BINARY) or a presence change (``payload`` is
    the member's name)."""

    topic: str
    seq: int
    kind: Kind
    payload: str | bytes


@dataclass(frozen=True, slots=True)
class Stamped(Entry):
    """An entry that knows when it was appended (seconds since the epoch, by the backend's clock):
    the metrics measure the fan-out's lag from it. A subclass rather than a field of Entry, which
    would cost every entry its construction while metrics are off."""

    time: float


@dataclass(frozen=True, slots=True)
class Head:
    """A topic's last ``seq`` (0 when nothing was ever appended) and its members, at that point.

    ``epoch`` names the topic's data: it changes only when the backend lost it (a Redis restarted
    without persistence, or a failover to a replica that lacked the last entries), which tells
    readers that the numbering started again: its entries are numbered after ``start`` (0 unless
    the backend kept older entries under the old numbering). ``previous``: that old numbering's
    epoch when ``replay()`` still gives its entries up to ``start`` (a failover kept them), else None.
    """

    seq: int
    members: frozenset[str]
    epoch: str
    start: int = 0
    previous: str | None = None


Cursor: TypeAlias = Position
"""Where a reader is in a topic: the earlier name of ``Position``."""


class Backend(Protocol):
    """Storage and transport for a Broker; see the module docstring for the guarantees."""

    async def __aenter__(self) -> Self:
        """Connect (lazily if the backend reconnects by itself)."""
        ...

    async def __aexit__(self, *exc_info: object) -> None:
        """Release every connection."""
        ...

    async def append(self, topic: str, kind: Kind, payload: str | bytes, *, key: str) -> Position:
        """Append one entry and return its position."""
        ...

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        """Entries after each topic's cursor, waiting up to ``timeout`` seconds for the first."""
        ...

    async def head(self, topic: str) -> Head:
        """The topic's last seq and members."""
        ...

    async def history(self, topic: str, limit: int, *, until: int | None = None) -> Sequence[Entry]:
        """The topic's last ``limit`` messages (TEXT, BINARY) still held, with ``seq`` up to
        ``until`` (the newest when None), oldest first."""
        ...

    async def replay(self, topic: str, after: Position, until: int) -> Sequence[Entry] | None:
        """The topic's entries (every kind) with ``after.seq < seq <= until`` that are still held,
        oldest first; None if the topic's epoch is not ``after.epoch``."""
        ...

    async def join(self, topic: str, member: str, *, owner: str, session: str | None = None, take: bool = True) -> bool:
        """Add ``member`` (owned by ``owner``, with ``session``); False if another owner has it,
        unless it was joined with the same ``session`` and ``take`` is true: then it passes to
        ``owner`` (no entry appended)."""
        ...

    async def leave(self, topic: str, member: str, *, owner: str) -> bool:
        """Remove ``member`` if ``owner`` has it; False otherwise."""
        ...

    async def heartbeat(self, owner: str, *, ttl: float) -> None:
        """Say that ``owner`` is alive for the next ``ttl`` seconds."""
        ...

    async def reap(self, topics: Collection[str]) -> None:
        """Remove members of these topics whose owner is dead."""
        ...
