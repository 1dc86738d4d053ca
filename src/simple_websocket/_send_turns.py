"""SendTurns: one message at a time on a connection, in the order the senders came."""

from __future__ import annotations

from collections import deque
from typing import Generic

import anyio
from typing_extensions import TypeVar

T = TypeVar("T", default=object)


class SendTurns(Generic[T]):
    """Who may send now: a base class of the connection, so its send() reads the state in place.

    Whoever holds the turn must call ``_turn_release()`` when done, whatever happens.
    ``_turn_wait()`` takes the turn, queueing behind the holder if needed; the queue is only
    built when a second sender waits.

    Parking, for a connection's per-message path: after ``_turn_park(token)`` (over ASGI the
    token is the server's send) a free turn nobody waits for is *parked*: ``_tx`` holds the
    token and ``_turn_busy`` stays True. A sender takes a parked turn with one store,
    ``_tx = None``, instead of a call, and gives it back with ``_tx = token`` if ``_retx`` is
    still set when it is done, or with ``_turn_release()`` if not: ``_retx`` is cleared as soon
    as a sender queues behind it or parking stops. ``_turn_wait()`` and ``_turn_release()``
    handle parked turns like any other, so the two ways of taking a turn mix freely.
    ``_turn_stop_parking()`` (the connection closed) frees a parked turn for good.
    """

    __slots__ = ("_retx", "_turn_busy", "_turn_waiters", "_tx", "_tx_token")

    def __init__(self) -> None:
        self._turn_busy = False
        """True while some task holds the turn, or while it is parked."""
        self._tx: T | None = None
        """The token while the turn is parked (free for whoever takes it first), else None."""
        self._retx: T | None = None
        """The token while the holder of a turn taken from ``_tx`` may park it again itself."""
        self._tx_token: T | None = None
        self._turn_waiters: deque[anyio.Event] | None = None

    def _turn_park(self, token: T) -> None:
        """Park the turn with ``token`` whenever it is free and nobody waits for it, from now on."""
        self._tx_token = token
        if not self._turn_busy:
            self._turn_busy = True
            self._tx = self._retx = token

    def _turn_stop_parking(self) -> None:
        """Park no more; a parked turn becomes a plain free one."""
        self._tx_token = self._retx = None
        if self._tx is not None:  # parked means nobody waits: nobody to hand the turn to
            self._tx = None
            self._turn_busy = False

    async def _turn_wait(self) -> None:
        """Hold the turn once this returns; if cancelled, the turn is left to the next sender."""
        if self._tx is not None:
            self._tx = None  # busy already
            return
        if not self._turn_busy:
            self._turn_busy = True
            return
        self._retx = None  # the holder must hand the turn on with _turn_release()
        if self._turn_waiters is None:
            self._turn_waiters = deque()
        turn = anyio.Event()
        self._turn_waiters.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():  # handed the turn, then cancelled before using it
                self._turn_release()
            else:
                self._turn_waiters.remove(turn)
            raise

    def _turn_release(self) -> None:
        """Give the turn to the next waiting sender, or park it, or free it."""
        waiters = self._turn_waiters
        if waiters:
            waiters.popleft().set()  # still busy: the turn passes straight to that sender
        elif self._tx_token is not None:
            self._tx = self._retx = self._tx_token  # still busy: parked
        else:
            self._turn_busy = False
