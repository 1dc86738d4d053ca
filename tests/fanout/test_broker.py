"""One behaviour suite for the Broker, run on the in-memory backend and on a real redis-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from simple_websocket import BrokerUnavailable, InvalidArgument, InvalidData, InvalidState, SlowSubscriber
from simple_websocket.codecs import JSONCodec
from simple_websocket.fanout import Broker, Event, Gap, Joined, Kind, Left, Message, Position, Subscription

from .conftest import FAILED_CONNECTIONS, RETENTION, BackendFactory

pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]

#: Upper bound for any wait in these tests.
LIMIT = 10.0


@asynccontextmanager
async def running(make_backend: BackendFactory, **options: float) -> AsyncIterator[Broker]:
    with anyio.fail_after(LIMIT):
        async with Broker(make_backend(), **options) as broker:
            yield broker


async def take(sub: Subscription[object], count: int) -> list[Event[object]]:
    with anyio.fail_after(LIMIT):
        return [await sub.receive() for _ in range(count)]


async def test_messages_arrive_in_order_with_their_frame_kind(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker, broker.subscribe("room") as sub:
        sent: list[str | bytes] = [f"text {i}" if i % 2 else f"binary {i}".encode() for i in range(20)]
        for data in sent:
            await broker.publish("room", data)
        events = await take(sub, len(sent))
    assert [event.data for event in events if isinstance(event, Message)] == sent
    seqs = [event.seq for event in events if isinstance(event, Message)]
    assert seqs == list(range(seqs[0], seqs[0] + len(sent)))


async def test_every_process_sees_one_order(make_backend: BackendFactory) -> None:
    async with (
        running(make_backend) as one,
        running(make_backend) as two,
        one.subscribe("room") as first,
        two.subscribe("room") as second,
    ):
        async with anyio.create_task_group() as group:
            for name, broker in (("one", one), ("two", two)):
                for i in range(15):
                    group.start_soon(broker.publish, "room", f"{name}-{i}")
        seen_first = [event for event in await take(first, 30) if isinstance(event, Message)]
        seen_second = [event for event in await take(second, 30) if isinstance(event, Message)]
    assert [(e.seq, e.data) for e in seen_first] == [(e.seq, e.data) for e in seen_second]
    assert sorted(str(e.data) for e in seen_first) == sorted(f"{n}-{i}" for n in ("one", "two") for i in range(15))


async def test_several_topics_in_one_subscription(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker, broker.subscribe("a", "b") as sub:
        await broker.publish("a", "to a")
        await broker.publish("c", "to nobody")
        await broker.publish("b", "to b")
        events = await take(sub, 2)
    assert sorted((e.topic, e.data) for e in events if isinstance(e, Message)) == [("a", "to a"), ("b", "to b")]


async def test_history_gives_the_last_messages(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        for i in range(10):
            await broker.publish("log", f"line {i}")
        await broker.join("log", "ann")  # presence entries are not messages: history skips them
        await broker.publish("log", '{"n": 10}')
        history = await broker.history("log", 3)
        decoded = await broker.history("log", 1, codec=JSONCodec())
    assert [m.data for m in history] == ["line 8", "line 9", '{"n": 10}']
    assert [m.data for m in decoded] == [{"n": 10}]


async def test_codec_subscription_decodes(make_backend: BackendFactory) -> None:
    codec = JSONCodec()
    async with running(make_backend) as broker, broker.subscribe("json", codec=codec) as sub:
        await broker.publish("json", codec.encode({"n": 1}))
        [event] = await take(sub, 1)
    assert isinstance(event, Message) and event.data == {"n": 1}


async def test_a_slow_subscriber_ends_and_the_others_keep_up(make_backend: BackendFactory) -> None:
    async with (
        running(make_backend) as broker,
        broker.subscribe("feed", max_backlog=5) as slow,
        broker.subscribe("feed", max_backlog=100) as fast,
    ):
        for i in range(20):
            await broker.publish("feed", str(i))
        events = await take(fast, 20)
        with anyio.fail_after(LIMIT), pytest.raises(SlowSubscriber) as raised:
            await slow.receive()
    assert [e.data for e in events if isinstance(e, Message)] == [str(i) for i in range(20)]
    assert raised.value.max_backlog == 5


async def test_drop_oldest_reports_a_gap(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker, broker.subscribe("feed", max_backlog=4, overflow="drop_oldest") as sub:
        async with broker.subscribe("feed", max_backlog=100) as witness:
            for i in range(10):
                await broker.publish("feed", str(i))
            await take(witness, 10)  # the reader has handed all ten to both subscriptions
        events = await take(sub, 5)
    assert isinstance(events[0], Gap)
    assert (events[0].missed, events[0].cause, events[0].position.seq) == (6, "overflow", 6)  # "0".."5" dropped
    assert [e.data for e in events[1:] if isinstance(e, Message)] == ["6", "7", "8", "9"]


async def test_presence_is_the_same_for_every_process(make_backend: BackendFactory) -> None:
    async with (
        running(make_backend) as one,
        running(make_backend) as two,
        one.subscribe("chat") as sub_one,
        two.subscribe("chat") as sub_two,
    ):
        assert await one.join("chat", "ann")
        assert await two.join("chat", "bob")
        assert not await two.join("chat", "ann")  # taken by another process
        assert await one.leave("chat", "ann")
        assert not await one.leave("chat", "bob")  # not this process's
        for sub in (sub_one, sub_two):
            events = await take(sub, 3)
            assert [type(e) for e in events] == [Joined, Joined, Left]
            assert sub.members("chat") == frozenset({"bob"})
        assert await one.members("chat") == frozenset({"bob"})


async def test_a_late_subscriber_starts_with_the_members(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        await broker.join("chat", "ann")
        async with broker.subscribe("chat") as sub:
            assert sub.members("chat") == frozenset({"ann"})


async def test_members_leave_when_the_broker_exits(make_backend: BackendFactory) -> None:
    async with running(make_backend) as watcher, watcher.subscribe("chat") as sub:
        async with running(make_backend) as other:
            await other.join("chat", "ann")
        events = await take(sub, 2)
    assert isinstance(events[1], Left)
    assert (events[1].member, events[1].lost, events[1].seq) == ("ann", False, events[0].position.seq + 1)
    assert sub.members("chat") == frozenset()


async def test_cancelling_the_subscriber_unsubscribes(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        with anyio.move_on_after(0.2):
            async with broker.subscribe("room") as sub:
                async for _ in sub:
                    pass
        assert broker._topics == {}
        await broker.publish("room", "nobody listens")


async def test_a_read_cancelled_while_waiting_loses_nothing(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker, broker.subscribe("room") as sub:
        for _ in range(2):  # the second wait finds the first waiter cancelled and makes a new one
            with anyio.move_on_after(0.05) as waited:
                await sub.receive()
            assert waited.cancelled_caught
        await broker.publish("room", "after")
        with anyio.fail_after(5):
            event = await sub.receive()
        assert isinstance(event, Message)
        assert event.data == "after"


async def test_misuse_is_refused(make_backend: BackendFactory) -> None:
    broker = Broker(make_backend())
    with pytest.raises(InvalidState):
        await broker.publish("room", "before start")
    async with running(make_backend) as broker:
        with pytest.raises(InvalidData):
            await broker.publish("room", 42)  # type: ignore[arg-type]  # the point of the test
        with pytest.raises(InvalidArgument):
            broker.subscribe()
        with pytest.raises(InvalidArgument):
            broker.subscribe("room", max_backlog=0)


async def test_a_gap_when_the_retention_window_was_passed(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        for i in range(RETENTION + 10):
            await broker.publish("feed", str(i))
        async with broker.subscribe("feed", max_backlog=1000) as sub:
            # As if this process had been cut off since before the first message.
            broker._topics["feed"].cursor = 0
            broker._restart_read()
            events = await take(sub, 1 + RETENTION)
    assert isinstance(events[0], Gap)
    assert (events[0].missed, events[0].cause, events[0].position.seq) == (10, "retention", 10)
    assert [e.data for e in events[1:] if isinstance(e, Message)] == [str(i) for i in range(10, RETENTION + 10)]


async def test_publish_without_a_broker_raises_in_time() -> None:
    from simple_websocket.fanout import RedisBackend

    from ..support.redis_server import free_port

    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with anyio.fail_after(LIMIT):
        async with Broker(backend, publish_timeout=1.0) as broker:
            with pytest.raises(BrokerUnavailable):
                await broker.publish("room", "into the void")


async def test_history_then_live_with_nothing_missing_or_repeated(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        for i in range(5):
            await broker.publish("room", f"[{i}]")
        async with broker.subscribe("room") as first:
            await broker.publish("room", '"new"')
            await take(first, 1)  # this process's reader is past "new 0" now
            async with broker.subscribe("room", history=3, codec=JSONCodec()) as late:
                await broker.publish("room", "[1]")
                events = await take(late, 4)
        with pytest.raises(InvalidArgument):
            broker.subscribe("room", history=-1)
    assert [(e.data, e.seq) for e in events if isinstance(e, Message)] == [([3], 4), ([4], 5), ("new", 6), ([1], 7)]


async def test_history_of_a_topic_this_process_does_not_read_yet(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker:
        for i in range(3):
            await broker.publish("quiet", str(i))
        async with broker.subscribe("quiet", history=10) as sub:
            await broker.publish("quiet", "live")
            events = await take(sub, 4)
    assert [e.data for e in events if isinstance(e, Message)] == ["0", "1", "2", "live"]


async def test_a_topic_added_while_the_reader_waits_is_read(make_backend: BackendFactory) -> None:
    async with running(make_backend) as broker, broker.subscribe("a") as on_a:
        await anyio.sleep(0.1)  # the reader is waiting for entries of "a"
        async with broker.subscribe("b") as on_b:
            await broker.publish("b", "to b")
            await broker.publish("a", "to a")
            [event_b] = await take(on_b, 1)
            [event_a] = await take(on_a, 1)
    assert (event_a.topic, event_b.topic) == ("a", "b")


async def test_subscriptions_end_when_the_broker_stops(make_backend: BackendFactory) -> None:
    received: list[Event[object]] = []
    async with running(make_backend) as broker, broker.subscribe("room") as probe:
        sub = broker.subscribe("room")
        await sub.__aenter__()
        await broker.publish("room", "last words")
        await take(probe, 1)  # handed to both subscriptions
    with anyio.fail_after(LIMIT):
        async for event in sub:  # what was queued, then the end
            received.append(event)
    await sub.__aexit__(None, None, None)
    assert [e.data for e in received if isinstance(e, Message)] == ["last words"]


async def test_a_batch_longer_than_the_backlog_reaches_a_subscriber_that_keeps_up(make_backend: BackendFactory) -> None:
    received: list[Event[object]] = []
    async with (
        running(make_backend) as reader,
        running(make_backend) as writer,
        reader.subscribe("feed", max_backlog=4) as sub,
    ):

        async def consume() -> None:
            async for event in sub:
                received.append(event)
                if len(received) == 50:
                    return

        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(consume)
                for i in range(50):  # no pause between them: the reader gets them in batches
                    await writer.publish("feed", str(i))
    assert [e.data for e in received if isinstance(e, Message)] == [str(i) for i in range(50)]


async def test_a_read_from_another_epoch_is_refused(make_backend: BackendFactory) -> None:
    """The Backend contract: a cursor from data the backend no longer has is never continued."""
    async with make_backend() as backend:
        await backend.append("epochs", Kind.TEXT, "one", key="epochs-1")
        head = await backend.head("epochs")
        with anyio.fail_after(LIMIT):
            assert [entry.payload for entry in await backend.read({"epochs": Position(0, head.epoch)}, timeout=1)] == [
                "one"
            ]
            with pytest.raises(BrokerUnavailable, match="epoch"):
                await backend.read({"epochs": Position(0, head.epoch + "-gone")}, timeout=1)


async def test_a_message_is_decoded_once_per_process_and_codec(make_backend: BackendFactory) -> None:
    """Subscriptions sharing a codec share its decoded object; each message keeps its frame."""
    calls: list[object] = []

    def counted(obj: object) -> object:
        calls.append(obj)
        return obj

    shared, other = JSONCodec(counted), JSONCodec()
    async with (
        running(make_backend) as broker,
        broker.subscribe("json", codec=shared) as one,
        broker.subscribe("json", codec=shared) as two,
        broker.subscribe("json", codec=other) as three,
        broker.subscribe("json") as raw,
    ):
        await broker.publish("json", '{"n": 1}')
        await broker.publish("json", b'{"n": 2}')
        firsts, seconds, thirds, raws = [await take(sub, 2) for sub in (one, two, three, raw)]
    assert len(calls) == 2  # once per message, not once per subscription
    for a, b in zip(firsts, seconds, strict=True):
        assert a is b  # the same Message, the same decoded object
    assert [e.data for e in thirds if isinstance(e, Message)] == [{"n": 1}, {"n": 2}]
    assert [e.frame for e in firsts + thirds + raws if isinstance(e, Message)] == ['{"n": 1}', b'{"n": 2}'] * 3
    assert [e.data for e in raws if isinstance(e, Message)] == ['{"n": 1}', b'{"n": 2}']
