"""SendTurns: one message at a time on a connection, in the order the senders came."""

from __future__ import annotations

from collections import deque
from typing import Generic

import anyio
from typing_extensions import TypeVar

T = TypeVar("T", default=object)


class SendTurns(Generic[T]):
    """Who may send now. Whoever holds the turn must call ``release()`` when done, whatever happens.

    ``wait()`` takes the turn, queueing behind the holder if needed (callers may also set
    ``busy`` themselves when it is False); the queue is only built when a second sender waits.

    Parking, for a connection's per-message path: after ``park(token)`` (over ASGI the token is
    the server's send) a free turn nobody waits for is *parked*: ``parked`` holds the token and
    ``busy`` stays True. A sender takes a parked turn with one store, ``parked = None``, instead
    of a call, and gives it back with ``parked = token`` if ``repark`` is still set when it is
    done, or with ``release()`` if not: ``repark`` is cleared as soon as a sender queues behind
    it or parking stops. ``wait()`` and ``release()`` handle parked turns like any other, so the
    two ways of taking a turn mix freely. ``stop_parking()`` (the connection closed) frees a
    parked turn for good.
    """

    __slots__ = ("_token", "_waiters", "busy", "parked", "repark")

    def __init__(self) -> None:
        self.busy = False
        """True while some task holds the turn, or while it is parked."""
        self.parked: T | None = None
        """The token while the turn is parked (free for whoever takes it first), else None."""
        self.repark: T | None = None
        """The token while the holder of a turn taken from ``parked`` may park it again itself."""
        self._token: T | None = None
        self._waiters: deque[anyio.Event] | None = None

    def park(self, token: T) -> None:
        """Park the turn with ``token`` whenever it is free and nobody waits for it, from now on."""
        self._token = token
        if not self.busy:
            self.busy = True
            self.parked = self.repark = token

    def stop_parking(self) -> None:
        """Park no more; a parked turn becomes a plain free one."""
        self._token = self.repark = None
        if self.parked is not None:  # parked means nobody waits: nobody to hand the turn to
            self.parked = None
            self.busy = False

    async def wait(self) -> None:
        """Hold the turn once this returns; if cancelled, the turn is left to the next sender."""
        if self.parked is not None:
            self.parked = None  # busy already
            return
        if not self.busy:
            self.busy = True
            return
        self.repark = None  # the holder must hand the turn on with release()
        if self._waiters is None:
            self._waiters = deque()
        turn = anyio.Event()
        self._waiters.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():  # handed the turn, then cancelled before using it
                self.release()
            else:
                self._waiters.remove(turn)
            raise

    def release(self) -> None:
        """Give the turn to the next waiting sender, or park it, or free it."""
        waiters = self._waiters
        if waiters:
            waiters.popleft().set()  # still busy: the turn passes straight to that sender
        elif self._token is not None:
            self.parked = self.repark = self._token  # still busy: parked
        else:
            self.busy = False
