"""What a subscription yields: messages, gaps, and members joining or leaving a topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias

from typing_extensions import TypeVar

from ..typing import Data

__all__ = ["Event", "Gap", "GapCause", "Joined", "Left", "Message"]

T_co = TypeVar("T_co", covariant=True, default=Data)

GapCause: TypeAlias = Literal["overflow", "retention", "reset"]
"""Why messages are missing: ``overflow`` (this subscriber's backlog was full and the oldest were
dropped), ``retention`` (the broker no longer holds them: the process was cut off for longer than the
retention window), ``reset`` (the broker lost its data, e.g. a Redis restarted without persistence)."""


@dataclass(frozen=True, slots=True)
class Message(Generic[T_co]):
    """One published message. ``seq`` numbers a topic's messages in publish order (1, 2, 3...)."""

    topic: str
    data: T_co
    seq: int


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages of ``topic`` that this subscriber will never see, at this point of the stream.

    ``missed`` is how many (None when the broker cannot tell, after a ``reset``).
    """

    topic: str
    missed: int | None
    cause: GapCause


@dataclass(frozen=True, slots=True)
class Joined:
    """``member`` joined the topic's presence (``Broker.join``), at position ``seq`` of its stream."""

    topic: str
    member: str
    seq: int


@dataclass(frozen=True, slots=True)
class Left:
    """``member`` left the topic's presence; ``lost`` when its process stopped answering."""

    topic: str
    member: str
    seq: int
    lost: bool = False


Event: TypeAlias = Message[T_co] | Gap | Joined | Left
"""Anything a subscription yields, in stream order per topic."""
