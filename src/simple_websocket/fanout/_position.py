"""Position: a place in a topic's stream, and its text form for clients."""

from __future__ import annotations

import re
from dataclasses import dataclass

from typing_extensions import Self

from ..exceptions import InvalidArgument

__all__ = ["Position"]

#: The longest token ``Position.parse`` reads: far above any real one (about 40 characters).
MAX_TOKEN = 100
#: The largest seq a position may have: Redis stream ids are 64-bit, and no topic gets near it.
MAX_SEQ = 2**63 - 1

# An epoch is 1-64 characters that are safe unescaped in a URL, a header and JSON.
_EPOCH = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_TOKEN = re.compile(r"(0|[1-9][0-9]{0,18})\.([A-Za-z0-9._~-]{1,64})")


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a topic: entry ``seq`` (0 before the first) of the numbering named ``epoch``.

    A topic's entries are numbered 1, 2, 3... in publish order; the epoch changes only when the
    backend lost the topic's data and the numbering started again, so a position names one entry
    for good. Positions of different epochs are not comparable. Give one to
    ``Broker.subscribe(since=...)`` to resume right after it; hand ``token`` to clients and read
    theirs back with ``Position.parse()``.
    """

    seq: int
    epoch: str

    def __post_init__(self) -> None:
        if type(self.seq) is not int or not 0 <= self.seq <= MAX_SEQ:
            raise InvalidArgument(f"a position's seq must be an int from 0 to 2**63-1, got {self.seq!r:.40}")
        if not isinstance(self.epoch, str) or _EPOCH.fullmatch(self.epoch) is None:  # type: ignore[redundant-expr]  # callers may pass anything at run time
            raise InvalidArgument(f"a position's epoch must be 1-64 of A-Z a-z 0-9 . _ ~ -, got {self.epoch!r:.80}")

    @property
    def token(self) -> str:
        """This position as short text, safe unescaped in a URL and in JSON: ``"<seq>.<epoch>"``."""
        return f"{self.seq}.{self.epoch}"

    @classmethod
    def parse(cls, token: object) -> Self:
        """The position a ``token`` names; InvalidArgument for anything that is not one.

        Tokens come from clients: anything malformed, too long or of the wrong type is refused
        here, before it reaches a backend. A well-formed token may still name a place that a
        topic never had (forged, or from another deployment): ``subscribe(since=...)`` reports it
        as a Gap.
        """
        if not isinstance(token, str):
            raise InvalidArgument(f"a position token is a str, not {type(token).__name__}")
        if len(token) > MAX_TOKEN:
            raise InvalidArgument(f"a position token has at most {MAX_TOKEN} characters, got {len(token)}")
        found = _TOKEN.fullmatch(token)
        if found is None:
            raise InvalidArgument(f"not a position token: {token!r}")
        return cls(int(found[1]), found[2])

    def covers(self, other: Position) -> bool:
        """Whether ``other`` is this position or one before it, in the same numbering."""
        return other.epoch == self.epoch and other.seq <= self.seq

    def __str__(self) -> str:
        return self.token


_new = object.__new__
_set_seq = Position.__dict__["seq"].__set__  # the slots' own setters: no frozen check, no lookup
_set_epoch = Position.__dict__["epoch"].__set__


def trusted(seq: int, epoch: str) -> Position:
    """A Position from values a backend produced (already valid), without checking them again."""
    position = _new(Position)
    _set_seq(position, seq)
    _set_epoch(position, epoch)
    return position
