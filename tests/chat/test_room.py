"""The chat room on its own, over an in-memory Broker: names, what each person sees, statistics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import msgspec
import pytest

from examples.chat import protocol as wire
from examples.chat.room import Member, Payload, Room, View
from simple_websocket.fanout import Broker, Gap, Left, Message, Position

pytestmark = pytest.mark.anyio

LIMIT = 10.0


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    with anyio.fail_after(LIMIT):
        async with Broker() as broker:
            yield Room(broker, history=3)


async def shown(room: Room, member: Member, view: View, count: int) -> list[Payload]:
    """The next ``count`` events ``member`` is shown (events it is not shown are skipped)."""
    events: list[Payload] = []
    with anyio.fail_after(LIMIT):
        while len(events) < count:
            shaped = room.shape(await member.events.receive(), view, member)
            if shaped is not None:
                events.append(msgspec.to_builtins(shaped))
    return events


async def test_a_member_sees_its_own_join_first(room: Room) -> None:
    async with room.enter("ann") as ann:
        (joined,) = await shown(room, ann, View(), 1)
        position = ann.events.position(room.topic)
        assert joined == {"type": "join", "nick": "ann", "pos": position.token, "users": ["ann"], "stats": {"users": 1}}
        assert position.seq == 1


async def test_a_taken_nickname_gets_the_first_free_suffix(room: Room) -> None:
    async with room.enter("ann") as first, room.enter("ann") as second, room.enter("ann") as third:
        assert [first.nick, second.nick, third.nick] == ["ann", "ann-2", "ann-3"]
        assert await room.stats() == {"users": 3}
    assert await room.stats() == {"users": 0}


async def test_messages_are_numbered_in_the_order_they_were_said(room: Room) -> None:
    async with room.enter("ann") as ann, room.enter("bob") as bob:
        for number in range(5):
            assert (await room.say(ann if number % 2 else bob, f"message {number}")).seq == number + 3  # after 2 joins
        view = View()
        events = [e for e in await shown(room, ann, view, 7) if e["type"] == "message"]
        assert [(e["nick"], e["text"]) for e in events] == [
            ("bob", "message 0"),
            ("ann", "message 1"),
            ("bob", "message 2"),
            ("ann", "message 3"),
            ("bob", "message 4"),
        ]
        assert events[-1]["users"] == ["ann", "bob"] and events[-1]["stats"] == {"users": 2}
        assert all(isinstance(e["ts"], float) for e in events)
        assert await room.stats() == {"users": 2}


async def test_the_reason_for_leaving_reaches_the_others(room: Room) -> None:
    async with room.enter("ann") as ann:
        async with room.enter("bob") as bob:
            bob.reason = "too slow"
        async with room.enter("cid"):
            pass
        events = await shown(room, ann, View(), 5)
    assert [(e["type"], e["nick"], e.get("reason")) for e in events] == [
        ("join", "ann", None),
        ("join", "bob", None),
        ("leave", "bob", "too slow"),
        ("join", "cid", None),
        ("leave", "cid", "left"),
    ]
    assert events[-1]["users"] == ["ann"]


async def test_a_newcomer_gets_the_last_messages_before_its_join(room: Room) -> None:
    async with room.enter("ann") as ann:
        for number in range(5):
            await room.say(ann, str(number))
        await shown(room, ann, View(), 6)  # this worker has read them all: they are history now
        async with room.enter("bob") as bob:
            events = await shown(room, bob, View(), 4)
    assert [(e["type"], e["nick"], e.get("text")) for e in events] == [
        ("message", "ann", "2"),
        ("message", "ann", "3"),
        ("message", "ann", "4"),
        ("join", "bob", None),
    ]


async def test_lost_members_gaps_and_foreign_messages_are_shown_sensibly(room: Room) -> None:
    async with room.enter("ann") as ann:
        view = View()
        lost = room.shape(Left(room.topic, "ghost", Position(9, "e1"), lost=True), view, ann)
        gap = room.shape(Gap(room.topic, 3, "retention", Position(12, "e1")), view, ann)
        foreign = room.shape(Message(room.topic, b"\xff not json", Position(4, "e1"), b"\xff not json"), view, ann)
    assert isinstance(lost, wire.Left) and (lost.nick, lost.reason, lost.pos) == ("ghost", "lost", "9.e1")
    assert isinstance(gap, wire.Gap) and (gap.missed, gap.cause, gap.pos) == (3, "retention", "12.e1")
    assert foreign is None  # not a message of the room's: nobody is shown it


async def test_frames_are_cached_by_position_so_a_new_numbering_never_shows_an_old_message(room: Room) -> None:
    async with room.enter("ann") as ann:
        view = View()
        before = '{"type": "message", "nick": "ann", "text": "before the reset", "ts": 1}'
        after = '{"type": "message", "nick": "bob", "text": "after the reset", "ts": 2}'
        old = Message(room.topic, before, Position(5, "old"), before)
        new = Message(room.topic, after, Position(5, "new"), after)
        assert '"before the reset"' in str(room.frame(old, view, ann, "chat.v2"))
        assert '"after the reset"' in str(room.frame(new, view, ann, "chat.v2"))  # same seq, another epoch
        assert '"before the reset"' in str(room.frame(old, view, ann, "chat.v2"))  # cached: the same text
        # A gap is one subscriber's own (how many it missed): never taken from the cache.
        first = room.frame(Gap(room.topic, 2, "overflow", Position(5, "new")), view, ann, "chat.v2")
        second = room.frame(Gap(room.topic, 7, "overflow", Position(5, "new")), view, ann, "chat.v2")
    assert first is not None and second is not None and '"missed":2' in first and '"missed":7' in second
