"""The chat room: who is in it, and a broadcast that no slow member can hold up."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

Event = dict[str, object]

#: Events a member may have waiting before it counts as too slow and is dropped.
QUEUE_SIZE = 256


@dataclass(eq=False)
class Member:
    """One connected person: a nickname and the queue their writer task drains."""

    nick: str
    protocol: str
    outbox: MemoryObjectSendStream[Event]
    inbox: MemoryObjectReceiveStream[Event]
    dropped: anyio.Event = field(default_factory=anyio.Event)


@dataclass
class Room:
    """Everyone connected, and what has been relayed so far."""

    queue_size: int = QUEUE_SIZE
    members: dict[str, Member] = field(default_factory=dict)
    relayed: int = 0

    def join(self, wanted: str, protocol: str) -> Member:
        """Add a member under ``wanted`` or, if taken, the first free ``wanted-2``, ``wanted-3``..."""
        nick, suffix = wanted, 1
        while nick in self.members:
            suffix += 1
            nick = f"{wanted}-{suffix}"
        outbox, inbox = anyio.create_memory_object_stream[Event](self.queue_size)
        member = Member(nick, protocol, outbox, inbox)
        outbox.send_nowait({"type": "welcome", "nick": nick, "protocol": protocol})
        self.members[nick] = member
        self.broadcast({"type": "join", "nick": nick})
        return member

    def leave(self, member: Member, reason: str) -> None:
        """Remove ``member`` (once) and tell the others why it left."""
        if self.members.get(member.nick) is member:
            del self.members[member.nick]
            member.outbox.close()
            self.broadcast({"type": "leave", "nick": member.nick, "reason": reason})

    def tell(self, member: Member, event: Event) -> None:
        """Queue ``event`` for ``member`` alone (dropped if its queue is full or closed)."""
        try:
            member.outbox.send_nowait(event)
        except (anyio.WouldBlock, anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def say(self, member: Member, text: str) -> None:
        """Relay one message from ``member`` to everyone, itself included."""
        self.relayed += 1
        self.broadcast({"type": "message", "nick": member.nick, "text": text, "ts": time.time()})

    def stats(self) -> Event:
        """Connected users and messages relayed."""
        return {"users": len(self.members), "relayed": self.relayed}

    def broadcast(self, event: Event) -> None:
        """Queue ``event`` for every member without waiting; drop members whose queue is full."""
        event = {**event, "users": sorted(self.members), "stats": self.stats()}
        too_slow: list[Member] = []
        for member in list(self.members.values()):
            try:
                member.outbox.send_nowait(event)
            except anyio.WouldBlock:
                too_slow.append(member)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass  # leaving right now
        for member in too_slow:
            member.dropped.set()
            self.leave(member, "too slow")
