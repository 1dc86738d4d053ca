"""Fan-out through one redis-server, side by side with broadcaster, and in memory against plain queues.

    python -m bench.fanout [--subscribers 1000] [--processes 2] [--messages 10000] [--rate 0]

Redis: one publisher process publishes ``--messages`` messages (as fast as it can, or at ``--rate``
per second) to one topic; ``--processes`` subscriber processes hold ``--subscribers`` subscribers
between them, each reading every message. Reported per contender: deliveries per second (from the
first publish to the last delivery), latency from publish to delivery (p50, p99, over a sample of
subscribers), memory per idle subscriber (tracemalloc while subscribing) and the subscriber
processes' peak RSS. Contenders: simple_websocket.fanout (Broker + RedisBackend, Redis Streams,
bounded backlog per subscriber) and broadcaster 0.3 (its Redis pub/sub backend, an unbounded queue
per subscriber; see ``broadcast()`` for the one fix it needs to deliver anything). Needs
redis-server on PATH and ``pip install broadcaster[redis]``.

In memory: one process, the same subscribers and messages, Broker() against a hand-written loop
that puts each message into every subscriber's asyncio.Queue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broadcaster import Broadcast

TOPIC = "bench"
#: Every SAMPLE_EVERY-th subscriber records its latencies (recording all would cost more than it measures).
SAMPLE_EVERY = 25
#: Upper bound for one run of one contender.
RUN_LIMIT = 600.0


def stamp(number: int) -> str:
    """A message: its number and the time it was published (CLOCK_MONOTONIC: one clock for every process)."""
    return f"{number} {time.monotonic_ns()}"


def latency_ns(message: str | bytes) -> int:
    text = message if isinstance(message, str) else message.decode()
    return time.monotonic_ns() - int(text.split(" ", 1)[1])


@dataclass
class Tally:
    """What one subscriber process saw."""

    deliveries: int = 0
    missed: int = 0
    last_ns: int = 0
    idle_bytes: float = 0.0
    peak_rss_kib: int = 0

    def __post_init__(self) -> None:
        self.latencies: list[int] = []


# -- subscriber processes ----------------------------------------------------------------------


async def subscribers_ours(url: str, count: int, messages: int, tally: Tally) -> None:
    from simple_websocket.fanout import Broker, Gap, Message, RedisBackend

    async with Broker(RedisBackend(url, retention=messages + 100)) as broker:

        async def subscriber(index: int, registered: asyncio.Event) -> None:
            sample = index % SAMPLE_EVERY == 0
            got = delivered = 0
            async with broker.subscribe(TOPIC, max_backlog=1024, overflow="drop_oldest") as sub:
                registered.set()
                async for event in sub:
                    if type(event) is Message:
                        got += 1
                        delivered += 1
                        if sample:
                            tally.latencies.append(latency_ns(event.data))
                    elif isinstance(event, Gap):  # dropped for this slow subscriber, and counted
                        tally.missed += event.missed or 0
                        got += event.missed or 0
                    if got >= messages:
                        break
            tally.deliveries += delivered
            tally.last_ns = max(tally.last_ns, time.monotonic_ns())

        await run_subscribers(subscriber, count, tally)


def broadcast(url: str) -> Broadcast:
    """broadcaster's Redis pub/sub backend, with the race in its ``subscribe`` fixed.

    As released (0.3.1, with redis-py 8), ``subscribe`` wakes the listener before Redis has
    confirmed the subscription; redis-py's ``listen()`` then ends at once (nothing subscribed yet),
    the listener clears its ready flag and never listens again: no subscriber ever gets a message.
    The subclass sets the flag only once the subscription is confirmed; nothing else changes.
    """
    from broadcaster import Broadcast
    from broadcaster._backends.redis import RedisBackend

    class ConfirmedRedisBackend(RedisBackend):
        async def subscribe(self, channel: str) -> None:
            await self._pubsub.subscribe(channel)
            self._ready.set()

    return Broadcast(backend=ConfirmedRedisBackend(url))


async def subscribers_broadcaster(url: str, count: int, messages: int, tally: Tally) -> None:
    async with broadcast(url) as broadcaster:

        async def subscriber(index: int, registered: asyncio.Event) -> None:
            sample = index % SAMPLE_EVERY == 0
            got = 0
            async with broadcaster.subscribe(channel=TOPIC) as events:
                registered.set()
                while got < messages:
                    event = await events.get()
                    got += 1
                    if sample:
                        tally.latencies.append(latency_ns(event.message))
            tally.deliveries += got
            tally.last_ns = max(tally.last_ns, time.monotonic_ns())

        await run_subscribers(subscriber, count, tally)


async def run_subscribers(
    subscriber: Callable[[int, asyncio.Event], Awaitable[None]], count: int, tally: Tally
) -> None:
    """Start ``count`` subscribers, measure what they hold while idle, say "ready", wait for them to finish.

    They start one after the other: broadcaster loses all but one of several subscriptions to a
    channel that start at once (``Broadcast.subscribe`` replaces the channel's set of queues).
    """
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = []
    for index in range(count):
        registered = asyncio.Event()
        tasks.append(asyncio.ensure_future(subscriber(index, registered)))
        await asyncio.wait_for(registered.wait(), 60)
    tally.idle_bytes = (tracemalloc.get_traced_memory()[0] - before) / count
    tracemalloc.stop()
    print("ready", flush=True)
    await asyncio.wait_for(asyncio.gather(*tasks), RUN_LIMIT)


def subscriber_process(contender: str, url: str, count: int, messages: int) -> None:
    tally = Tally()
    run = subscribers_ours if contender == "simple_websocket" else subscribers_broadcaster
    asyncio.run(run(url, count, messages, tally))
    tally.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({**vars(tally), "latencies": tally.latencies}), flush=True)


# -- the publisher and the orchestration ---------------------------------------------------------


@asynccontextmanager
async def publisher(contender: str, url: str) -> AsyncIterator[Callable[[str], Awaitable[object]]]:
    if contender == "simple_websocket":
        from simple_websocket.fanout import Broker, RedisBackend

        async with Broker(RedisBackend(url, retention=1_000_000)) as broker:
            yield lambda message: broker.publish(TOPIC, message)
    else:
        async with broadcast(url) as broadcaster:
            yield lambda message: broadcaster.publish(channel=TOPIC, message=message)


async def publish_all(contender: str, url: str, messages: int, rate: float) -> int:
    async with publisher(contender, url) as publish:
        started = time.monotonic_ns()
        for number in range(messages):
            if rate:
                await asyncio.sleep(max(0.0, started / 1e9 + number / rate - time.monotonic()))
            await publish(stamp(number))
        return started


def run_redis_contender(contender: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    per_process = args.subscribers // args.processes
    command = [
        sys.executable,
        "-m",
        "bench.fanout",
        "--subscriber-process",
        contender,
        url,
        str(per_process),
        str(args.messages),
    ]
    root = Path(__file__).resolve().parent.parent
    processes = [
        subprocess.Popen(
            command, cwd=root, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)}
        )
        for _ in range(args.processes)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"{contender}: a subscriber process failed to start")
        started = asyncio.run(publish_all(contender, url, args.messages, args.rate))
        tallies = []
        for process in processes:
            out, _ = process.communicate(timeout=RUN_LIMIT)
            tallies.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    latencies = sorted(latency for tally in tallies for latency in tally["latencies"])
    deliveries = sum(tally["deliveries"] for tally in tallies)
    seconds = (max(tally["last_ns"] for tally in tallies) - started) / 1e9
    return {
        "deliveries/s": deliveries / seconds,
        "deliveries": deliveries,
        "missed": sum(tally["missed"] for tally in tallies),
        "p50 ms": percentile(latencies, 50) / 1e6,
        "p99 ms": percentile(latencies, 99) / 1e6,
        "B/subscriber": statistics.mean(tally["idle_bytes"] for tally in tallies),
        "peak RSS MiB": max(tally["peak_rss_kib"] for tally in tallies) / 1024,
    }


def percentile(values: list[int], pct: float) -> float:
    if not values:
        return float("nan")
    return float(values[min(len(values) - 1, int(len(values) * pct / 100))])


@asynccontextmanager
async def nothing() -> AsyncIterator[None]:
    yield


def redis_server() -> tuple[subprocess.Popen[bytes], str, tempfile.TemporaryDirectory[str]]:
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    directory = tempfile.TemporaryDirectory()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            directory.name,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0", directory


# -- in memory -----------------------------------------------------------------------------------


async def memory_ours(count: int, messages: int) -> float:
    import anyio

    from simple_websocket.fanout import Broker, Gap, Message

    async with Broker() as broker:
        done = 0
        ready = anyio.Event()
        registered = 0

        async def subscriber() -> None:
            nonlocal done, registered
            got = 0
            async with broker.subscribe(TOPIC, max_backlog=1024) as sub:
                registered += 1
                if registered == count:
                    ready.set()
                async for event in sub:
                    got += 1 if type(event) is Message else 0
                    if got == messages or isinstance(event, Gap):  # a Gap: fell behind, the count fails
                        break
            done += got

        async with anyio.create_task_group() as group:
            for _ in range(count):
                group.start_soon(subscriber)
            await ready.wait()
            started = time.perf_counter()
            for number in range(messages):
                await broker.publish(TOPIC, str(number))
        assert done == count * messages
        return count * messages / (time.perf_counter() - started)


async def memory_queues(count: int, messages: int) -> float:
    """The hand-written loop: each subscriber an asyncio.Queue, the publisher puts into each."""
    queues: list[asyncio.Queue[str]] = [asyncio.Queue(maxsize=1024) for _ in range(count)]
    done = 0

    async def subscriber(queue: asyncio.Queue[str]) -> None:
        nonlocal done
        for _ in range(messages):
            await queue.get()
        done += messages

    tasks = [asyncio.ensure_future(subscriber(queue)) for queue in queues]
    started = time.perf_counter()
    for number in range(messages):
        message = str(number)
        for queue in queues:
            await queue.put(message)  # waits if a subscriber is 1024 behind: no unbounded growth
    await asyncio.gather(*tasks)
    assert done == count * messages
    return count * messages / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=0.0, help="messages per second (0: as fast as possible)")
    parser.add_argument("--only", choices=["redis", "memory"])
    parser.add_argument(
        "--count",
        choices=["ours", "queues"],
        help="run one in-memory contender for --messages messages, to count its instructions: "
        "icount -- python -m bench.fanout --count ours --subscribers 100 --messages {n}",
    )
    parser.add_argument(
        "--subscriber-process", nargs=4, metavar=("CONTENDER", "URL", "COUNT", "MESSAGES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.count:
        asyncio.run((memory_ours if args.count == "ours" else memory_queues)(args.subscribers, args.messages))
        return
    if args.subscriber_process:
        contender, url, count, messages = args.subscriber_process
        subscriber_process(contender, url, int(count), int(messages))
        return

    print(
        f"{args.subscribers} subscribers in {args.processes} processes, {args.messages} messages"
        f"{f' at {args.rate:g}/s' if args.rate else ' as fast as possible'}, Python {sys.version.split()[0]}"
    )
    if args.only != "memory":
        server, url, directory = redis_server()
        try:
            results = {name: run_redis_contender(name, url, args) for name in ("simple_websocket", "broadcaster")}
        finally:
            server.kill()
            server.wait()
            directory.cleanup()
        ours, theirs = results["simple_websocket"], results["broadcaster"]
        print(f"{'through redis-server':<22}" + "".join(f"{key:>16}" for key in ours))
        for name, row in results.items():
            print(f"{name:<22}" + "".join(f"{value:>16,.1f}" for value in row.values()))
        print(
            f"{'ratio (ours/theirs)':<22}"
            + "".join(f"{ours[key] / theirs[key]:>16.2f}" if theirs[key] else f"{'':>16}" for key in ours)
        )
    if args.only != "redis":
        count, messages = args.subscribers, min(args.messages, 2000)
        ours_rate = asyncio.run(memory_ours(count, messages))
        queues_rate = asyncio.run(memory_queues(count, messages))
        print(
            f"in memory, {count} subscribers x {messages} messages: simple_websocket {ours_rate:,.0f} "
            f"deliveries/s, asyncio.Queue loop {queues_rate:,.0f} deliveries/s, ratio {ours_rate / queues_rate:.2f}"
        )


if __name__ == "__main__":
    main()
