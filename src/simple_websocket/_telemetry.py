"""What the metrics count, as plain numbers, and who records the rest: no OpenTelemetry import here.

A metered connection counts its messages on itself (see _metered.py) and moves its counts into
``TALLY`` when it ends; the Broker adds to ``FANOUT``. Observable instruments read them when a
reader collects (``totals()``). ``metrics.enable()`` installs a ``Recorder`` for what happens
once per connection and for the fan-out's rare events. While ``recorder`` is None (the default)
nothing is counted: connections are built as plain WebSocketASGI and every hook returns at once.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from ._websocket import WebSocketASGI

__all__ = [
    "FANOUT",
    "LAG_SAMPLE",
    "TALLY",
    "FanoutTally",
    "Metering",
    "Recorder",
    "Tally",
    "Watched",
    "backlogs",
    "metered",
    "note_fanout",
    "reachability",
    "recorder",
    "reset",
    "unwatch",
    "watch",
]

W = TypeVar("W", bound="WebSocketASGI")
T = TypeVar("T")


class Tally:
    """Counts of messages and their sizes, by direction and frame kind."""

    __slots__ = (
        "binary_in",
        "binary_in_bytes",
        "binary_out",
        "binary_out_bytes",
        "text_in",
        "text_in_bytes",
        "text_out",
        "text_out_bytes",
    )

    def __init__(self) -> None:
        self.text_in = self.binary_in = self.text_out = self.binary_out = 0.0
        self.text_in_bytes = self.binary_in_bytes = self.text_out_bytes = self.binary_out_bytes = 0


TALLY = Tally()
"""The counts of connections that ended; ``totals()`` adds those of the open ones."""


class FanoutTally:
    """The fan-out's running counts in this process, read by observable counters."""

    __slots__ = ("delivered", "published")

    def __init__(self) -> None:
        self.published = 0.0
        self.delivered = 0.0


FANOUT = FanoutTally()
"""Messages published (``publish()`` calls that succeeded) and events offered to subscriptions."""

#: One entry in this many (by seq, per topic) has its lag recorded.
LAG_SAMPLE = 16

_counted: weakref.WeakSet[WebSocketASGI] = weakref.WeakSet()


def count(ws: WebSocketASGI) -> None:
    """Read ``ws``'s counts (see _metered.py) at every collection until ``uncount(ws)``."""
    _counted.add(ws)


def uncount(ws: WebSocketASGI) -> None:
    """``ws`` ended: move its counts into TALLY."""
    if ws in _counted:
        _counted.discard(ws)
        _add(TALLY, ws)


def reset() -> None:
    """Count from zero: forget every count so far (metrics.enable() calls this)."""
    _counted.clear()
    TALLY.__init__()  # type: ignore[misc]  # the same object, read elsewhere, set back to zero
    FANOUT.__init__()  # type: ignore[misc]  # likewise


def _add(tally: Tally, ws: WebSocketASGI) -> None:
    tally.text_in += ws._n_text_in
    tally.binary_in += ws._n_binary_in
    tally.text_out += ws._n_text_out
    tally.binary_out += ws._n_binary_out
    tally.text_in_bytes += ws._b_text_in
    tally.binary_in_bytes += ws._b_binary_in
    tally.text_out_bytes += ws._b_text_out
    tally.binary_out_bytes += ws._b_binary_out


def totals() -> Tally:
    """Every count so far: of the connections that ended and of the open ones."""
    result = Tally()
    for ws in _alive(_counted):
        _add(result, ws)
    _add_tally(result, TALLY)
    return result


def _add_tally(tally: Tally, other: Tally) -> None:
    for name in Tally.__slots__:
        setattr(tally, name, getattr(tally, name) + getattr(other, name))


def _alive(items: weakref.WeakSet[T]) -> list[T]:
    # Collection may run on a reader's thread while the event loop adds and removes items: copying
    # a set that changes size raises, and another try finds it settled.
    for _ in range(10):
        try:
            return list(items)
        except RuntimeError:
            continue
    return []


class Recorder(Protocol):
    """What the connection and the fan-out report when metrics are on (see ``metrics.enable()``)."""

    def handshake(self, outcome: str) -> None:
        """A handshake ended: accepted, refused, origin_refused, timeout or client_left."""

    def opened(self) -> None:
        """A connection was accepted."""

    def closed(self, code: int, by_peer: bool, duration: float) -> None:
        """An accepted connection ended after ``duration`` seconds."""

    def send_waited(self, seconds: float) -> None:
        """A send() that queued behind another (or went through another Transport) took this long."""

    def fanout(self, name: str, amount: int = 1, reason: str = "") -> None:
        """A rare fan-out event: slow_subscribers, gaps (``reason``: the cause), broker.reconnects or
        resumes (``reason``: recovered or not_recovered). Published and delivered go to FANOUT."""

    def lag(self, seconds: float) -> None:
        """A fan-out entry reached its subscriptions this long after it was published."""


recorder: Recorder | None = None
"""Set by ``metrics.enable()``; None while metrics are off."""


class Metering(Protocol):
    def __call__(self, cls: type[W], /) -> type[W]: ...


metered: Metering | None = None
"""Set by ``metrics.enable()``: gives the metered subclass of a WebSocketASGI class."""


class Watched(Protocol):
    """What a Broker tells the metrics when they collect."""

    @property
    def reachable(self) -> bool:
        """Whether the backend answered the last time it was asked."""

    def backlogs(self) -> tuple[int, int]:
        """The deepest backlog of its subscriptions, and all their backlogs together."""


_watched: weakref.WeakSet[Watched] = weakref.WeakSet()


def watch(broker: Watched) -> None:
    """Let the metrics read ``broker`` until ``unwatch(broker)`` (a Broker calls both: start, stop)."""
    _watched.add(broker)


def unwatch(broker: Watched) -> None:
    """``broker`` stopped: the metrics no longer read it."""
    _watched.discard(broker)


def _brokers() -> list[Watched]:
    return _alive(_watched)


def backlogs() -> tuple[int, int]:
    """The deepest backlog of any subscription of any live Broker, and all of them together."""
    deepest = total = 0
    for broker in _brokers():
        most, together = broker.backlogs()
        deepest, total = max(deepest, most), total + together
    return deepest, total


def reachability() -> list[bool]:
    """Whether each live Broker reached its backend the last time it tried."""
    return [broker.reachable for broker in _brokers()]


def note_fanout(name: str, amount: int = 1, reason: str = "") -> None:
    """Report a fan-out event if metrics are on (the fan-out calls this off its per-delivery path)."""
    if recorder is not None:
        recorder.fanout(name, amount, reason)
