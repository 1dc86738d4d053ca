"""RedisClusterBackend on a real Redis Cluster (3 masters, 3 replicas): spread, presence, failover.

The rest of the fan-out suite runs on the session's cluster through ``make_backend``. The
failover tests kill a master with SIGKILL on a cluster of their own and write what they counted
(published, confirmed, delivered, lost, gaps) to test-artifacts/fanout-cluster-failover-*.txt.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
import pytest

from simple_websocket import BrokerUnavailable, InvalidArgument
from simple_websocket.fanout import (
    Broker,
    Event,
    Gap,
    Kind,
    Left,
    Message,
    Position,
    RedisClusterBackend,
    Subscription,
)

from ..support.redis_cluster import START_LIMIT, RedisCluster, cli, redis_cluster
from .conftest import FAILED_CONNECTIONS
from .test_redis_faults import record

pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]

LIMIT = 60.0


async def test_topics_spread_over_every_master_and_braces_stay_inside_the_tag(
    redis_cluster: RedisCluster, anyio_backend: str
) -> None:
    names = [f"room:{i}" for i in range(12)] + ["a{b}c", "{", "}", "%7B", "{x}", "x"]
    async with Broker(RedisClusterBackend(redis_cluster.url, namespace=f"spread-{anyio_backend}")) as broker:
        backend = broker.backend
        assert isinstance(backend, RedisClusterBackend)
        with anyio.fail_after(LIMIT):
            async with broker.subscribe(*names) as sub:
                for name in names:
                    await broker.publish(name, name)
                events = [await sub.receive() for _ in names]
            masters = {backend.master_of(name) for name in names}
    assert sorted((e.topic, e.data, e.position.seq) for e in events if isinstance(e, Message)) == sorted(
        (name, name, 1) for name in names
    )
    assert {address.port for address in masters if address is not None} == set(redis_cluster.masters())


def test_a_cluster_url_names_one_node_of_database_0() -> None:
    for url in ("unix:///tmp/redis.sock", "redis://127.0.0.1:7000/1", "redis://127.0.0.1:7000?x=1"):
        with pytest.raises(InvalidArgument):
            RedisClusterBackend(url)


async def test_a_dead_process_members_are_reaped_on_a_cluster(redis_cluster: RedisCluster, anyio_backend: str) -> None:
    ttl = 1.5
    backend = RedisClusterBackend(redis_cluster.url, namespace=f"reap-{anyio_backend}")
    async with Broker(backend, presence_ttl=ttl) as broker, broker.subscribe("chat") as sub:
        assert await broker.join("chat", "alive")  # this process's heartbeats keep it
        # A process that joined and then died: its owner never sends a heartbeat.
        assert await backend.join("chat", "ghost", owner="a-dead-process")
        with anyio.fail_after(ttl * 4 / 3 + 3):
            events = [await sub.receive() for _ in range(3)]
            await anyio.sleep(ttl)  # several beats and reaps later, "alive" is still there
            members = await broker.members("chat")
    assert isinstance(events[2], Left) and events[2].member == "ghost" and events[2].lost
    assert members == frozenset({"alive"})


async def test_a_new_master_starts_a_new_epoch_and_keeps_the_old_one_up_to_its_start(
    redis_cluster: RedisCluster, anyio_backend: str
) -> None:
    """The first write on a master other than the topic's last (a failover, a moved slot) starts
    a new epoch numbered after the counter; the old epoch's entries up to there stay replayable."""
    async with RedisClusterBackend(redis_cluster.url, namespace=f"lineage-{anyio_backend}") as backend:
        with anyio.fail_after(LIMIT):
            for i in range(3):
                await backend.append("t", Kind.TEXT, f"m{i}", key=f"k{i}")
            old = (await backend.head("t")).epoch
            # As if another master had written the topic last.
            await backend._redis().set(backend._keys("t")[6], b"another-master")
            new = await backend.append("t", Kind.TEXT, "new", key="k3")
            head = await backend.head("t")
            again = await backend.append("t", Kind.TEXT, "again", key="k4")
            replayed = await backend.replay("t", Position(1, old), 3)
            beyond = await backend.replay("t", Position(1, old), 4)
    assert new.epoch != old and (new.seq, again) == (4, Position(5, new.epoch))
    assert (head.seq, head.start, head.previous, head.epoch) == (4, 3, old, new.epoch)
    assert [entry.payload for entry in replayed or ()] == ["m1", "m2"]
    assert beyond is None  # past the old epoch's end: not the old epoch's entries


async def test_a_topic_moved_to_another_master_while_in_use(redis_cluster: RedisCluster, anyio_backend: str) -> None:
    """Resharding: the topic's slot migrates key by key (ASK), then moves (MOVED) while a process
    publishes and another reads. Nothing is lost; the new master starts a new epoch (one reset Gap)."""
    topic = f"moving-{anyio_backend}"
    backend = RedisClusterBackend(redis_cluster.url, namespace="move")
    published: dict[str, Position] = {}
    events: list[Event[object]] = []
    async with (
        Broker(backend, publish_timeout=20) as publisher,
        Broker(RedisClusterBackend(redis_cluster.url, namespace="move")) as reader,
        reader.subscribe(topic, max_backlog=1000) as sub,
    ):
        published["m0"] = await publisher.publish(topic, "m0")
        source = backend.master_of(topic)
        assert source is not None
        target = next(port for port in redis_cluster.masters() if port != source.port)
        slot = int(cli(source.port, "CLUSTER", "KEYSLOT", backend._keys(topic)[0]))

        async def publish_all() -> None:
            for i in range(1, 120):
                published[f"m{i}"] = await publisher.publish(topic, f"m{i}")
                await anyio.sleep(0.005)

        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(publish_all)
                await anyio.sleep(0.1)
                await anyio.to_thread.run_sync(lambda: redis_cluster.move_slot(slot, target, pause=0.05))
            await publisher.publish(topic, "end")
            await read_until_data(sub, "end", events)
        moved = backend.master_of(topic)
    data = [str(event.data) for event in events if isinstance(event, Message) and event.data != "end"]
    gaps = [(event.missed, event.cause) for event in events if isinstance(event, Gap)]
    missed = set(published) - set(data)
    record(
        f"fanout-cluster-resharding-{anyio_backend}.txt",
        f"a topic's slot moved to another master while in use: published {len(published)}, delivered "
        f"{len(data)} (twice: {len(data) - len(set(data))}), missed {len(missed)}, gaps {gaps}\n",
    )
    assert moved is not None and moved.port == target
    assert len(data) == len(set(data)), "a message delivered twice"
    assert not missed or gaps, f"missed {sorted(missed)} without a Gap"
    assert all(cause == "reset" for _, cause in gaps)
    for event in events:  # where its publisher was told, in whichever epoch
        if isinstance(event, Message) and event.data in published:
            assert published[str(event.data)] == event.position


# -- failover --------------------------------------------------------------------------------

PER_PUBLISHER = 150
KILL_AT = 50


@pytest.fixture(scope="module")
def failover_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A cluster of the failover tests' own: each kills a master and starts it again as a replica."""
    with redis_cluster(tmp_path_factory.mktemp("failover-cluster")) as cluster:
        yield cluster


@dataclass
class Tally:
    published: int = 0
    confirmed: dict[str, Position] = field(default_factory=dict)
    seen: list[list[Event[object]]] = field(default_factory=lambda: [[], []])


def lose_the_replicas_link(cluster: RedisCluster, master: int) -> int:
    """Cut ``master``'s replica off (stopped, and its link closed by the master): what the master
    writes from now on is on the master only. Returns the replica's PID."""
    process = cluster.node(cluster.replica_of(master)).process
    assert process is not None
    os.kill(process.pid, signal.SIGSTOP)
    cli(master, "CLIENT", "KILL", "TYPE", "replica")
    return process.pid


def fail_over(cluster: RedisCluster, master: int, replica_pid: int) -> None:
    """SIGKILL the master, let its replica go on, wait until the replica serves its slots, then
    start the killed node again (it comes back as the new master's replica)."""
    cluster.node(master).kill()
    os.kill(replica_pid, signal.SIGCONT)
    deadline = time.monotonic() + START_LIMIT
    while master in cluster.masters() or len(cluster.masters()) < 3:
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not take over")
        time.sleep(0.05)
    cluster.node(master).start()


@pytest.mark.parametrize("durable", [False, True], ids=["default", "durable"])
async def test_a_master_killed_mid_stream(failover_cluster: RedisCluster, durable: bool, anyio_backend: str) -> None:
    cluster = failover_cluster
    topic = f"feed-{anyio_backend}-{'durable' if durable else 'default'}"
    replicas = 1 if durable else 0

    def backend(timeout: float = 5.0) -> RedisClusterBackend:  # one per process
        return RedisClusterBackend(cluster.url, retention=10_000, replicas=replicas, timeout=timeout)

    tally = Tally()
    async with (
        Broker(backend()) as sub_one,
        Broker(backend()) as sub_two,
        sub_one.subscribe(topic, max_backlog=2000) as first,
        sub_two.subscribe(topic, max_backlog=2000) as second,
        Broker(backend(timeout=1.0), publish_timeout=30) as pub_a,
        Broker(backend(timeout=1.0), publish_timeout=30) as pub_b,
    ):
        start = await pub_a.publish(topic, "start")
        master = sub_one.backend.master_of(topic)  # type: ignore[attr-defined]  # a RedisClusterBackend
        assert master is not None and master.port in cluster.masters()

        async def publish_all(name: str, publisher: Broker) -> None:
            for i in range(PER_PUBLISHER):
                if name == "a" and i == KILL_AT:  # mid-stream, while b keeps publishing
                    pid = await anyio.to_thread.run_sync(lose_the_replicas_link, cluster, master.port)
                    await anyio.sleep(0.3)  # b's entries now reach the master only
                    await anyio.to_thread.run_sync(fail_over, cluster, master.port, pid)
                tally.published += 1
                try:
                    tally.confirmed[f"{name}{i}"] = await publisher.publish(topic, f"{name}{i}")
                except BrokerUnavailable:
                    pass  # not confirmed: counted as such
                await anyio.sleep(0.002)

        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(publish_all, "a", pub_a)
                group.start_soon(publish_all, "b", pub_b)
            await pub_a.publish(topic, "end")
            for sub, into in zip((first, second), tally.seen, strict=True):
                await read_until_data(sub, "end", into)
            after = {str(message.data) for message in await pub_a.history(topic, 10_000)}
        await anyio.to_thread.run_sync(restored, cluster)
    check(tally, after, start, durable, anyio_backend)


async def read_until_data(sub: Subscription[object], last: str, into: list[Event[object]]) -> None:
    while not (into and isinstance(into[-1], Message) and into[-1].data == last):
        into.append(await sub.receive())


def restored(cluster: RedisCluster) -> None:
    deadline = time.monotonic() + START_LIMIT
    cluster.wait_ok(deadline)
    cluster.wait_replicas_synced(deadline)


def check(tally: Tally, after: set[str], start: Position, durable: bool, anyio_backend: str) -> None:
    """What every mode guarantees, and what each one adds; the counts go to test-artifacts."""
    confirmed = tally.confirmed
    lost = {data for data in confirmed if data not in after}  # confirmed, and gone from Redis
    lines = []
    by_position: dict[Position, object] = {}
    for index, events in enumerate(tally.seen):
        messages = [event for event in events if isinstance(event, Message) and event.data not in ("start", "end")]
        gaps = [event for event in events if isinstance(event, Gap)]
        delivered = [str(message.data) for message in messages]
        # Never a wrong or a repeated seq: within an epoch, seqs only go up, and one position
        # names one message for every subscriber.
        last: dict[str, int] = {}
        for event in events:
            position = event.position
            assert position.seq > last.get(position.epoch, -1) or isinstance(event, Gap), f"seq went back: {event}"
            last[position.epoch] = position.seq
            if isinstance(event, Message):
                assert by_position.setdefault(position, event.data) == event.data, f"two messages at {position}"
        # A confirmed message this subscriber did not get shows as a Gap.
        missed = set(confirmed) - set(delivered)
        assert not missed or gaps, f"subscriber {index} missed {sorted(missed)} without a Gap"
        lines.append(
            f"subscriber {index}: delivered {len(set(delivered))} (twice: {len(delivered) - len(set(delivered))}), "
            f"missed {len(missed)} of the confirmed, gaps {[(gap.missed, gap.cause) for gap in gaps]}"
        )
        if durable:
            assert not missed, f"durable mode: subscriber {index} missed confirmed messages {sorted(missed)}"
        # A message delivered twice was published again after the failover (its first copy, read
        # from the old master, was not confirmed): once per epoch at the most.
        for data in {data for data in delivered if delivered.count(data) > 1}:
            epochs = [message.position.epoch for message in messages if message.data == data]
            assert len(set(epochs)) == len(epochs), f"{data} delivered twice in one epoch"
    if durable:
        assert not lost, f"durable mode lost confirmed messages: {sorted(lost)}"
    summary = (
        f"{'durable (replicas=1)' if durable else 'default'} mode, {anyio_backend}: a master killed (SIGKILL) "
        f"mid-stream, its replica cut off for the last 0.3 s before: published {tally.published}, "
        f"confirmed {len(confirmed)}, lost (confirmed, gone from Redis after the failover) {len(lost)}"
        f"{_seqs(confirmed[data] for data in lost)}\n"
    )
    record(
        f"fanout-cluster-failover-{'durable' if durable else 'default'}-{anyio_backend}.txt",
        summary + "\n".join(lines) + "\n",
    )
    assert tally.published == 2 * PER_PUBLISHER


def _seqs(positions: Iterable[Position]) -> str:
    """Where the lost messages were: the seqs from and to, per epoch."""
    by_epoch: dict[str, list[int]] = {}
    for position in positions:
        by_epoch.setdefault(position.epoch, []).append(position.seq)
    return "".join(f", seq {min(seqs)}-{max(seqs)} of epoch {epoch}" for epoch, seqs in by_epoch.items())
