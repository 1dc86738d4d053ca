"""``python -m examples.chat --metrics``: /metrics in Prometheus's format, every worker's series, a real Prometheus."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from examples.chat.metrics import DIRECTORY_ENV, STALE, Exposition, merge

from ..support.chat_clients import Chatter, is_message, join
from ..support.chat_processes import chat_process, children, wait_for_page
from ..support.prometheus import Prometheus, prometheus_server
from ..support.redis_server import RedisServer, redis_server
from ..support.servers import HOST, LOGS, ROOT, free_port, stop

#: The Prometheus names of simple_websocket's instruments, as the OpenTelemetry exporter writes them.
ACTIVE = "websocket_server_active_connections"
RECEIVED = "websocket_server_received_messages_total"
PUBLISHED = "websocket_fanout_published_total"
REACHABLE = "websocket_fanout_broker_reachable"
LIMIT = 30.0
#: Messages each client says in the Prometheus test.
SAYS = 3
#: Clients connected at first; more (up to MAX_CLIENTS) if they all landed on one worker.
CLIENTS = 6
MAX_CLIENTS = 24


def families(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def get(url: str) -> tuple[int, str, str]:
    """Status, content type and body of a GET (an HTTP error's too)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


# -- Merging the workers' expositions (in this process) -------------------------------------------


def exposition(connections: float, received: float) -> bytes:
    """A worker's exposition: a gauge, ``connections``, and a counter, ``messages``."""
    registry = CollectorRegistry()
    Gauge("connections", "Open connections.", registry=registry).set(connections)
    Counter("messages", "Messages.", ["kind"], registry=registry).labels("text").inc(received)
    return generate_latest(registry)


def test_merge_keeps_every_workers_series_apart_by_a_worker_label() -> None:
    merged = families(merge([(11, exposition(2, 5)), (12, exposition(3, 7)), (13, b"not { an exposition")]).decode())
    assert merged["connections"].type == "gauge"
    assert sorted((s.labels["worker"], s.value) for s in merged["connections"].samples) == [("11", 2.0), ("12", 3.0)]
    assert merged["messages"].type == "counter"
    assert sorted((s.name, s.labels["worker"], s.labels["kind"], s.value) for s in merged["messages"].samples) == [
        ("messages_total", "11", "text", 5.0),
        ("messages_total", "12", "text", 7.0),
    ]


def test_merge_leaves_out_a_family_whose_type_differs() -> None:
    other = CollectorRegistry()
    Counter("connections", "Not a gauge here.", registry=other).inc()
    merged = families(merge([(1, exposition(1, 1)), (2, generate_latest(other))]).decode())
    assert [s.labels["worker"] for s in merged["connections"].samples] == ["1"]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait(timeout=10)
    return process.pid


def test_workers_share_through_the_directory_and_gone_ones_are_removed(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    Gauge("connections", "Open connections.", registry=registry).set(4)
    live = os.getppid()  # a process that runs: a live worker's file
    (tmp_path / f"{live}.prom").write_bytes(exposition(1, 9))
    dead = tmp_path / f"{dead_pid()}.prom"
    dead.write_bytes(exposition(100, 100))
    stale = tmp_path / "1.prom"  # PID 1 lives, but the file was not rewritten for too long
    stale.write_bytes(exposition(100, 100))
    old = time.time() - STALE - 1
    os.utime(stale, (old, old))
    (tmp_path / "notes.txt").write_text("not a worker's")

    mine = Exposition(registry, tmp_path)
    merged = families(mine.render_now().decode())

    assert sorted((s.labels["worker"], s.value) for s in merged["connections"].samples) == sorted(
        [(str(os.getpid()), 4.0), (str(live), 1.0)]
    )
    assert not dead.exists() and not stale.exists()
    assert (tmp_path / f"{os.getpid()}.prom").read_bytes() == generate_latest(registry)
    mine.stop_writing()
    assert not (tmp_path / f"{os.getpid()}.prom").exists()


# -- The chat's /metrics ----------------------------------------------------------------------------


@contextmanager
def serving(*arguments: str) -> Iterator[int]:
    """``python -m examples.chat PORT *arguments``, stopped by its PID on exit; yields the port."""
    port = free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"chat-metrics-{port}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "examples.chat", str(port), *arguments],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_page(port, process)
            yield port
        finally:
            stop(process)


@pytest.mark.server
@pytest.mark.anyio
async def test_metrics_serves_prometheus_text_with_the_connection_metrics() -> None:
    with serving("--metrics") as port:
        client, _ = await join(f"ws://{HOST}:{port}", "ann")
        try:
            await client.say("hello")
            await client.until(is_message)
            status, content_type, body = await anyio.to_thread.run_sync(get, f"http://{HOST}:{port}/metrics")
        finally:
            await client.close()
    assert status == 200 and content_type.startswith("text/plain; version=")
    found = families(body)  # parses: valid Prometheus text
    assert [sample.value for sample in found[ACTIVE].samples] == [1.0]
    received = found[RECEIVED.removesuffix("_total")]
    assert received.type == "counter" and sum(sample.value for sample in received.samples) >= 2  # join, message
    assert all("worker" not in sample.labels for sample in found[ACTIVE].samples)  # one process: no merging


@pytest.mark.server
def test_without_metrics_there_is_no_metrics_page() -> None:
    with serving() as port:
        status, _, _ = get(f"http://{HOST}:{port}/metrics")
    assert status == 404


# -- A real Prometheus scraping the chat on two workers ---------------------------------------------


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


async def eventually(check: Callable[[], bool], what: str, limit: float = 15.0) -> None:
    """Wait until ``check()`` (run in a thread) is true: at most ``limit`` seconds, 4 checks a second."""
    deadline = time.monotonic() + limit
    for _ in range(int(limit * 4) + 1):
        if await anyio.to_thread.run_sync(check):
            return
        if time.monotonic() > deadline:
            break
        await anyio.sleep(0.25)
    raise AssertionError(f"not in {limit} s: {what}")


def workers_with_connections(port: int) -> set[str]:
    """The workers that have connections open, by the chat's own /metrics (every worker's)."""
    _, _, body = get(f"http://{HOST}:{port}/metrics")
    active = families(body).get(ACTIVE)
    return set() if active is None else {s.labels["worker"] for s in active.samples if s.value > 0}


def is_worker(pid: int) -> bool:
    """Whether a child of uvicorn's supervisor is a worker (multiprocessing also starts a resource tracker)."""
    return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()


async def workers_of(pid: int, count: int) -> set[str]:
    """The PIDs of the chat's ``count`` workers, once they are all started (within LIMIT seconds)."""
    with anyio.fail_after(LIMIT):
        while len(found := {str(child) for child in children(pid) if is_worker(child)}) < count:
            await anyio.sleep(0.05)
    return found


def shared_directory(pid: int) -> Path:
    """The directory a worker shares its metrics through: its CHAT_METRICS_DIR."""
    for variable in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        name, _, value = variable.decode().partition("=")
        if name == DIRECTORY_ENV:
            return Path(value)
    raise AssertionError(f"worker {pid} has no {DIRECTORY_ENV}")


def sent_by(client: Chatter) -> int:
    """Messages a client sent: its join, what it said, and an acknowledgement every ``ack_every`` events read."""
    return 1 + SAYS + client.received // client.ack_every


@pytest.mark.server
@pytest.mark.anyio
async def test_prometheus_scrapes_every_workers_metrics(redis: RedisServer, tmp_path: Path) -> None:
    env = {"CHAT_METRICS": "1", "CHAT_NAMESPACE": "metrics", "CHAT_PRESENCE_TTL": "1.5"}
    with (
        chat_process(redis=redis.url, workers=2, env=env) as chat,
        prometheus_server(tmp_path, [f"{HOST}:{chat.port}"]) as prometheus,
    ):
        workers = await workers_of(chat.process.pid, 2)
        directory = shared_directory(int(min(workers)))
        clients: list[Chatter] = []
        try:
            with anyio.fail_after(LIMIT):
                # The kernel hands each connection to either worker: add clients until both have some.
                seen: set[str] = set()
                while len(clients) < MAX_CLIENTS:
                    client, _ = await join(chat.url, f"m{len(clients)}")
                    clients.append(client)
                    if len(clients) >= CLIENTS:
                        seen = await anyio.to_thread.run_sync(workers_with_connections, chat.port)
                        if len(seen) == 2:
                            break
                        await anyio.sleep(0.2)  # the other worker's file is up to a second old
                assert seen == workers, f"{len(clients)} connections, all on one worker"
                assert {file.stem for file in directory.glob("*.prom")} == workers  # one file per worker
                for index, client in enumerate(clients):
                    for number in range(SAYS):
                        await client.say(f"{index}:{number}")
                for client in clients:  # every message reached the server (and the room)
                    for _ in range(SAYS * len(clients)):
                        await client.until(is_message)
            sent = sum(sent_by(client) for client in clients)

            def scraped() -> bool:
                return (
                    prometheus.value(f"sum({ACTIVE})") == len(clients)
                    and prometheus.value(f"sum({RECEIVED})") == sent
                    and prometheus.value(f"sum({PUBLISHED})") == len(clients) * SAYS  # each message said, once
                )

            await eventually(scraped, f"{len(clients)} connections, {sent} messages received in Prometheus")
            assert prometheus.targets_up()
            assert prometheus.value(f"min({REACHABLE})") == 1.0
            assert {labels["worker"] for labels, value in prometheus.query(f"{ACTIVE} > 0")} == seen
        finally:
            for client in clients:
                await client.close()

        await eventually(lambda: gone(prometheus), "no connections left in Prometheus")
    assert not directory.exists()  # removed when the server stopped


def gone(prometheus: Prometheus) -> bool:
    return prometheus.value(f"sum({ACTIVE})") == 0.0
