"""subscribe(since=...): resume after a position, exactly once at the seam, or one Gap saying why not.

Run on the in-memory backend and on a real redis-server, on asyncio and trio.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simple_websocket import BrokerUnavailable, InvalidArgument
from simple_websocket.fanout import (
    Broker,
    Entry,
    Event,
    Gap,
    GapCause,
    Head,
    Joined,
    Kind,
    Left,
    MemoryBackend,
    Message,
    Position,
    RedisBackend,
    Subscription,
)

from ..support.redis_server import RedisServer
from .conftest import FAILED_CONNECTIONS, RETENTION, BackendFactory
from .test_broker import LIMIT, running, take

pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]


def data(events: list[Event[object]]) -> list[object]:
    return [event.data for event in events if isinstance(event, Message)]


async def test_resume_replays_exactly_what_was_missed_then_goes_live(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        async with broker.subscribe("room") as sub:
            assert sub.recovered is None and sub.replayed == 0
            for i in range(10):
                await broker.publish("room", f"m{i}")
            seen = await take(sub, 4)
            left_at = sub.position("room")
        assert left_at == seen[-1].position and left_at.seq == seen[-1].position.seq
        await broker.join("room", "ann")  # presence changes are part of what is replayed
        await broker.publish("room", b"binary")
        async with broker.subscribe("room", since=left_at) as back:
            assert back.recovered is True
            assert back.replayed == 6 + 2
            assert back.position("room") == left_at  # nothing yielded yet: it starts right after it
            replayed = await take(back, 8)
            await broker.publish("room", "live")
            live = await take(back, 1)
    assert data(replayed) == [f"m{i}" for i in range(4, 10)] + [b"binary"]
    assert isinstance(replayed[6], Joined) and replayed[6].member == "ann"
    assert [event.position.seq for event in replayed + live] == list(range(left_at.seq + 1, left_at.seq + 10))
    assert {event.position.epoch for event in replayed + live} == {left_at.epoch}
    assert data(live) == ["live"]


async def test_resume_with_nothing_missed_is_recovered(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        start = await broker.publish("room", "first")
        async with broker.subscribe("room", since=start) as sub:
            assert (sub.recovered, sub.replayed, sub.position("room")) == (True, 0, start)
            await broker.publish("room", "second")
            assert data(await take(sub, 1)) == ["second"]


async def test_resume_from_the_position_of_an_empty_topic(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        async with broker.subscribe("empty") as sub:
            before = sub.position("empty")
        assert before.seq == 0
        await broker.publish("empty", "one")
        async with broker.subscribe("empty", since=before) as sub:
            assert sub.recovered is True
            assert data(await take(sub, 1)) == ["one"]


async def test_past_the_retention_window_is_one_gap_then_live(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        old = await broker.publish("feed", "old")
        for i in range(RETENTION + 5):
            await broker.publish("feed", str(i))
        head = await broker.publish("feed", "last")
        async with broker.subscribe("feed", since=old) as sub:
            assert sub.recovered is False and sub.replayed == 1
            gap = await sub.receive()
            await broker.publish("feed", "live")
            live = await take(sub, 1)
    assert gap == Gap("feed", head.seq - old.seq, "retention", head)
    assert sub.position("feed") == live[0].position
    assert data(live) == ["live"]


@pytest.mark.parametrize(
    ("cause", "elsewhere"),
    [
        ("reset", lambda now: Position(now.seq, "another-epoch")),  # a Redis that lost its data since
        ("ahead", lambda now: Position(now.seq + 1000, now.epoch)),  # never handed out: forged
        ("ahead", lambda now: Position(2**63 - 1, now.epoch)),
    ],
)
async def test_a_position_the_topic_never_had_is_a_gap(
    make_backend: BackendFactory, cause: GapCause, elsewhere: Callable[[Position], Position]
) -> None:
    async with running(make_backend) as broker:
        now = await broker.publish("feed", "one")
        async with broker.subscribe("feed", since=elsewhere(now)) as sub:
            assert sub.recovered is False
            gap = await sub.receive()
            await broker.publish("feed", "two")
            assert data(await take(sub, 1)) == ["two"]
    assert gap == Gap("feed", None, cause, now)


async def test_a_position_past_this_process_reader_is_not_seen_twice(make_backend: BackendFactory) -> None:
    """A client that saw entries through another process may come back here before this process's
    reader has read them: they are neither replayed nor delivered live a second time."""
    async with running(make_backend) as here, running(make_backend) as there, here.subscribe("feed") as watcher:
        seen_there = await there.publish("feed", "seen elsewhere")
        # Most often this process's reader has not handed it out yet (always so in memory).
        async with here.subscribe("feed", since=seen_there) as sub:
            assert sub.recovered is True
            await there.publish("feed", "new")
            first = await take(sub, 1)
            assert data(await take(watcher, 2)) == ["seen elsewhere", "new"]
    assert data(first) == ["new"]


class SlowHead(MemoryBackend):
    """A MemoryBackend whose head() lets other tasks run first, as a remote backend's does."""

    async def head(self, topic: str) -> Head:
        await anyio.sleep(0.05)
        return await super().head(topic)


async def test_events_read_while_resuming_past_the_reader_are_not_seen_twice() -> None:
    backend = SlowHead()
    async with Broker(backend) as here, Broker(backend) as there, here.subscribe("feed") as watcher:
        seen_there = await there.publish("feed", "seen elsewhere")
        # here's reader hands "seen elsewhere" out while subscribe() asks for the head.
        async with here.subscribe("feed", since=seen_there) as sub:
            assert data(await take(watcher, 1)) == ["seen elsewhere"]
            await there.publish("feed", "new")
            assert data(await take(sub, 1)) == ["new"]


async def test_since_per_topic_and_history_for_the_others(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        a = await broker.publish("a", "a1")
        await broker.publish("a", "a2")
        for i in range(5):
            await broker.publish("b", f"b{i}")
        async with broker.subscribe("a", "b", since={"a": a}, history=2) as sub:
            assert sub.recovered is True and sub.replayed == 3
            first = await take(sub, 3)
            assert sub.position("b").seq == 5
    assert sorted(map(str, data(first))) == ["a2", "b3", "b4"]


async def test_one_position_names_a_place_in_one_topic(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        a = await broker.publish("a", "a1")
        with pytest.raises(InvalidArgument, match="one topic"):
            broker.subscribe("a", "b", since=a)
        async with broker.subscribe("a", "a", since=a) as sub:
            assert sub.recovered is True


async def test_the_replay_is_decoded_by_the_codec(make_backend: BackendFactory) -> None:
    from simple_websocket.codecs import JSONCodec

    async with running(make_backend) as broker:
        start = await broker.publish("json", "{}")
        await broker.publish("json", '{"n": 1}')
        async with broker.subscribe("json", since=start, codec=JSONCodec()) as sub:
            assert data(await take(sub, 1)) == [{"n": 1}]


async def test_since_must_name_subscribed_topics_and_be_positions() -> None:
    async with Broker() as broker:
        with pytest.raises(InvalidArgument, match="topic 'b'"):
            broker.subscribe("a", since={"b": Position(1, "e")})
        with pytest.raises(InvalidArgument, match="Position"):
            broker.subscribe("a", since="1.e")  # type: ignore[call-overload]  # the point of the test
        with pytest.raises(InvalidArgument, match="Position"):
            broker.subscribe("a", since={"a": "1.e"})  # type: ignore[dict-item]  # the point of the test
        async with broker.subscribe("a") as sub:
            with pytest.raises(InvalidArgument, match="topic 'b'"):
                sub.position("b")


async def test_a_reset_gap_moves_the_position_to_the_new_numbering() -> None:
    backend = MemoryBackend()
    async with Broker(backend) as broker, broker.subscribe("t") as sub:
        await broker.publish("t", "before")
        await take(sub, 1)
        backend._epoch = "new-epoch"  # as if the backend lost its data
        backend._streams.clear()
        broker._restart_read()
        await broker.publish("t", "after")
        events = await take(sub, 2)
    assert events == [
        Gap("t", None, "reset", Position(0, "new-epoch")),
        Message("t", "after", Position(1, "new-epoch"), "after"),
    ]
    assert sub.position("t") == Position(1, "new-epoch")


class FailedOver(MemoryBackend):
    """After ``fail_over()``: a new epoch numbered after ``start``, the old one replayable up to it
    (what RedisClusterBackend's head says after a new master's first write)."""

    previous: str | None = None
    start = 0

    def fail_over(self, epoch: str) -> None:
        self.previous, self._epoch = self._epoch, epoch
        self.start = self._stream("t").seq

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        found = await super().read(cursors, timeout=timeout)
        if any(cursor.epoch != self._epoch for cursor in cursors.values()):  # read after the entries, as Redis's
            raise BrokerUnavailable("another epoch")
        return found

    async def head(self, topic: str) -> Head:
        head = await super().head(topic)
        return Head(head.seq, head.members, head.epoch, self.start, self.previous)

    async def replay(self, topic: str, after: Position, until: int) -> Sequence[Entry] | None:
        if after.epoch == self.previous and until <= self.start:
            return await super().replay(topic, Position(after.seq, self._epoch), until)
        return await super().replay(topic, after, until)


async def test_a_reader_behind_a_new_epoch_gets_the_old_one_up_to_its_start_first() -> None:
    backend = FailedOver()
    async with Broker(backend) as broker, broker.subscribe("t") as sub:
        old = (await broker.publish("t", "m1")).epoch
        await take(sub, 1)
        backend._append("t", Kind.TEXT, "m2")  # appended, not read yet: the reader has not run
        backend._append("t", Kind.TEXT, "m3")
        backend.fail_over("new-epoch")
        broker._restart_read()
        await broker.publish("t", "after")
        events = await take(sub, 4)
    assert events == [
        Message("t", "m2", Position(2, old), "m2"),
        Message("t", "m3", Position(3, old), "m3"),
        Gap("t", None, "reset", Position(3, "new-epoch")),
        Message("t", "after", Position(4, "new-epoch"), "after"),
    ]


# -- resume under concurrent publishing -----------------------------------------------------------


async def resume_while_publishing(
    make_backend: BackendFactory, pattern: list[tuple[int, int]], seed: int
) -> tuple[list[str], list[str], list[Gap]]:
    """One publisher publishes continuously while a subscriber reads a few events, leaves (keeping
    its position), and resumes from it, as ``pattern`` says: (events to read, pause in
    checkpoints before resuming). Returns what was published, what the subscriber got, and gaps."""
    shuffle = random.Random(seed)
    published: list[str] = []
    got: list[str] = []
    gaps: list[Gap] = []
    total = sum(read for read, _ in pattern) + 3
    async with running(make_backend) as publisher, running(make_backend) as subscriber:
        done = anyio.Event()

        async def publish() -> None:
            for i in range(total + RETENTION // 2):
                published.append(f"m{i}")
                await publisher.publish("feed", f"m{i}")
                for _ in range(shuffle.randrange(3)):
                    await anyio.lowlevel.checkpoint()
                if done.is_set():
                    return

        since: Position | None = None
        async with anyio.create_task_group() as group:
            async with subscriber.subscribe("feed", max_backlog=10_000) as first:
                since = first.position("feed")
            group.start_soon(publish)
            with anyio.fail_after(LIMIT * 2):
                for read, pause in [*pattern, (3, 0)]:
                    async with subscriber.subscribe("feed", since=since, max_backlog=10_000) as sub:
                        assert sub.recovered is True
                        for _ in range(read):
                            event = await sub.receive()
                            if isinstance(event, Message):
                                got.append(str(event.data))
                            elif isinstance(event, Gap):
                                gaps.append(event)
                        since = sub.position("feed")
                    for _ in range(pause):
                        await anyio.lowlevel.checkpoint()
            done.set()
    return published, got, gaps


async def test_resume_is_exactly_once_at_the_seam_under_concurrent_publishing(make_backend: BackendFactory) -> None:
    pattern = [(1, 0), (5, 3), (2, 20), (7, 1), (1, 50), (4, 0)]
    published, got, gaps = await resume_while_publishing(make_backend, pattern, seed=7)
    assert not gaps
    assert got == published[: len(got)]  # every one, in order, none twice
    assert len(got) == sum(read for read, _ in pattern) + 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pattern=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30)), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_resume_interleavings(anyio_backend: str, pattern: list[tuple[int, int]], seed: int) -> None:
    """Any interleaving of publish, leave and resume (in memory): the subscriber's messages are a
    prefix of the published ones, each once, and no Gap."""
    shared = MemoryBackend(retention=10_000)
    published, got, gaps = anyio.run(resume_while_publishing, lambda: shared, pattern, seed, backend=anyio_backend)
    assert not gaps
    assert got == published[: len(got)]
    assert len(got) == sum(read for read, _ in pattern) + 3
    assert max(Counter(got).values(), default=1) == 1


# -- presence across a reconnect ----------------------------------------------------------------------


async def presence_events(sub: Subscription[object], wait: float) -> list[Event[object]]:
    """Every presence event that arrives within ``wait`` seconds."""
    found: list[Event[object]] = []
    with anyio.move_on_after(wait):
        while True:
            event = await sub.receive()
            if isinstance(event, (Joined, Left)):
                found.append(event)
    return found


async def test_a_member_back_within_grace_never_left(make_backend: BackendFactory) -> None:
    async with running(make_backend) as one, running(make_backend) as two, one.subscribe("chat") as watcher:
        assert await one.join("chat", "ann", session="secret-ann")
        assert await one.leave("chat", "ann", grace=0.5)
        assert await two.join("chat", "ann", session="secret-ann")  # another process, within grace
        events = await presence_events(watcher, 1.0)  # past the grace period
        assert await two.members("chat") == frozenset({"ann"})
        assert [(type(e).__name__, getattr(e, "member", None)) for e in events] == [("Joined", "ann")]
        assert await two.leave("chat", "ann")
        events = await presence_events(watcher, 0.3)
    assert [type(e).__name__ for e in events] == ["Left"]


async def test_a_member_back_within_grace_to_the_same_process(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker, broker.subscribe("chat") as watcher:
        assert await broker.join("chat", "ann", session="s")
        assert await broker.leave("chat", "ann", grace=0.3)
        assert not await broker.leave("chat", "ann", grace=0.3)  # leaving already
        assert not await broker.join("chat", "ann")  # no session: not the same client
        assert not await broker.join("chat", "ann", session="wrong")
        assert await broker.join("chat", "ann", session="s")
        events = await presence_events(watcher, 0.6)
        assert await broker.members("chat") == frozenset({"ann"})
    assert [type(e).__name__ for e in events] == ["Joined"]


async def test_a_member_not_back_within_grace_leaves(make_backend: BackendFactory) -> None:
    async with running(make_backend) as one, running(make_backend) as two, one.subscribe("chat") as watcher:
        assert await one.join("chat", "bob", session="s")
        assert await one.leave("chat", "bob", grace=0.2)
        assert await one.members("chat") == frozenset({"bob"})  # still there during the grace period
        events = await presence_events(watcher, 0.6)
        assert [type(e).__name__ for e in events] == ["Joined", "Left"]
        assert await one.members("chat") == frozenset()
        assert await two.join("chat", "bob", session="someone else")  # free again, for anyone
        assert await two.members("chat") == frozenset({"bob"})


async def test_a_session_takes_a_member_back_from_a_dead_process(make_backend: BackendFactory) -> None:
    import hashlib

    async with make_backend() as backend:
        digest = hashlib.sha256(b"s3cret").hexdigest()
        # Not reaped yet: its liveness lasts a few more seconds, as after a kill -9.
        await backend.heartbeat("a-process-that-died", ttl=LIMIT)
        assert await backend.join("chat", "cid", owner="a-process-that-died", session=digest)
    async with running(make_backend) as broker, broker.subscribe("chat") as watcher:
        assert not await broker.join("chat", "cid")
        assert not await broker.join("chat", "cid", session="guess")
        assert await broker.join("chat", "cid", session="s3cret")
        assert await presence_events(watcher, 0.3) == []  # taken over: no Left, no Joined
        assert await broker.leave("chat", "cid")
        assert [type(e).__name__ for e in await presence_events(watcher, 0.3)] == ["Left"]


async def test_grace_must_not_be_negative() -> None:
    async with Broker() as broker:
        with pytest.raises(InvalidArgument, match="grace"):
            await broker.leave("chat", "x", grace=-1)


async def test_a_long_replay_is_read_page_by_page(redis: RedisServer, tmp_path: Path) -> None:
    backend = RedisBackend(redis.url, namespace=f"long{tmp_path.name}", retention=3000)
    async with Broker(backend) as broker:
        start = await broker.publish("feed", "start")
        with anyio.fail_after(LIMIT * 3):
            async with anyio.create_task_group() as group:  # a few publishers: quicker than one
                for first in range(0, 2500, 500):
                    group.start_soon(publish_range, broker, first, first + 500)
        async with broker.subscribe("feed", since=start, max_backlog=1) as sub:
            assert sub.recovered is True and sub.replayed == 2500
            replayed = await take(sub, 2500)
    assert sorted(data(replayed), key=lambda text: int(str(text))) == [str(i) for i in range(2500)]
    assert [event.position.seq for event in replayed] == list(range(start.seq + 1, start.seq + 2501))


async def publish_range(broker: Broker, first: int, end: int) -> None:
    for i in range(first, end):
        await broker.publish("feed", str(i))


class SlowLeave(MemoryBackend):
    """A MemoryBackend whose leave() takes a while, as a remote backend's round trip does."""

    async def leave(self, topic: str, member: str, *, owner: str) -> bool:
        await anyio.sleep(0.2)
        return await super().leave(topic, member, owner=owner)


async def test_a_join_while_the_grace_period_ends_waits_for_the_leave() -> None:
    async with Broker(SlowLeave()) as broker, broker.subscribe("chat") as watcher:
        assert await broker.join("chat", "dan", session="s")
        assert await broker.leave("chat", "dan", grace=0.05)
        await anyio.sleep(0.1)  # the grace period is over; the leave is on its way
        with anyio.fail_after(LIMIT):
            assert await broker.join("chat", "dan", session="s")
        assert await broker.members("chat") == frozenset({"dan"})
        events = await presence_events(watcher, 0.1)
    assert [type(event).__name__ for event in events] == ["Joined", "Left", "Joined"]


async def test_a_process_back_from_a_lapse_never_takes_a_member_back(make_backend: BackendFactory) -> None:
    """A process cut off for longer than its presence ttl joins its members again when it is back;
    one whose client reconnected elsewhere (with its session) meanwhile stays where it went."""
    async with running(make_backend) as old, running(make_backend) as new, new.subscribe("chat") as watcher:
        assert await old.join("chat", "eve", session="s")
        assert await old.join("chat", "fay", session="t")
        assert await new.join("chat", "eve", session="s")  # eve's page came back through new
        old._alive_until = 0.0  # as if old's heartbeat had lapsed
        await old._keep_alive()
        assert await new.leave("chat", "eve")  # still new's to leave
        assert "eve" not in old._own.get("chat", {})  # old let it go
        assert "fay" in old._own["chat"]
        events = await presence_events(watcher, 0.3)
    assert [(type(e).__name__, getattr(e, "member", "")) for e in events] == [
        ("Joined", "eve"),
        ("Joined", "fay"),
        ("Left", "eve"),
    ]


class ResetDuring(MemoryBackend):
    """A MemoryBackend that loses its data (a new epoch) at the start of the call named ``when``."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when

    def reset(self) -> None:
        self._epoch = f"after-{self.when}"
        self._streams.clear()

    async def replay(self, topic: str, after: Position, until: int) -> Sequence[Entry] | None:
        if self.when == "replay":
            self.reset()
        return await super().replay(topic, after, until)

    async def head(self, topic: str) -> Head:
        if self.when == "head" and self._streams:
            self.reset()
        return await super().head(topic)


async def test_data_lost_while_resuming_is_one_reset_gap_not_a_replay() -> None:
    backend = ResetDuring("replay")
    async with Broker(backend) as broker, broker.subscribe("t") as reader:
        first = await broker.publish("t", "one")
        await broker.publish("t", "two")
        await take(reader, 2)
        async with broker.subscribe("t", since=first) as sub:
            assert sub.recovered is False and sub.replayed == 0
            broker._restart_read()  # the reader notices the new epoch at its next read
            await broker.publish("t", "after")
            events = await take(sub, 2)
    assert [type(event).__name__ for event in events] == ["Gap", "Message"]
    assert isinstance(events[0], Gap) and events[0].cause == "reset"
    assert data(events) == ["after"]


async def test_data_lost_while_resuming_past_the_reader_is_a_reset_gap() -> None:
    backend = ResetDuring("head")
    async with Broker(backend) as broker, broker.subscribe("t") as reader:
        start = reader.position("t")
        # Ahead of this process's reader: the Broker asks for the head, and the data is gone.
        async with broker.subscribe("t", since=Position(start.seq + 3, start.epoch)) as sub:
            assert sub.recovered is False
            gap = await sub.receive()
    assert gap == Gap("t", None, "reset", start)


class FailingLeave(MemoryBackend):
    """A MemoryBackend that cannot be reached for leave() during its first ``failing`` seconds."""

    def __init__(self, failing: float) -> None:
        super().__init__()
        self.until = anyio.current_time() + failing

    async def leave(self, topic: str, member: str, *, owner: str) -> bool:
        if anyio.current_time() < self.until:
            raise BrokerUnavailable("down for now")
        return await super().leave(topic, member, owner=owner)


async def test_a_lingering_member_leaves_once_the_broker_answers_again() -> None:
    async with Broker(FailingLeave(0.6), publish_timeout=0.2) as broker, broker.subscribe("chat") as watcher:
        assert await broker.join("chat", "gus", session="s")
        assert await broker.leave("chat", "gus", grace=0.05)
        events = await presence_events(watcher, 1.5)
        assert await broker.members("chat") == frozenset()
    assert [type(event).__name__ for event in events] == ["Joined", "Left"]
