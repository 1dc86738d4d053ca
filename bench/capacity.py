"""The figures of the capacity model (docs/scaling.md): Redis's CPU and a worker's CPU per operation.

    python -m bench.capacity [--only publish,read,live,delivery,memory] [--publishes 20000]
        [--read-repeats 3] [--readers 2] [--live-topics 100] [--live-rates 500,2000,0]
        [--live-seconds 3] [--delivery-rate 2000] [--delivery-seconds 3] [--connections 1000]
        [--publish-us US] [--json results.json]

Each section starts its own redis-server (127.0.0.1, a free port, no persistence, stopped by its
PID) and reads Redis's own CPU time from ``INFO cpu`` (``used_cpu_user + used_cpu_sys``, and the
main thread's alone) and its per-command counts from ``INFO commandstats``, before and after.
Python's CPU is process time (user + system), not wall clock: on a shared machine the wall clock
says more about the neighbours than about the code.

- publish: ``--publishes`` ``broker.publish()`` calls (RedisBackend's append script, one round
  trip each, as the library does), round robin over 100 topics, 100-byte messages; then the same
  number of plain ``XADD ... MAXLEN 1000`` on one connection, one per round trip; then
  redis-benchmark's XADD with 50 connections. Redis µs per publish, and the publisher's Python µs.
- read: the reader's request (XREAD over the topics named + MGET of their epochs,
  ``RedisBackend.read``) on streams filled beforehand: Redis µs per read (and the time inside
  XREAD and MGET) and the reader's Python µs per read, for 1 to 10,000 topics named with one new
  entry among them, 1,000 topics with 10 to 1,000 of them holding one new entry, 100 topics with
  10 holding 1 to 100 new entries, and one reply of 10,000 entries. Reads are repeated from the
  same cursors, so every read of a shape returns the same batch; each shape is measured
  ``--read-repeats`` times, in turn with the others, and the median shown. Then the cost in parts:
  per read, per topic named, per entry. A read that finds nothing blocks instead; the live
  section has those.
- live: ``--readers`` processes, each a Broker with one subscription on each of ``--live-topics``
  topics, while this process publishes at each of ``--live-rates`` messages/s (0: as fast as it
  can) for ``--live-seconds``. Redis CPU minus the publishes' share (the publish section's figure)
  is the reads' share: per XREAD, per entry read, and entries per XREAD (the batch, which grows
  with the load). Also each reader's Python µs per entry. ``--publish-us`` gives the publishes'
  share instead of measuring it first.
- delivery: one worker-like process (a Broker on Redis, no WebSockets) with K subscriptions on each
  of 10 topics, K in 1, 30, 100, messages published at ``--delivery-rate`` per second for
  ``--delivery-seconds`` (paced, so that every K sees batches of the same size); its Python µs
  per entry read and per local delivery (a least-squares line over K). The WebSocket write comes
  on top: bench/broadcast.py measures the whole path through uvicorn.
- memory: one uvicorn process serving examples/fanout.py on Redis, ``--connections`` WebSocket
  clients (bench/broadcast_clients.py, in a process of their own) in one room: the server's
  resident memory per connection (VmRSS after minus before; the kernel's socket buffers are not in
  it).

At the defaults the whole run takes about a minute and a half. Needs redis-server and
redis-benchmark on PATH, and the dependency group ``bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench.broadcast_clients import run_loop
from bench.broadcast_procs import (
    HOST,
    ROOT,
    ClientProcess,
    ProcessFailed,
    Server,
    cpu_seconds,
    redis_server_version,
    start_redis,
    uvicorn_servers,
)
from simple_websocket.fanout import Broker, Gap, Message, Position, RedisBackend
from simple_websocket.fanout._backend import Kind
from simple_websocket.fanout._resp import RespAddress, RespConnection, RespError

#: A chat-sized message: 100 bytes of JSON.
PAYLOAD = '{"user":"someone","text":"' + "x" * 64 + '","n":0}'
PAYLOAD = PAYLOAD + " " * (100 - len(PAYLOAD))
RETENTION = 1000
#: Upper bound for any one wait on a child process.
WAIT_LIMIT = 120.0
DELIVERY_TOPICS = 10
DELIVERY_FANOUTS = (1, 30, 100)


# -- Redis's own accounting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisCpu:
    """Redis's CPU seconds (all threads, and the main thread) and its per-command calls and µs."""

    total: float
    main: float
    calls: dict[str, int]
    usec: dict[str, int]

    def __sub__(self, other: RedisCpu) -> RedisCpu:
        return RedisCpu(
            self.total - other.total,
            self.main - other.main,
            {name: calls - other.calls.get(name, 0) for name, calls in self.calls.items()},
            {name: usec - other.usec.get(name, 0) for name, usec in self.usec.items()},
        )


async def redis_cpu(connection: RespConnection) -> RedisCpu:
    reply = await connection.call("INFO", "everything")
    if not isinstance(reply, bytes):
        raise RuntimeError(f"INFO answered {reply!r:.100}")
    fields: dict[str, str] = {}
    for line in reply.decode().splitlines():
        name, colon, value = line.partition(":")
        if colon:
            fields[name] = value
    calls: dict[str, int] = {}
    usec: dict[str, int] = {}
    for name, value in fields.items():
        if name.startswith("cmdstat_"):
            stat = dict(part.split("=", 1) for part in value.split(","))
            calls[name[8:]] = int(stat["calls"])
            usec[name[8:]] = int(stat["usec"])
    total = float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"])
    main = float(fields["used_cpu_user_main_thread"]) + float(fields["used_cpu_sys_main_thread"])
    return RedisCpu(total, main, calls, usec)


@asynccontextmanager
async def redis(directory: Path) -> AsyncIterator[tuple[Server, str, RespConnection]]:
    """A fresh redis-server, its URL and a connection to read its INFO on; stopped afterwards."""
    server = start_redis(directory)
    url = f"redis://{HOST}:{server.port}/0"
    address = RespAddress.parse(url)
    assert address is not None
    try:
        info = await RespConnection.open(address)
        try:
            yield server, url, info
        finally:
            await info.aclose()
    finally:
        server.stop()


def topic_name(index: int) -> str:
    return f"room{index}"


# -- publish ------------------------------------------------------------------------------------------


async def publish_section(directory: Path, publishes: int, topics: int = 100) -> dict[str, float]:
    async with redis(directory) as (server, url, info):
        async with Broker(RedisBackend(url, retention=RETENTION)) as broker:
            for index in range(topics):  # the first publish of a topic loads the script and sets its epoch
                await broker.publish(topic_name(index), PAYLOAD)
            before, cpu = await redis_cpu(info), time.process_time()
            for number in range(publishes):
                await broker.publish(topic_name(number % topics), PAYLOAD)
            python = time.process_time() - cpu
            spent = await redis_cpu(info) - before
        # Plain XADD, one per round trip on one connection: what the append script adds to it.
        address = RespAddress.parse(url)
        assert address is not None
        plain = await RespConnection.open(address)
        try:
            before = await redis_cpu(info)
            for number in range(publishes):
                reply = await plain.call(
                    "XADD", f"plain:{number % topics}", "MAXLEN", RETENTION, "*", "k", 1, "d", PAYLOAD
                )
                if isinstance(reply, RespError):
                    raise reply
            xadd = await redis_cpu(info) - before
        finally:
            await plain.aclose()
        before, started = await redis_cpu(info), time.perf_counter()
        benchmark_args = ["-n", str(publishes * 5), "-c", "50", "-q", "XADD", "bench:plain", "MAXLEN", str(RETENTION)]
        subprocess.run(
            ["redis-benchmark", "-h", HOST, "-p", str(server.port), *benchmark_args, "*", "k", "1", "d", PAYLOAD],
            check=True,
            capture_output=True,
            timeout=WAIT_LIMIT,
        )
        benchmark_seconds = time.perf_counter() - started
        benchmark = await redis_cpu(info) - before
    scripts = spent.calls.get("evalsha", 0)
    if scripts != publishes:
        raise RuntimeError(f"expected {publishes} EVALSHA calls, Redis counted {scripts}")
    return {
        "publish redis us": spent.total / publishes * 1e6,
        "publish redis main-thread us": spent.main / publishes * 1e6,
        "publish evalsha command us": spent.usec["evalsha"] / publishes,
        "publish python us": python / publishes * 1e6,
        "xadd redis us": xadd.total / publishes * 1e6,
        "xadd command us": xadd.usec["xadd"] / publishes,
        "redis-benchmark xadd redis us": benchmark.total / (publishes * 5) * 1e6,
        "redis-benchmark xadd per s": publishes * 5 / benchmark_seconds,
    }


# -- read: the reader's request on streams filled beforehand --------------------------------------


async def fill(url: str, depth: dict[int, int], connections: int = 8) -> dict[int, Position]:
    """Append ``depth[i]`` entries to topic i through the library, over several connections at once."""
    heads: dict[int, Position] = {}
    work = [index for index, count in depth.items() for _ in range(count)]

    async def one(share: Sequence[int]) -> None:
        async with RedisBackend(url, retention=RETENTION) as backend:
            for index in share:
                heads[index] = await backend.append(topic_name(index), Kind.TEXT, PAYLOAD, key=uuid.uuid4().hex)

    # Each connection fills whole topics, so that a topic's last append is its head.
    shares = [[index for index in work if index % connections == n] for n in range(connections)]
    await asyncio.gather(*(one(share) for share in shares if share))
    return heads


@dataclass(frozen=True)
class Cell:
    """One shape of read: ``named`` topics in the XREAD, ``streams`` of them with ``each`` new entries."""

    named: int
    streams: int
    each: int


#: Topics named (nothing new in all but one), streams with something new, entries per stream.
READ_CELLS = (
    *(Cell(named, 1, 1) for named in (1, 10, 100, 1000, 10_000)),
    *(Cell(1000, streams, 1) for streams in (10, 100, 1000)),
    *(Cell(100, 10, each) for each in (1, 10, 100)),
    Cell(10, 10, 1000),  # 10,000 entries in one reply: the reader's parse of a large reply
)


async def read_section(directory: Path, repeats: int) -> list[dict[str, float]]:
    depth = dict.fromkeys(range(max(cell.named for cell in READ_CELLS)), 1)
    for cell in READ_CELLS:
        for index in range(cell.streams):
            depth[index] = max(depth[index], cell.each)
    samples: dict[Cell, list[dict[str, float]]] = {cell: [] for cell in READ_CELLS}
    async with redis(directory) as (_, url, info):
        heads = await fill(url, depth)
        async with RedisBackend(url, retention=RETENTION) as backend:
            for _ in range(repeats):  # the cells in turn, then again: a noisy moment spreads over them all
                for cell in READ_CELLS:
                    samples[cell].append(await read_cell(backend, info, heads, cell))
    return [
        {key: statistics.median(sample[key] for sample in cell_samples) for key in cell_samples[0]}
        for cell_samples in samples.values()
    ]


async def read_cell(
    backend: RedisBackend, info: RespConnection, heads: dict[int, Position], cell: Cell
) -> dict[str, float]:
    cursors = {
        topic_name(index): Position(heads[index].seq - (cell.each if index < cell.streams else 0), heads[index].epoch)
        for index in range(cell.named)
    }
    entries = cell.streams * cell.each
    reads = max(5, min(1000, 80_000 // (entries * 2 + cell.named + 100)))
    await backend.read(cursors, timeout=0.001)  # the first of a shape: nothing cold measured
    before, cpu = await redis_cpu(info), time.process_time()
    for _ in range(reads):
        found = await backend.read(cursors, timeout=0.001)
        if len(found) != entries:
            raise RuntimeError(f"read {len(found)} entries, expected {entries}")
    python = time.process_time() - cpu
    spent = await redis_cpu(info) - before
    return {
        "topics named": cell.named,
        "with entries": cell.streams,
        "entries": entries,
        "reads": reads,
        "redis us per read": spent.total / reads * 1e6,
        "xread command us": spent.usec["xread"] / reads,
        "mget command us": spent.usec["mget"] / reads,
        "python us per read": python / reads * 1e6,
        "python us per entry": python / reads / entries * 1e6,
    }


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b x: (a, b)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    return mean_y - slope * mean_x, slope


def read_model(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """The read's cost in parts, for Redis and the reader: per read, per topic named, per entry.

    Per read: 1 topic named, 1 entry. Per topic named, at T topics: (cost at T - cost at 1) / (T - 1),
    each read returning 1 entry (the per-topic cost grows with T, so one line does not fit).
    Per entry: the slope over 100 topics named, 10 of them with 1, 10, 100 entries each.
    """
    model = {}
    one = {row["topics named"]: row for row in rows if row["entries"] == 1}
    batches = [row for row in rows if row["topics named"] == 100 and row["with entries"] == 10]
    for who in ("redis", "python"):
        column = f"{who} us per read"
        model[f"{who} us per read"] = one[1][column]
        for named in sorted(one)[1:]:
            model[f"{who} us per topic named, {named:,} named"] = (one[named][column] - one[1][column]) / (named - 1)
        model[f"{who} us per entry"] = fit([(row["entries"], row[column]) for row in batches])[1]
    return model


# -- reader processes (live and delivery) -------------------------------------------------------------


async def reader_process(url: str, topics: int, per_topic: int, expected: int, limit: float) -> None:
    """A worker without WebSockets: a Broker, ``per_topic`` subscriptions on each topic, counting."""
    delivered = missed = 0
    timed_out = False
    async with Broker(RedisBackend(url, retention=100_000)) as broker:

        async def consume(topic: str, ready: asyncio.Event) -> None:
            nonlocal delivered, missed
            got = 0
            async with broker.subscribe(topic, max_backlog=1024, overflow="drop_oldest") as sub:
                ready.set()
                async for event in sub:
                    if type(event) is Message:
                        got += 1
                    elif isinstance(event, Gap):
                        got += event.missed or 0
                        missed += event.missed or 0
                    if got >= expected:
                        break
            delivered += got

        tasks = []
        for index in range(topics):
            for _ in range(per_topic):
                ready = asyncio.Event()
                tasks.append(asyncio.ensure_future(consume(topic_name(index), ready)))
                await asyncio.wait_for(ready.wait(), 30)
        await asyncio.sleep(0.5)  # the reader's XREAD now names every topic
        print("ready", flush=True)
        cpu = time.process_time()
        done = asyncio.gather(*tasks)
        try:
            await asyncio.wait_for(asyncio.shield(done), limit)
        except asyncio.TimeoutError:
            timed_out = True
        spent = time.process_time() - cpu
        report = {"cpu": spent, "delivered": delivered - missed, "missed": missed, "timed out": timed_out}
        print(json.dumps(report), flush=True)
        done.cancel()


@contextmanager
def readers(url: str, count: int, topics: int, per_topic: int, expected: int) -> Iterator[list[subprocess.Popen[str]]]:
    command = [sys.executable, "-m", "bench.capacity", "--reader", url, str(topics), str(per_topic), str(expected)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(count)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise ProcessFailed(f"reader process {process.pid} did not start")
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def reports(processes: Sequence[subprocess.Popen[str]]) -> list[dict[str, float]]:
    found = []
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()  # the process prints it once it has every message, or at its limit
        if not line:
            raise ProcessFailed(f"reader process {process.pid} ended without a report")
        found.append(json.loads(line))
    return found


async def publish_paced(url: str, topics: int, messages: int, rate: float) -> None:
    async with Broker(RedisBackend(url, retention=100_000)) as broker:
        started = time.monotonic()
        for number in range(messages):
            if rate:
                await asyncio.sleep(max(0.0, started + number / rate - time.monotonic()))
            await broker.publish(topic_name(number % topics), PAYLOAD)


async def live_section(
    directory: Path, reader_count: int, topics: int, rates: Sequence[float], seconds: float, publish_us: float
) -> list[dict[str, float]]:
    rows = []
    for rate in rates:
        # Flood: about what one publisher manages in ``seconds`` on 2 shared cores (3,000-6,000/s).
        messages = int((rate or 6000) * seconds) // topics * topics
        per_topic = messages // topics
        async with redis(directory) as (_, url, info):
            with readers(url, reader_count, topics, 1, per_topic) as processes:
                before = await redis_cpu(info)
                started = time.perf_counter()
                await publish_paced(url, topics, messages, rate)
                published = time.perf_counter() - started
                found = await asyncio.to_thread(reports, processes)
                spent = await redis_cpu(info) - before
        entries = sum(report["delivered"] + report["missed"] for report in found)
        xreads = spent.calls.get("xread", 0)
        read_cpu = spent.total - messages * publish_us / 1e6
        rows.append(
            {
                "rate": messages / published,
                "messages": messages,
                "entries read": entries,
                "xreads": xreads,
                "entries per xread": entries / xreads if xreads else 0.0,
                "redis us per xread": read_cpu / xreads * 1e6 if xreads else 0.0,
                "redis us per entry read": read_cpu / entries * 1e6 if entries else 0.0,
                "redis cpu share of reads": read_cpu / spent.total if spent.total else 0.0,
                "python us per entry": sum(report["cpu"] for report in found) / entries * 1e6 if entries else 0.0,
                "missed": sum(report["missed"] for report in found),
            }
        )
    return rows


async def delivery_section(directory: Path, rate: float, seconds: float) -> dict[str, object]:
    messages = int(rate * seconds) // DELIVERY_TOPICS * DELIVERY_TOPICS
    rows = []
    for fanout in DELIVERY_FANOUTS:
        async with redis(directory) as (_, url, _info):
            with readers(url, 1, DELIVERY_TOPICS, fanout, messages // DELIVERY_TOPICS) as processes:
                await publish_paced(url, DELIVERY_TOPICS, messages, rate)
                (report,) = await asyncio.to_thread(reports, processes)
        rows.append(
            {
                "subscriptions per topic": fanout,
                "python us per entry": report["cpu"] / messages * 1e6,
                "python us per delivery": report["cpu"] / (messages * fanout) * 1e6,
                "missed": report["missed"],
            }
        )
    per_entry, per_delivery = fit([(row["subscriptions per topic"], row["python us per entry"]) for row in rows])
    return {"rows": rows, "python us per entry read": per_entry, "python us per local delivery": per_delivery}


# -- memory per WebSocket connection ------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def memory_section(directory: Path, connections: int) -> dict[str, float]:
    async with redis(directory) as (_, url, _info):
        with uvicorn_servers("capacity", "examples.fanout:app", url, 1, directory) as (server,):
            room = uuid.uuid4().hex
            arguments = ["--kind", "ws", "--port", str(server.port), "--room", room, "--count", "1", "--expected", "1"]
            # One connection first: the room's subscription and whatever the first use allocates.
            warm = await ClientProcess.start("warm-up client", [*arguments, "--idle", "0.1"], directory / "warm.log")
            await warm.read_line(WAIT_LIMIT)
            await asyncio.sleep(0.5)
            before, cpu_before = rss_mib(server.pid), cpu_seconds(server.pid)
            arguments[arguments.index("--count") + 1] = str(connections)
            clients = await ClientProcess.start("clients", [*arguments, "--idle", "0.1"], directory / "clients.log")
            try:
                if await clients.read_line(WAIT_LIMIT) != "ready":
                    raise clients.failed("did not say ready")
                await asyncio.sleep(1.0)
                after, cpu_after = rss_mib(server.pid), cpu_seconds(server.pid)
                await clients.say("done")
                await clients.read_line(WAIT_LIMIT)
                await clients.say("close")
            finally:
                await clients.stop()
                await warm.say("done")
                await warm.say("close")
                await warm.stop()
    return {
        "connections": connections,
        "rss KiB per connection": (after - before) * 1024 / connections,
        "server cpu ms per connect": (cpu_after - cpu_before) * 1000 / connections,
    }


# -- main ---------------------------------------------------------------------------------------------


def versions() -> str:
    names = ("uvicorn", "uvloop", "websockets", "coredis")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return (
        f"Python {platform.python_version()}, redis-server {redis_server_version()}, {', '.join(found)}, "
        f"{os.cpu_count()} CPUs"
    )


def table(rows: Sequence[dict[str, float]]) -> str:
    keys = list(rows[0])
    lines = ["  ".join(f"{key:>14}" for key in keys)]
    for row in rows:
        lines.append(
            "  ".join(f"{row[key]:>14,.2f}" if isinstance(row[key], float) else f"{row[key]:>14,}" for key in keys)
        )
    return "\n".join(lines)


def show(title: str, values: dict[str, float]) -> None:
    print(title)
    for key, value in values.items():
        print(f"  {key:<36} {value:>12,.2f}")


async def run(args: argparse.Namespace) -> None:
    sections = set(args.only.split(",")) if args.only else {"publish", "read", "live", "delivery", "memory"}
    results: dict[str, object] = {"versions": versions()}
    print(results["versions"], flush=True)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        publish_us = args.publish_us
        if "publish" in sections or ("live" in sections and publish_us is None):
            publish = await publish_section(directory, args.publishes)
            results["publish"] = publish
            show("publish: per publish (append script) and per plain XADD", publish)
            publish_us = publish["publish redis us"]
        if "read" in sections:
            rows = await read_section(directory, args.read_repeats)
            model = read_model(rows)
            results["read"] = {"rows": rows, "model": model}
            print("read: one XREAD + MGET naming some topics, some of them with new entries; medians")
            print(table(rows))
            show("read: its cost in parts", model)
        if "live" in sections:
            assert publish_us is not None
            rates = [float(rate) for rate in args.live_rates.split(",")]
            rows = await live_section(directory, args.readers, args.live_topics, rates, args.live_seconds, publish_us)
            results["live"] = rows
            print(f"live: {args.readers} reader processes x {args.live_topics} topics, publishes at each rate")
            print(table(rows))
        if "delivery" in sections:
            delivery = await delivery_section(directory, args.delivery_rate, args.delivery_seconds)
            results["delivery"] = delivery
            print(f"delivery: one process, {DELIVERY_TOPICS} topics, K subscriptions each, no WebSocket")
            fanouts = delivery["rows"]
            assert isinstance(fanouts, list)
            print(table(fanouts))
            print(
                f"  fitted: {delivery['python us per entry read']:.2f} us per entry read + "
                f"{delivery['python us per local delivery']:.2f} us per local delivery"
            )
        if "memory" in sections:
            memory = await memory_section(directory, args.connections)
            results["memory"] = memory
            show("memory: one uvicorn worker (examples/fanout.py), WebSocket connections in one room", memory)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated sections: publish, read, live, delivery, memory")
    parser.add_argument("--publishes", type=int, default=20_000)
    parser.add_argument("--readers", type=int, default=2, help="reader processes in the live section")
    parser.add_argument("--live-topics", type=int, default=100)
    parser.add_argument("--live-rates", default="500,2000,0", help="messages/s, comma-separated; 0: flood")
    parser.add_argument("--live-seconds", type=float, default=3.0)
    parser.add_argument("--publish-us", type=float, help="Redis µs per publish for the live section (default: measure)")
    parser.add_argument("--read-repeats", type=int, default=3, help="measurements per read shape (the median is shown)")
    parser.add_argument("--delivery-rate", type=float, default=2000.0, help="messages/s in the delivery section")
    parser.add_argument("--delivery-seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    parser.add_argument("--reader", nargs=4, metavar=("URL", "TOPICS", "PER_TOPIC", "EXPECTED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if shutil.which("redis-server") is None or shutil.which("redis-benchmark") is None:
        raise SystemExit("redis-server and redis-benchmark must be on PATH (apt-get install redis-server)")
    if args.reader:  # on uvloop when installed, as uvicorn's workers run
        url, topics, per_topic, expected = args.reader
        run_loop(reader_process(url, int(topics), int(per_topic), int(expected), WAIT_LIMIT))
        return
    run_loop(run(args))


if __name__ == "__main__":
    main()
