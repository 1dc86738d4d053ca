"""SendTurns: one message at a time on a connection, in the order the senders came."""

from __future__ import annotations

from collections import deque

import anyio


class SendTurns:
    """Who may send now. Whoever holds the turn must call ``release()`` when done, whatever happens.

    Taking a free turn is one flag (callers may set ``busy`` themselves when it is False);
    ``wait()`` queues behind the holder. The queue is only built when a second sender waits.
    """

    __slots__ = ("_waiters", "busy")

    def __init__(self) -> None:
        self.busy = False
        """True while some task holds the turn."""
        self._waiters: deque[anyio.Event] | None = None

    async def wait(self) -> None:
        """Hold the turn once this returns; if cancelled, the turn is left to the next sender."""
        if not self.busy:
            self.busy = True
            return
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
        """Give the turn to the next waiting sender, or free it."""
        waiters = self._waiters
        if waiters:
            waiters.popleft().set()  # still busy: the turn passes straight to that sender
        else:
            self.busy = False
