"""Publish and delivery throughput: one redis-server against a Redis Cluster of 3 masters, same run.

    python -m bench.cluster [--topics 30] [--publishers 2] [--concurrency 16] [--messages 20000] [--rounds 3]

Each case starts fresh servers: one redis-server, and a cluster of 3 masters each with a replica
(6 redis-server processes, on loopback ports, no persistence on either). ``--publishers``
publisher processes publish ``--messages`` messages between them, each with ``--concurrency``
tasks in flight, spread round-robin over ``--topics`` topics; one subscriber process reads every
topic (one subscription for all). Reported per case: publish throughput (messages confirmed per
second, from the first publish to the last confirmation) and delivery throughput (messages
delivered per second, from the first publish to the last delivery): the median of ``--rounds``
rounds (the cases take turns, round after round), the range, and the ratio to the one server.
Cases: RedisBackend on the one server, RedisClusterBackend on the cluster, and the cluster in
durable mode (``replicas=1``: WAIT for a replica before publish() returns).

Wall-clock figures depend on the machine's cores: a cluster on one machine shares them with the
clients. ``--count N URL KIND`` publishes N messages and exits, for instruction counts per publish
(``icount -- python -m bench.cluster --count {n} URL KIND``, servers started separately).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

import anyio

from simple_websocket.fanout import Backend, Broker, Message, RedisBackend, RedisClusterBackend
from tests.support.redis_cluster import cli, redis_cluster
from tests.support.redis_server import free_port, server_command

#: Upper bound for one round of one case.
ROUND_LIMIT = 300.0


def make_backend(url: str, kind: str, retention: int) -> Backend:
    if kind == "server":
        return RedisBackend(url, retention=retention)
    return RedisClusterBackend(url, retention=retention, replicas=1 if kind == "durable" else 0)


def topic_names(count: int) -> list[str]:
    return [f"room:{index}" for index in range(count)]


# -- processes ---------------------------------------------------------------------------------


def subscriber(url: str, kind: str, topics: int, messages: int, ready: ProcessEvent, out: Queue[int]) -> None:
    async def run() -> None:
        async with (
            Broker(make_backend(url, kind, messages + 100)) as broker,
            broker.subscribe(*topic_names(topics), max_backlog=messages + 100) as sub,
        ):
            ready.set()
            delivered = 0
            with anyio.fail_after(ROUND_LIMIT):
                while delivered < messages:
                    if isinstance(await sub.receive(), Message):
                        delivered += 1
            out.put(time.monotonic_ns())

    anyio.run(run)


def publisher(
    url: str, kind: str, topics: int, messages: int, concurrency: int, go: ProcessEvent, out: Queue[tuple[int, int]]
) -> None:
    names = topic_names(topics)

    async def run() -> None:
        async with Broker(make_backend(url, kind, messages + 100), publish_timeout=30) as broker:
            numbers = iter(range(messages))

            async def worker() -> None:
                for number in numbers:
                    await broker.publish(names[number % len(names)], f"message {number}")

            go.wait(ROUND_LIMIT)
            started = time.monotonic_ns()
            with anyio.fail_after(ROUND_LIMIT):
                async with anyio.create_task_group() as group:
                    for _ in range(concurrency):
                        group.start_soon(worker)
            out.put((started, time.monotonic_ns()))

    anyio.run(run)


def one_round(url: str, kind: str, args: argparse.Namespace) -> tuple[float, float]:
    """(published per second, delivered per second) for one round on a running server or cluster."""
    context = multiprocessing.get_context("spawn")
    ready, go = context.Event(), context.Event()
    delivered: Queue[int] = context.Queue()
    published: Queue[tuple[int, int]] = context.Queue()
    share = args.messages // args.publishers
    total = share * args.publishers
    processes = [context.Process(target=subscriber, args=(url, kind, args.topics, total, ready, delivered))]
    processes += [
        context.Process(target=publisher, args=(url, kind, args.topics, share, args.concurrency, go, published))
        for _ in range(args.publishers)
    ]
    for process in processes:
        process.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the subscriber did not start")
        time.sleep(1.0)  # every publisher connected and waiting
        go.set()
        spans = [published.get(timeout=ROUND_LIMIT) for _ in range(args.publishers)]
        last_delivery = delivered.get(timeout=ROUND_LIMIT)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    first = min(start for start, _ in spans)
    last_confirmed = max(end for _, end in spans)
    return total / ((last_confirmed - first) / 1e9), total / ((last_delivery - first) / 1e9)


# -- servers -----------------------------------------------------------------------------------


@contextmanager
def one_server() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        process = subprocess.Popen(
            server_command(port, Path(directory), "--appendonly", "no"), stdout=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 10
            while cli(port, "PING").strip() != "PONG":
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def cluster() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory, redis_cluster(Path(directory)) as running:
        yield running.url


def measure(kind: str, args: argparse.Namespace) -> list[tuple[float, float]]:
    rounds: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        with one_server() if kind == "server" else cluster() as url:
            rounds.append(one_round(url, kind, args))
    return rounds


def count(messages: int, url: str, kind: str) -> None:
    """Publish ``messages`` messages one after the other (for instruction counts per publish)."""

    async def run() -> None:
        async with Broker(make_backend(url, kind, 1000)) as broker:
            for number in range(messages):
                await broker.publish(f"room:{number % 30}", f"message {number}")

    anyio.run(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=30)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="publishes in flight per publisher process")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", nargs=3, metavar=("N", "URL", "KIND"), help="publish N messages (icount)")
    args = parser.parse_args()
    if args.count:
        count(int(args.count[0]), args.count[1], args.count[2])
        return
    # Rounds alternate between the cases, so that a busy spell of the machine hits each alike.
    results: dict[str, list[tuple[float, float]]] = {"server": [], "cluster": [], "durable": []}
    rounds, args.rounds = args.rounds, 1
    for _ in range(rounds):
        for kind, found in results.items():
            found += measure(kind, args)
    print(
        f"{args.messages} messages over {args.topics} topics, {args.publishers} publisher processes x "
        f"{args.concurrency} in flight, 1 subscriber process; median (min-max) of {rounds} rounds"
    )
    base_publish = statistics.median(publish for publish, _ in results["server"])
    base_delivery = statistics.median(delivery for _, delivery in results["server"])
    for kind, label in (
        ("server", "1 redis-server (RedisBackend)"),
        ("cluster", "3-master cluster (RedisClusterBackend)"),
        ("durable", "3-master cluster, replicas=1 (WAIT)"),
    ):
        publish = [value for value, _ in results[kind]]
        delivery = [value for _, value in results[kind]]
        print(
            f"{label:40} publish {_spread(publish)} ({statistics.median(publish) / base_publish:4.2f}x)   "
            f"delivery {_spread(delivery)} ({statistics.median(delivery) / base_delivery:4.2f}x)"
        )


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.0f}/s ({min(values):.0f}-{max(values):.0f})"


if __name__ == "__main__":
    main()
