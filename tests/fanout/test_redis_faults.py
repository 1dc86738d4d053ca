"""Faults on a real redis-server: killed with SIGKILL and restarted, cut off by a partition, wiped.

Each test writes what it counted (published, delivered, lost, duplicated, gaps) to
test-artifacts/fanout-faults-*.txt.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import anyio
import pytest

from simple_websocket import BrokerUnavailable, InvalidArgument
from simple_websocket.fanout import Broker, Event, Gap, Left, Message, Position, RedisBackend, Subscription

from ..support.redis_server import RedisServer, redis_server
from ..support.servers import ROOT
from ..support.tcp_proxy import proxy_to
from .conftest import FAILED_CONNECTIONS

pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]

LIMIT = 60.0
PER_PUBLISHER = 150
KILL_AT = 50


def record(name: str, text: str) -> None:
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / name).write_text(text)


async def read_until(sub: Subscription[object], messages: int, into: list[Event[object]]) -> None:
    """Collect events until ``messages`` Messages came (every wait bounded by the caller)."""
    while sum(isinstance(event, Message) for event in into) < messages:
        into.append(await sub.receive())


async def test_nothing_lost_or_duplicated_across_a_redis_crash(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:

        def backend() -> RedisBackend:  # one per process
            return RedisBackend(server.url, retention=10_000)

        published: dict[str, Position] = {}
        seen: list[list[Event[object]]] = [[], []]
        async with (
            Broker(backend()) as sub_one,
            Broker(backend()) as sub_two,
            sub_one.subscribe("feed", max_backlog=1000) as first,
            sub_two.subscribe("feed", max_backlog=1000) as second,
            Broker(backend(), publish_timeout=15) as pub_a,
            Broker(backend(), publish_timeout=15) as pub_b,
        ):

            async def publish_all(name: str, publisher: Broker) -> None:
                for i in range(PER_PUBLISHER):
                    if name == "a" and i == KILL_AT:  # mid-stream, while b keeps publishing
                        server.kill()
                        await anyio.sleep(0.5)
                        server.start()
                    published[f"{name}{i}"] = await publisher.publish("feed", f"{name}{i}")
                    await anyio.sleep(0.002)

            with anyio.fail_after(LIMIT):
                async with anyio.create_task_group() as group:
                    group.start_soon(publish_all, "a", pub_a)
                    group.start_soon(publish_all, "b", pub_b)
                    group.start_soon(read_until, first, 2 * PER_PUBLISHER, seen[0])
                    group.start_soon(read_until, second, 2 * PER_PUBLISHER, seen[1])

    total = 2 * PER_PUBLISHER
    messages = [[(e.position, e.data) for e in events if isinstance(e, Message)] for events in seen]
    gaps = [e for events in seen for e in events if isinstance(e, Gap)]
    delivered = Counter(data for data_seq in messages for _, data in data_seq)
    lost = set(published) - set(delivered)
    duplicated = {data for data, count in delivered.items() if count > 2}
    record(
        "fanout-faults-crash.txt",
        f"redis-server killed (SIGKILL) after {KILL_AT} of one publisher's messages and restarted on its AOF "
        f"data: 2 publishers published {len(published)}, 2 subscribers in other processes each got "
        f"{len(messages[0])} and {len(messages[1])}; lost {len(lost)}, duplicated {len(duplicated)}, "
        f"gaps {len(gaps)}, same order on both: {messages[0] == messages[1]}\n",
    )
    assert len(published) == total and not lost and not duplicated and not gaps
    assert messages[0] == messages[1], "the two subscribers saw different orders"
    assert [position.seq for position, _ in messages[0]] == list(range(1, total + 1))
    assert {data: position for position, data in messages[0]} == published  # where its publisher was told
    for name in "ab":  # each publisher's messages in the order it published them
        assert [d for _, d in messages[0] if str(d)[0] == name] == [f"{name}{i}" for i in range(PER_PUBLISHER)]


async def test_a_cut_off_process_catches_up_within_the_window_and_is_told_of_a_gap_beyond(tmp_path: Path) -> None:
    retention = 50
    with redis_server(tmp_path) as server:
        async with (
            proxy_to(server.port) as proxy,
            Broker(RedisBackend(server.url, retention=retention)) as publisher,
            Broker(RedisBackend(proxy.url, retention=retention, timeout=1.0)) as cut_off,
            cut_off.subscribe("feed", max_backlog=1000) as sub,
        ):
            events: list[Event[object]] = []
            with anyio.fail_after(LIMIT):
                for i in range(10):
                    await publisher.publish("feed", f"before {i}")
                await read_until(sub, 10, events)

                proxy.cut()  # shorter than the window: everything is delivered late, once, in order
                for i in range(30):
                    await publisher.publish("feed", f"within {i}")
                await anyio.sleep(1.5)  # the reader has noticed and is retrying
                await proxy.restore()
                await read_until(sub, 40, events)

                proxy.cut()  # longer than the window: a gap, then what the broker still holds
                for i in range(retention + 30):
                    await publisher.publish("feed", f"beyond {i}")
                await anyio.sleep(1.5)
                await proxy.restore()
                await read_until(sub, 40 + retention, events)

    data = [e.data for e in events if isinstance(e, Message)]
    gaps = [e for e in events if isinstance(e, Gap)]
    published = 10 + 30 + retention + 30
    record(
        "fanout-faults-partition.txt",
        f"a subscriber's process cut off from Redis twice (retention {retention}): published {published}; "
        f"delivered {len(data)}, duplicated {len(data) - len(set(data))}, gaps {[(g.missed, g.cause) for g in gaps]}; "
        f"cut off for 30 messages: all delivered; for {retention + 30}: a gap of 30, then the last {retention}\n",
    )
    assert data == (
        [f"before {i}" for i in range(10)]
        + [f"within {i}" for i in range(30)]
        + [f"beyond {i}" for i in range(30, retention + 30)]
    )
    assert [(gap.missed, gap.cause) for gap in gaps] == [(30, "retention")]
    assert events.index(gaps[0]) == 40  # exactly where the missing messages were


@pytest.mark.parametrize(
    ("loss", "published_after"),
    [("restart", 3), ("flushall", 3), ("flushall", 8)],
    ids=["restart", "flush", "flush-busy"],
)
async def test_a_redis_that_lost_its_data_is_reported_as_a_reset(
    tmp_path: Path, loss: str, published_after: int
) -> None:
    """Redis restarted without persistence, or flushed under a live connection. After a flush no
    connection drops: only the epochs read with each XREAD can tell. The reader's cursor is 5:
    after 3 new entries XREAD alone would wait for a sixth; after 8 it would take the new 6-8 for
    the ones after the old 5, and 1-5 would be lost without a word."""
    import coredis

    with redis_server(tmp_path) as server:
        async with (
            Broker(RedisBackend(server.url)) as publisher,
            Broker(RedisBackend(server.url)) as subscriber,
            subscriber.subscribe("feed") as sub,
        ):
            events: list[Event[object]] = []
            with anyio.fail_after(LIMIT):
                for i in range(5):
                    await publisher.publish("feed", f"old {i}")
                await read_until(sub, 5, events)
                if loss == "restart":
                    server.kill()
                    wipe(server)
                    server.start()
                else:
                    async with coredis.Redis.from_url(server.url) as admin:
                        await admin.flushall()
                for i in range(published_after):
                    await publisher.publish("feed", f"new {i}")
                await read_until(sub, 5 + published_after, events)
    assert [e.data for e in events if isinstance(e, Message)] == [f"old {i}" for i in range(5)] + [
        f"new {i}" for i in range(published_after)
    ]
    assert [(e.missed, e.cause, e.position.seq) for e in events if isinstance(e, Gap)] == [(None, "reset", 0)]


def wipe(server: RedisServer) -> None:
    for path in server.directory.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


async def test_publishing_while_redis_is_down_fails_in_time_and_works_again_after(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        async with Broker(RedisBackend(server.url, timeout=0.5), publish_timeout=1.0) as broker:
            await broker.publish("feed", "before")
            server.kill()
            started = anyio.current_time()
            with anyio.fail_after(LIMIT), pytest.raises(BrokerUnavailable):
                await broker.publish("feed", "while down")
            took = anyio.current_time() - started
            server.start()
            with anyio.fail_after(LIMIT):
                assert (await broker.publish("feed", "after")).seq == 2  # "while down" was never published
    assert took < 1.0 + 0.5 + 0.5


async def test_a_dead_process_members_are_reaped(tmp_path: Path) -> None:
    ttl = 1.5
    with redis_server(tmp_path) as server:
        async with Broker(RedisBackend(server.url), presence_ttl=ttl) as broker, broker.subscribe("chat") as sub:
            # A process that joined and then died: its owner never sends a heartbeat.
            assert await broker.backend.join("chat", "ghost", owner="a-dead-process")
            with anyio.fail_after(ttl * 4 / 3 + 2):
                events = [await sub.receive(), await sub.receive()]
            assert isinstance(events[1], Left) and events[1].member == "ghost" and events[1].lost
            assert await broker.members("chat") == frozenset()


async def test_a_process_taken_for_dead_rejoins_its_members_when_it_is_back(tmp_path: Path) -> None:
    ttl = 1.0
    with redis_server(tmp_path) as server:
        async with (
            proxy_to(server.port) as proxy,
            Broker(RedisBackend(server.url), presence_ttl=ttl) as watcher,
            Broker(RedisBackend(proxy.url, timeout=0.5), presence_ttl=ttl, publish_timeout=1.0) as cut_off,
            watcher.subscribe("chat") as sub,
        ):
            events: list[Event[object]] = []
            with anyio.fail_after(LIMIT):
                assert await cut_off.join("chat", "ann")
                events.append(await sub.receive())
                proxy.cut()  # no heartbeat gets through: the watcher reaps ann
                events.append(await sub.receive())
                await proxy.restore()  # back: ann is still connected there, so it joins again
                events.append(await sub.receive())
                assert await watcher.members("chat") == frozenset({"ann"})
                await cut_off.leave("chat", "ann")
                events.append(await sub.receive())
    assert [(type(e).__name__, getattr(e, "lost", None)) for e in events] == [
        ("Joined", None),
        ("Left", True),
        ("Joined", None),
        ("Left", False),
    ]


async def test_durable_mode_without_a_replica_never_confirms(tmp_path: Path) -> None:
    """replicas=1 on a server that has none: WAIT never counts one, so publish() fails in time."""
    with redis_server(tmp_path) as server:
        backend = RedisBackend(server.url, timeout=0.3, replicas=1)
        async with Broker(backend, publish_timeout=1.0) as broker:
            started = anyio.current_time()
            with anyio.fail_after(LIMIT), pytest.raises(BrokerUnavailable):
                await broker.publish("feed", "unconfirmed")
            took = anyio.current_time() - started
            head = await backend.head("feed")
    assert head.seq == 1  # appended once (the retries found its key), but never confirmed
    assert took < 1.0 + 0.3 + 0.5


def test_durable_mode_needs_a_plain_url_and_a_count() -> None:
    with pytest.raises(InvalidArgument):
        RedisBackend("redis://127.0.0.1:6379/0?client_name=x", replicas=1)
    with pytest.raises(InvalidArgument):
        RedisBackend("redis://127.0.0.1:6379/0", replicas=-1)
