"""The chat room on its own: membership, broadcast order, and dropping members that fall behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anyio
import pytest

from examples.chat.room import QUEUE_SIZE, Event, Member, Room

pytestmark = pytest.mark.anyio


class TrackedRoom(Room):
    """A Room that remembers every member it made, so the test can release their queues."""

    made: list[Member]

    def join(self, wanted: str, protocol: str) -> Member:
        member = super().join(wanted, protocol)
        self.made.append(member)
        return member


@pytest.fixture
def new_room() -> Iterator[Callable[..., Room]]:
    """Make rooms (``new_room(queue_size=4)``); every member's queue is closed afterwards."""
    made: list[Member] = []

    def make(queue_size: int = QUEUE_SIZE) -> Room:
        room = TrackedRoom(queue_size=queue_size)
        room.made = made
        return room

    yield make
    for member in made:
        member.outbox.close()
        member.inbox.close()


def queued(member: Member) -> list[Event]:
    """Everything waiting in ``member``'s queue, oldest first."""
    events: list[Event] = []
    while True:
        try:
            events.append(member.inbox.receive_nowait())
        except (anyio.WouldBlock, anyio.EndOfStream):
            return events


async def test_a_member_is_welcomed_and_everyone_hears_the_join(new_room: Callable[..., Room]) -> None:
    room = new_room()
    ann = room.join("ann", "chat.v2")
    assert queued(ann) == [
        {"type": "welcome", "nick": "ann", "protocol": "chat.v2"},
        {"type": "join", "nick": "ann", "users": ["ann"], "stats": {"users": 1, "relayed": 0}},
    ]
    bob = room.join("bob", "chat.v1")
    assert queued(ann) == [
        {"type": "join", "nick": "bob", "users": ["ann", "bob"], "stats": {"users": 2, "relayed": 0}}
    ]
    assert [event["type"] for event in queued(bob)] == ["welcome", "join"]


async def test_a_taken_nickname_gets_the_first_free_suffix(new_room: Callable[..., Room]) -> None:
    room = new_room()
    names = [room.join("ann", "chat.v2").nick for _ in range(3)]
    assert names == ["ann", "ann-2", "ann-3"]
    assert sorted(room.members) == ["ann", "ann-2", "ann-3"]


async def test_messages_reach_everyone_in_the_order_they_were_said(new_room: Callable[..., Room]) -> None:
    room = new_room()
    ann, bob = room.join("ann", "chat.v2"), room.join("bob", "chat.v2")
    queued(ann), queued(bob)
    for number in range(5):
        room.say(ann if number % 2 else bob, f"message {number}")
    for member in (ann, bob):
        events = queued(member)
        assert [(event["nick"], event["text"]) for event in events] == [
            ("bob", "message 0"), ("ann", "message 1"), ("bob", "message 2"), ("ann", "message 3"), ("bob", "message 4")
        ]
        assert [event["stats"] for event in events][-1] == {"users": 2, "relayed": 5}
        assert all(isinstance(event["ts"], float) for event in events)


async def test_leaving_is_announced_once_and_closes_the_queue(new_room: Callable[..., Room]) -> None:
    room = new_room()
    ann, bob = room.join("ann", "chat.v2"), room.join("bob", "chat.v2")
    queued(ann)
    room.leave(bob, "left")
    room.leave(bob, "left")
    assert queued(ann) == [{"type": "leave", "nick": "bob", "reason": "left", "users": ["ann"],
                            "stats": {"users": 1, "relayed": 0}}]
    assert [event["type"] for event in queued(bob)] == ["welcome", "join"]
    with pytest.raises(anyio.EndOfStream):
        bob.inbox.receive_nowait()


async def test_a_full_queue_drops_its_member_and_the_rest_keep_receiving(new_room: Callable[..., Room]) -> None:
    room = new_room(queue_size=4)
    sleeper = room.join("sleeper", "chat.v2")  # never drained: welcome and its own join already queued
    talker = room.join("talker", "chat.v2")
    for number in range(4):
        room.say(talker, str(number))
        queued(talker)
    assert sleeper.dropped.is_set()
    assert "sleeper" not in room.members
    room.say(talker, "after")
    events = queued(talker)
    assert events[-1]["text"] == "after" and events[-1]["users"] == ["talker"]
    assert len(queued(sleeper)) == 4  # what it had queued before it was dropped, nothing after


async def test_the_drop_is_announced_as_too_slow(new_room: Callable[..., Room]) -> None:
    room = new_room(queue_size=4)
    sleeper = room.join("sleeper", "chat.v2")
    talker = room.join("talker", "chat.v2")
    queued(talker)
    room.say(talker, "fills the sleeper's queue")
    assert not sleeper.dropped.is_set()
    room.say(talker, "one too many")
    assert [(event["type"], event["nick"], event.get("reason")) for event in queued(talker)] == [
        ("message", "talker", None), ("message", "talker", None), ("leave", "sleeper", "too slow")
    ]


async def test_tell_reaches_one_member_and_never_blocks(new_room: Callable[..., Room]) -> None:
    room = new_room(queue_size=2)
    bob = room.join("bob", "chat.v2")
    queued(bob)
    room.tell(bob, {"type": "error", "error": "just for bob"})
    room.tell(bob, {"type": "error", "error": "still for bob"})
    room.tell(bob, {"type": "error", "error": "no room left: not sent"})
    assert [event["error"] for event in queued(bob)] == ["just for bob", "still for bob"]
    assert not bob.dropped.is_set() and "bob" in room.members
    room.leave(bob, "left")
    room.tell(bob, {"type": "error", "error": "bob is gone: not sent"})
    assert queued(bob) == []
