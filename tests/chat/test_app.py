"""The chat's connection handling in-process, over the in-memory transport, on asyncio and trio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import anyio.abc
import orjson
import pytest

from examples.chat.app import ACK_EVERY, MAX_MESSAGE_SIZE, MAX_TEXT, SUBPROTOCOLS, WINDOW, chat
from examples.chat.room import QUEUE_SIZE, Payload, Room
from simple_websocket import Accept, Close, WebSocketASGI
from simple_websocket.fanout import Broker, MemoryBackend
from simple_websocket.testing import MemoryClient, memory_pair

pytestmark = pytest.mark.anyio

LIMIT = 10.0
Event = Payload


@dataclass
class Person:
    """A test's side of one chat connection; it acknowledges what it reads unless told not to."""

    client: MemoryClient
    accept: Accept
    acknowledge: bool = True
    received: int = field(default=0)

    async def next(self) -> object:
        """The next thing the server sent: a decoded event, or a Close."""
        sent = await self.client.receive()
        if isinstance(sent, str):
            self.received += 1
            event: object = orjson.loads(sent)
            if self.acknowledge and self.received % ACK_EVERY == 0:
                await self.send({"type": "ack", "received": self.received})
            return event
        return sent

    async def until(
        self, wanted: Callable[[Event], bool], skipped: list[Event] | None = None, limit: int = 1000
    ) -> Event:
        """The first event ``wanted`` accepts; others go to ``skipped``, a Close fails the test."""
        for _ in range(limit):
            event = await self.next()
            assert isinstance(event, dict), f"expected an event, got {event!r}"
            if wanted(event):
                return event
            if skipped is not None:
                skipped.append(event)
        raise AssertionError("no such event")

    async def until_closed(self, limit: int = 1000) -> Close:
        """The Close the server ends with, skipping the events before it."""
        for _ in range(limit):
            event = await self.next()
            if isinstance(event, Close):
                return event
        raise AssertionError("not closed")

    async def send(self, obj: object) -> None:
        await self.client.send(orjson.dumps(obj).decode())

    async def say(self, text: str) -> None:
        await self.send({"type": "message", "text": text})


class Chat:
    """One room and the server tasks of everyone connected to it."""

    def __init__(self, room: Room, group: anyio.abc.TaskGroup, join_timeout: float, ack_timeout: float) -> None:
        self.room = room
        self.group = group
        self.join_timeout = join_timeout
        self.ack_timeout = ack_timeout
        self.clients: list[MemoryClient] = []

    async def connect(
        self,
        protocols: Sequence[str] = ("chat.v2", "chat.v1"),
        max_buffer: float = float("inf"),
        acknowledge: bool = True,
    ) -> Person:
        """Open a connection that has not joined yet."""
        transport, client = memory_pair(subprotocols=protocols, max_buffer=max_buffer)
        self.clients.append(client)
        ws = WebSocketASGI.from_transport(transport, SUBPROTOCOLS, max_message_size=MAX_MESSAGE_SIZE)
        self.group.start_soon(serve, ws, self.room, self.join_timeout, self.ack_timeout)
        await client.connect()
        accept = await client.receive()
        assert isinstance(accept, Accept)
        return Person(client, accept, acknowledge)

    async def join(
        self,
        nick: str,
        protocols: Sequence[str] = ("chat.v2", "chat.v1"),
        max_buffer: float = float("inf"),
        acknowledge: bool = True,
        session: str | None = None,
        since: object = None,
    ) -> tuple[Person, Event]:
        """Connect and join as ``nick`` (with ``session`` and ``since`` if given); return the
        person and their welcome."""
        person = await self.connect(protocols, max_buffer, acknowledge)
        join: Event = {"type": "join", "nick": nick}
        if session is not None:
            join["session"] = session
        if since is not None:
            join["since"] = since
        await person.send(join)
        return person, await person.until(lambda event: event["type"] == "welcome")


async def serve(ws: WebSocketASGI, room: Room, join_timeout: float, ack_timeout: float) -> None:
    await ws.open()
    await chat(ws, room, join_timeout=join_timeout, ack_timeout=ack_timeout)


@asynccontextmanager
async def chat_room(
    queue_size: int = QUEUE_SIZE,
    join_timeout: float = LIMIT,
    ack_timeout: float = LIMIT,
    backend: MemoryBackend | None = None,
    grace: float = 0.0,
) -> AsyncIterator[Chat]:
    """A room whose connections all end with the test (everyone still there disconnects)."""
    with anyio.fail_after(LIMIT * 2):
        async with Broker(backend) as broker, anyio.create_task_group() as group:
            room = Chat(Room(broker, queue_size=queue_size, grace=grace), group, join_timeout, ack_timeout)
            try:
                yield room
                for client in room.clients:  # a second Disconnect, for those who left already, goes unread
                    await client.disconnect(1001)
            finally:
                for client in room.clients:
                    client.close()


def is_message(event: Event) -> bool:
    return event["type"] == "message"


async def test_two_people_talk_in_their_own_protocol_and_see_each_other_leave() -> None:
    async with chat_room() as room:
        ann, welcome = await room.join("ann")
        assert ann.accept == Accept("chat.v2")
        assert welcome == {
            "type": "welcome",
            "nick": "ann",
            "protocol": "chat.v2",
            "ack": ACK_EVERY,
            "pos": welcome["pos"],  # where ann starts: right after the room's last event (none yet)
            "resumed": False,
            "recovered": None,
            "users": ["ann"],
            "stats": {"users": 1},
        }
        assert str(welcome["pos"]).startswith("0.")
        bob, welcome = await room.join("bob", protocols=["chat.v1"])
        assert bob.accept == Accept("chat.v1") and welcome["protocol"] == "chat.v1"
        joined = await ann.until(lambda event: event["type"] == "join" and event["nick"] == "bob")
        assert joined["users"] == ["ann", "bob"]

        await ann.say("hello bob")
        for person in (ann, bob):
            heard = await person.until(is_message)
            assert (heard["nick"], heard["text"]) == ("ann", "hello bob")
            assert heard["stats"] == {"users": 2}
            assert ("ts" in heard) is (person is ann)  # chat.v2 has timestamps, chat.v1 none

        await bob.client.disconnect(1001)
        left = await ann.until(lambda event: event["type"] == "leave")
        assert (left["nick"], left["reason"], left["users"]) == ("bob", "left", ["ann"])


async def test_a_client_offering_no_subprotocol_gets_chat_v1() -> None:
    async with chat_room() as room:
        cid, welcome = await room.join("cid", protocols=[])
        assert cid.accept == Accept(None) and welcome["protocol"] == "chat.v1"
        await cid.say("plain")
        assert "ts" not in await cid.until(is_message)


async def test_bad_messages_get_an_error_and_the_connection_stays_up() -> None:
    async with chat_room() as room:
        dee, _ = await room.join("dee")
        for bad in (
            "{not json",
            '{"type": "message"}',
            '{"type": "message", "text": ""}',
            "[1, 2]",
            '"hi"',
            '{"type": "message", "text": 7}',
            orjson.dumps({"type": "message", "text": "x" * (MAX_TEXT + 1)}),
        ):
            await dee.client.send(bad)
            error = await dee.until(lambda event: event["type"] in ("error", "message"))
            assert error["type"] == "error" and isinstance(error["error"], str)
        await dee.say("still here")
        heard = await dee.until(is_message)
        assert heard["text"] == "still here" and heard["stats"] == {"users": 1}


async def test_a_client_must_join_with_a_nickname_first() -> None:
    async with chat_room() as room:
        eve = await room.connect()
        for early in (
            '{"type": "message", "text": "hi"}',
            "{not json",
            "null",
            '{"type": "join", "nick": "   "}',
            orjson.dumps({"type": "join", "nick": "x" * 21}).decode(),
            '{"type": "join"}',
        ):
            await eve.client.send(early)
            assert (await eve.until(lambda event: True))["type"] == "error"
        await eve.send({"type": "join", "nick": "  eve "})
        welcome = await eve.until(lambda event: True)
        assert {key: welcome[key] for key in ("type", "nick", "protocol", "ack", "resumed", "users")} == {
            "type": "welcome",
            "nick": "eve",
            "protocol": "chat.v2",
            "ack": ACK_EVERY,
            "resumed": False,
            "users": ["eve"],
        }
        assert await room.room.stats() == {"users": 1}


async def test_a_client_that_does_not_join_in_time_is_closed_with_1008() -> None:
    async with chat_room(join_timeout=0.01) as room:
        idle = await room.connect()
        assert await idle.until_closed() == Close(1008, "join first")
        assert await room.room.stats() == {"users": 0}


async def test_a_member_that_stops_reading_is_closed_with_1013_and_the_others_keep_going() -> None:
    async with chat_room(queue_size=4) as room:
        sleeper, _ = await room.join("sleeper", max_buffer=0)  # from now on it reads nothing
        talker, _ = await room.join("talker")
        others: list[Event] = []
        for number in range(10):  # one at a time, so that the talker itself never falls behind
            await talker.say(str(number))
            assert (await talker.until(is_message, skipped=others))["text"] == str(number)
        assert [(event["nick"], event["reason"]) for event in others if event["type"] == "leave"] == [
            ("sleeper", "too slow")
        ]
        assert await sleeper.until_closed() == Close(1013, "too slow: messages were not read in time")
        await talker.say("after the drop")
        assert (await talker.until(is_message))["users"] == ["talker"]


async def test_a_message_over_the_size_limit_closes_that_connection_only() -> None:
    async with chat_room() as room:
        big, _ = await room.join("big")
        small, _ = await room.join("small")
        await big.say("x" * MAX_MESSAGE_SIZE)
        assert await big.until_closed() == Close(1009, "message too big")
        left = await small.until(lambda event: event["type"] == "leave")
        assert left["nick"] == "big"
        await small.say("fine")
        assert (await small.until(is_message))["text"] == "fine"


async def test_a_dropped_connection_counts_as_leaving() -> None:
    async with chat_room() as room:
        ann, _ = await room.join("ann")
        bob, _ = await room.join("bob")
        await bob.client.disconnect(1006, "connection lost")
        left = await ann.until(lambda event: event["type"] == "leave")
        assert (left["nick"], left["reason"], left["stats"]) == ("bob", "left", {"users": 1})


async def test_a_member_that_reads_but_never_acknowledges_is_closed_with_1013() -> None:
    async with chat_room(ack_timeout=0.2) as room:
        mute, _ = await room.join("mute", acknowledge=False)
        talker, _ = await room.join("talker")
        for number in range(WINDOW + 5):
            await talker.say(str(number))
        left = await talker.until(lambda event: event["type"] == "leave")
        assert (left["nick"], left["reason"]) == ("mute", "too slow")
        assert await mute.until_closed() == Close(1013, "too slow: messages were not read in time")
        assert mute.received <= WINDOW  # what it was sent: never more than the window


async def test_acknowledgements_must_count_what_was_received() -> None:
    async with chat_room() as room:
        ann, _ = await room.join("ann")
        for bad in (
            {"type": "ack", "received": 10_000},
            {"type": "ack", "received": -1},
            {"type": "ack"},
            {"type": "ack", "received": True},
        ):
            await ann.send(bad)
            error = await ann.until(lambda event: event["type"] == "error")
            assert "received" in str(error["error"])  # says which field is wrong
        await ann.send({"type": "ack", "received": ann.received})
        await ann.say("acknowledged")
        assert (await ann.until(is_message))["text"] == "acknowledged"


async def test_a_newcomer_sees_the_last_messages_first() -> None:
    async with chat_room() as room:
        ann, _ = await room.join("ann")
        for number in range(25):
            await ann.say(f"earlier {number}")
        for _ in range(25):
            await ann.until(is_message)
        bob, _ = await room.join("bob")
        history = [await bob.until(is_message) for _ in range(20)]
        assert [event["text"] for event in history] == [f"earlier {n}" for n in range(5, 25)]
        joined = await bob.until(lambda event: event["type"] == "join")
        assert (joined["nick"], joined["users"], joined["stats"]) == ("bob", ["ann", "bob"], {"users": 2})


async def test_two_workers_sharing_a_backend_are_one_room() -> None:
    shared = MemoryBackend()
    async with chat_room(backend=shared) as one, chat_room(backend=shared) as two:
        ann, _ = await one.join("ann")
        bob, welcome = await two.join("ann")
        assert welcome["nick"] == "ann-2"  # the name is taken in the other worker
        await ann.say("across workers")
        for person in (ann, bob):
            heard = await person.until(is_message)
            assert (heard["nick"], heard["text"], heard["users"]) == ("ann", "across workers", ["ann", "ann-2"])


SESSION = "0123456789abcdef0123456789abcdef"
OTHER_SESSION = "fedcba9876543210fedcba9876543210"


async def test_a_person_back_within_the_grace_period_gets_what_they_missed_and_nobody_sees_them_go() -> None:
    async with chat_room(grace=LIMIT) as room:
        ann, _ = await room.join("ann")
        dan, _ = await room.join("dan", session=SESSION)
        await ann.until(lambda event: event["type"] == "join" and event["nick"] == "dan")
        await ann.say("before")
        last = await dan.until(is_message)
        await dan.client.disconnect(1006, "connection lost")
        for number in range(3):
            await ann.say(f"while away {number}")
        seen: list[Event] = []
        for _ in range(3):
            seen.append(await ann.until(is_message, skipped=seen))

        back, welcome = await room.join("dan", session=SESSION, since=last["pos"])
        assert (welcome["nick"], welcome["resumed"], welcome["recovered"]) == ("dan", True, True)
        assert welcome["pos"] == last["pos"] and welcome["users"] == ["ann", "dan"]
        replayed: list[Event] = []
        resumed = await back.until(lambda event: event["type"] == "resumed", skipped=replayed)
        assert resumed == {"type": "resumed", "missed": 3}
        assert [event["text"] for event in replayed] == [f"while away {n}" for n in range(3)]
        await ann.say("after")
        assert (await back.until(is_message))["text"] == "after"
        seen.append(await ann.until(is_message, skipped=seen))
    assert not [event for event in seen if event["type"] in ("join", "leave")], "ann saw dan leave or join"


async def test_a_person_back_with_nothing_missed_is_told_so() -> None:
    async with chat_room(grace=LIMIT) as room:
        dan, welcome = await room.join("dan", session=SESSION)
        joined = await dan.until(lambda event: event["type"] == "join")
        await dan.client.disconnect(1001)
        back, welcome = await room.join("dan", session=SESSION, since=joined["pos"])
        assert (welcome["resumed"], welcome["recovered"]) == (True, True)
        assert await back.until(lambda event: True) == {"type": "resumed", "missed": 0}
        for text in ("still here", "and here"):
            await back.say(text)
        after = [await back.until(lambda event: True) for _ in range(2)]
        assert [(event["type"], event.get("text")) for event in after] == [  # told once, not again
            ("message", "still here"),
            ("message", "and here"),
        ]


async def test_a_person_back_after_the_grace_period_is_seen_leaving_and_joining_again() -> None:
    async with chat_room(grace=0.2) as room:
        ann, _ = await room.join("ann")
        dan, _ = await room.join("dan", session=SESSION)
        joined = await dan.until(lambda event: event["type"] == "join")
        await dan.client.disconnect(1006)
        left = await ann.until(lambda event: event["type"] == "leave")
        assert (left["nick"], left["reason"], left["users"]) == ("dan", "left", ["ann"])
        back, welcome = await room.join("dan", session=SESSION, since=joined["pos"])
        assert (welcome["nick"], welcome["resumed"], welcome["recovered"]) == ("dan", True, True)
        replayed: list[Event] = []
        assert (await back.until(lambda event: event["type"] == "resumed", skipped=replayed))["missed"] == 0
        assert [(event["type"], event["nick"]) for event in replayed] == [("leave", "dan")]
        again = await ann.until(lambda event: event["type"] == "join")
        assert (again["nick"], again["users"]) == ("dan", ["ann", "dan"])


async def test_coming_back_to_a_nickname_someone_else_took_is_refused_with_4409() -> None:
    async with chat_room() as room:
        dan, _ = await room.join("dan", session=SESSION)
        joined = await dan.until(lambda event: event["type"] == "join")
        await dan.client.disconnect(1006)
        await anyio.sleep(0.05)  # no grace here: dan has left
        _, welcome = await room.join("dan", session=OTHER_SESSION)
        assert welcome["nick"] == "dan"
        late = await room.connect()
        await late.send({"type": "join", "nick": "dan", "session": SESSION, "since": joined["pos"]})
        assert await late.until_closed() == Close(4409, "nickname taken")
        # Joining afresh instead gets a free nickname, as always.
        _, fresh = await room.join("dan", session=SESSION)
        assert fresh["nick"] == "dan-2"


async def test_a_page_that_reconnects_before_the_server_noticed_replaces_its_old_connection() -> None:
    async with chat_room(grace=LIMIT) as room:
        ann, _ = await room.join("ann")
        dan, _ = await room.join("dan", session=SESSION)
        joined = await dan.until(lambda event: event["type"] == "join")
        await ann.until(lambda event: event["type"] == "join" and event["nick"] == "dan")
        # The same session comes back while the old connection still looks alive to the server.
        back, welcome = await room.join("dan", session=SESSION, since=joined["pos"])
        assert (welcome["nick"], welcome["resumed"], welcome["recovered"]) == ("dan", True, True)
        assert await dan.until_closed() == Close(4001, "replaced by a newer connection")
        await ann.say("still one dan")
        assert (await back.until(is_message))["text"] == "still one dan"
        seen: list[Event] = []
        heard = await ann.until(is_message, skipped=seen)
        assert heard["users"] == ["ann", "dan"] and not [e for e in seen if e["type"] in ("join", "leave")]
        # Someone else cannot do that: without the session, the nickname is taken.
        thief = await room.connect()
        await thief.send({"type": "join", "nick": "dan", "session": OTHER_SESSION, "since": joined["pos"]})
        assert await thief.until_closed() == Close(4409, "nickname taken")


async def test_a_person_back_after_the_retention_window_gets_one_gap_then_live_events() -> None:
    async with chat_room(grace=LIMIT, backend=MemoryBackend(retention=5)) as room:
        ann, _ = await room.join("ann")
        dan, _ = await room.join("dan", session=SESSION)
        last = await dan.until(lambda event: event["type"] == "join" and event["nick"] == "dan")
        await dan.client.disconnect(1006)
        for number in range(10):
            await ann.say(f"while away {number}")
        for _ in range(10):
            await ann.until(is_message)
        back, welcome = await room.join("dan", session=SESSION, since=last["pos"])
        assert (welcome["resumed"], welcome["recovered"]) == (True, False)
        gap = await back.until(lambda event: True)
        assert (gap["type"], gap["cause"], gap["missed"]) == ("gap", "retention", 10)
        assert gap["pos"] == welcome["pos"]
        await ann.say("live")
        assert (await back.until(lambda event: True))["text"] == "live"


async def test_a_position_of_another_numbering_is_one_reset_gap() -> None:
    async with chat_room(grace=LIMIT) as room:
        dan, welcome = await room.join("dan", session=SESSION, since="3.another-epoch")
        assert (welcome["nick"], welcome["resumed"], welcome["recovered"]) == ("dan", True, False)
        gap = await dan.until(lambda event: True)
        assert (gap["type"], gap["cause"], gap["missed"]) == ("gap", "reset", None)


@pytest.mark.parametrize("since", ["", "not a position", "1.", "-1.abc", "1." + "e" * 200, 7, ["1.abc"]])
async def test_a_since_that_is_no_position_is_an_error_and_a_close_with_1008(since: object) -> None:
    async with chat_room() as room:
        eve = await room.connect()
        await eve.send({"type": "join", "nick": "eve", "session": SESSION, "since": since})
        error = await eve.until(lambda event: True)
        assert error == {"type": "error", "error": "join: since is not a position"}
        assert await eve.until_closed() == Close(1008, "since: not a position")
        assert await room.room.stats() == {"users": 0}


async def test_a_session_must_be_16_to_128_characters() -> None:
    async with chat_room() as room:
        eve = await room.connect()
        for bad in ("short", "x" * 129, 12345):
            await eve.send({"type": "join", "nick": "eve", "session": bad})
            error = await eve.until(lambda event: True)
            assert error == {"type": "error", "error": "join: session must be 16-128 characters"}
        await eve.send({"type": "join", "nick": "eve", "session": SESSION})
        assert (await eve.until(lambda event: True))["type"] == "welcome"


async def test_a_member_dropped_as_too_slow_leaves_at_once_whatever_the_grace() -> None:
    async with chat_room(queue_size=4, grace=LIMIT) as room:
        await room.join("sleeper", max_buffer=0, session=SESSION)
        talker, _ = await room.join("talker")
        others: list[Event] = []
        for number in range(10):
            await talker.say(str(number))
            await talker.until(is_message, skipped=others)
        assert [(event["nick"], event["reason"]) for event in others if event["type"] == "leave"] == [
            ("sleeper", "too slow")
        ]


async def test_a_member_dropped_as_too_slow_comes_back_and_loses_nothing() -> None:
    """A slow phone: closed with 1013 once its queue overflows, it resumes from the last event it
    got and catches up on everything said meanwhile, within the room's retention."""
    async with chat_room(queue_size=4, grace=LIMIT) as room:
        slow, _ = await room.join("slow", max_buffer=0, session=SESSION)  # a send waits for its read
        talker, _ = await room.join("talker")
        last = await slow.until(lambda event: event["type"] == "join" and event["nick"] == "talker")
        # From now on it reads nothing.
        said = [f"m{number}" for number in range(10)]
        for text in said:
            await talker.say(text)
            await talker.until(is_message)
        assert await slow.until_closed() == Close(1013, "too slow: messages were not read in time")

        back, welcome = await room.join("slow", session=SESSION, since=last["pos"])
        assert (welcome["nick"], welcome["resumed"], welcome["recovered"]) == ("slow", True, True)
        replayed: list[Event] = []
        assert await back.until(lambda event: event["type"] == "resumed", skipped=replayed) == {
            "type": "resumed",
            "missed": len(said),
        }
    assert [event["text"] for event in replayed if event["type"] == "message"] == said
