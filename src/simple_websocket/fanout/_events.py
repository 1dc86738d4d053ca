"""What a subscription yields: messages, gaps, and members joining or leaving a topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeAlias

from typing_extensions import TypeVar

from ..typing import Data
from ._position import Position

__all__ = ["Event", "Gap", "GapCause", "Joined", "Left", "Message"]

T_co = TypeVar("T_co", covariant=True, default=Data)

GapCause: TypeAlias = Literal["overflow", "retention", "reset", "ahead"]
"""Why messages are missing: ``overflow`` (this subscriber's backlog was full and the oldest were
dropped), ``retention`` (the broker no longer holds them: the process was cut off, or the
``since`` position is older than the retention window), ``reset`` (the broker lost its data, e.g. a
Redis restarted without persistence, or ``since`` names another epoch), ``ahead`` (``since`` is
past the topic's last entry: a position this topic never handed out)."""


@dataclass(frozen=True, slots=True)
class Message(Generic[T_co]):
    """One published message, at ``position`` in its topic (``seq`` 1, 2, 3... in publish order).

    ``frame`` is the message as it was published (str or bytes); ``data`` is the same, or, in a
    subscription with a codec, the object decoded from it. Relay a message with ``await
    ws.send(event.frame)``: no codec call, the same frame kind. A decoded ``data`` is made once per
    process and codec and shared by every subscription with that codec: do not mutate it (copy it
    first, or decode ``frame`` again).
    """

    topic: str
    data: T_co
    position: Position
    frame: Data
    # The decoded Message of the last codec asked for, shared by its subscriptions.
    _shared: tuple[object, Message[object]] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def seq(self) -> int:
        """The message's number in its topic: ``position.seq``."""
        return self.position.seq


@dataclass(frozen=True, slots=True)
class Gap:
    """Events of ``topic`` that this subscriber will never see, at this point of the stream.

    ``missed`` is how many (None when the broker cannot tell: ``reset``, ``ahead``).
    ``position`` is where the stream goes on: the next event of the topic comes right after it.
    """

    topic: str
    missed: int | None
    cause: GapCause
    position: Position


@dataclass(frozen=True, slots=True)
class Joined:
    """``member`` joined the topic's presence (``Broker.join``), at ``position`` of its stream."""

    topic: str
    member: str
    position: Position

    @property
    def seq(self) -> int:
        """``position.seq``."""
        return self.position.seq


@dataclass(frozen=True, slots=True)
class Left:
    """``member`` left the topic's presence; ``lost`` when its process stopped answering."""

    topic: str
    member: str
    position: Position
    lost: bool = False

    @property
    def seq(self) -> int:
        """``position.seq``."""
        return self.position.seq


Event: TypeAlias = Message[T_co] | Gap | Joined | Left
"""Anything a subscription yields, in stream order per topic."""
