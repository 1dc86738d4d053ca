"""One room's messages fanned out to WebSocket subscribers through 2 uvicorn processes and one redis-server.

    python -m bench.broadcast [--contenders ours,broadcaster,channels,socketio] [--subscribers 200]
        [--messages 2000] [--rate 100] [--paced-seconds 5] [--runs 1] [--json results.json]
        [--time-limit 180] [--idle 10]

Contenders, each written the way its own documentation shows:

- ``ours``: examples/fanout.py (simple_websocket.fanout's Broker on Redis Streams), as it is;
- ``broadcaster``: Starlette + broadcaster 0.3 on Redis pub/sub, as its README's chat example, with
  the one fix it needs to deliver anything with redis-py 8 (bench/broadcast_apps/broadcaster_app.py:
  its ``subscribe`` wakes the listener before Redis has confirmed the subscription, so the listener
  stops for good; the fix sets the flag after the confirmation);
- ``channels``: Django Channels + channels_redis' RedisChannelLayer, as the Channels tutorial's chat
  consumer, with the layer's defaults (100 messages per channel; group_send drops what does not fit)
  and one fix for redis-py 8, whose default 5 s socket timeout kills consumers waiting in the layer's
  5 s blocking read (bench/broadcast_apps/channels_settings.py);
- ``socketio``: python-socketio's AsyncServer with AsyncRedisManager; its own AsyncClient
  (WebSocket transport only) on the client side.

Per contender: one redis-server (shared, flushed in between) and 2 uvicorn processes with uvicorn's
defaults (uvloop, httptools, websockets' sans-I/O implementation, permessage-deflate offered, pings
every 20 s); 2 client processes (bench/broadcast_clients.py), client process i holding half the
``--subscribers`` on server i; one publisher connection, from this process to server 1, sending JSON
``{"n": <int>, "t": <monotonic ns>}``.
Every connection is in the same room, a fresh one per mode; the publisher's echoes are not counted.

- flood: ``--messages`` sent as fast as the connection takes them. Deliveries per second from the
  first send to the last delivery, and the servers' CPU time (user + system of both uvicorn
  processes, from just before the first send to the clients' reports), also per delivery.
- paced: ``--rate`` messages per second for ``--paced-seconds``: latency (receive time minus ``t``,
  CLOCK_MONOTONIC being one clock for all processes) p50, p99 and max over every delivery.

Both modes count, per subscriber, the numbers lost (never received), duplicated and out of order
(first received after a higher one), totalled. Peak RSS is each server's VmHWM after both modes.
A contender has ``--time-limit`` seconds; past it, what it has is reported, marked as a timeout.
With ``--runs N`` the whole set runs N times, each time starting with the next contender.

Everything runs on this machine, clients included, so deliveries per second depend on how many cores
the clients leave to the servers; CPU per delivery depends less on that, but still varies from run to
run (by a fifth and more on 2 cores). Any other load skews both: run it on a quiet machine, with
``--runs 5``: each contender's median over the runs is printed after the runs. For a cost that does
not swing, count the server's instructions with bench/server_cost.py.
The websockets clients negotiate permessage-deflate (as browsers do) with every contender but
socketio, whose aiohttp-based client does not offer it. Needs redis-server on PATH and the
dependency group ``bench``::

    pip install -e '.[json,redis]' --group demo --group bench && pip uninstall -y simple-websocket

(python-socketio's engine requires PyPI's simple-websocket, whose module would shadow this one.)
Printed with the results: the versions of everything measured, and the git revision of this package
(``ours`` changes as the project does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from bench.broadcast_clients import CLOSE_TIMEOUT, Report, SocketIOConnection, WebSocketConnection
from bench.broadcast_procs import (
    ROOT,
    ClientProcess,
    ProcessFailed,
    Server,
    cpu_seconds,
    flush_redis,
    peak_rss_mib,
    redis_server_version,
    start_redis,
    tail,
    uvicorn_servers,
)

SERVERS = 2
#: After every subscriber is ready: time for the subscriptions to be established in Redis.
SETTLE = 1.0
#: Client processes give up this long before the contender's deadline, to report what they have.
CLIENT_MARGIN = 15.0


@dataclass(frozen=True)
class Contender:
    name: str
    app: str
    kind: str  # how clients connect: "ws" (websockets, /rooms/<room>) or "socketio" (python-socketio)


CONTENDERS = {
    contender.name: contender
    for contender in (
        Contender("ours", "examples.fanout:app", "ws"),
        Contender("broadcaster", "bench.broadcast_apps.broadcaster_app:app", "ws"),
        Contender("channels", "bench.broadcast_apps.channels_app:application", "ws"),
        Contender("socketio", "bench.broadcast_apps.socketio_app:app", "socketio"),
    )
}


@dataclass(frozen=True)
class Mode:
    name: str  # "flood" or "paced"
    messages: int
    rate: float  # messages per second; 0: as fast as the connection takes them


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()


# -- results ---------------------------------------------------------------------------------------


@dataclass
class ModeResult:
    """What one mode measured; ``reports`` are the client processes' (latencies left out)."""

    mode: str
    subscribers: int
    messages: int
    deliveries: int
    lost: int
    duplicated: int
    out_of_order: int
    foreign: int
    seconds: float
    server_cpu_s: float
    latency_ms: dict[str, float]
    echoes: int
    gave_up: str  # why a client process stopped waiting: "idle", "time limit", or "" when everything arrived
    closed_early: dict[str, int]
    reports: list[Report]

    @property
    def deliveries_per_s(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_us_per_delivery(self) -> float:
        return self.server_cpu_s * 1e6 / self.deliveries if self.deliveries else math.nan


@dataclass
class Row:
    run: int
    contender: str
    flood: ModeResult | None = None
    paced: ModeResult | None = None
    peak_rss_mib: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    server_log_errors: dict[str, str] = field(default_factory=dict)
    server_exceptions: dict[str, int] = field(default_factory=dict)


def percentile(ordered: list[int], pct: float) -> float:
    """The nearest-rank percentile of an ascending list; NaN for an empty one."""
    if not ordered:
        return math.nan
    return float(ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)])


def summarize(mode: Mode, reports: list[Report], first_ns: int, server_cpu_s: float, echoes: int) -> ModeResult:
    """One ModeResult from the client processes' reports (their latencies taken out)."""
    latencies = sorted(latency for report in reports for latency in report.pop("latencies_us", []))
    closed_early: dict[str, int] = {}
    for report in reports:
        for why, count in report["closed_early"].items():
            closed_early[why] = closed_early.get(why, 0) + count
    last_ns = max(report["last_ns"] for report in reports)
    return ModeResult(
        mode=mode.name,
        subscribers=sum(report["subscribers"] for report in reports),
        messages=mode.messages,
        deliveries=sum(report["received"] - report["foreign"] for report in reports),
        lost=sum(report["lost"] for report in reports),
        duplicated=sum(report["duplicated"] for report in reports),
        out_of_order=sum(report["out_of_order"] for report in reports),
        foreign=sum(report["foreign"] for report in reports),
        seconds=(last_ns - first_ns) / 1e9 if last_ns else math.nan,
        server_cpu_s=server_cpu_s,
        latency_ms={f"p{pct:g}": percentile(latencies, pct) / 1000 for pct in (50, 99, 100)},
        echoes=echoes,
        gave_up=" and ".join(sorted({report["gave_up"] for report in reports} - {""})),
        closed_early=closed_early,
        reports=reports,
    )


# -- the publisher ---------------------------------------------------------------------------------


class Publisher:
    """The connection that sends the room's messages; it receives its own too (counted apart)."""

    def __init__(self) -> None:
        self.echoes = 0
        self.closed: list[str] = []
        self.connection: WebSocketConnection | SocketIOConnection | None = None

    def on_echo(self, message: object, received_ns: int) -> None:
        self.echoes += 1

    async def open(self, kind: str, port: int, room: str) -> None:
        opener = SocketIOConnection.open if kind == "socketio" else WebSocketConnection.open
        self.connection = await asyncio.wait_for(opener(port, room, self.on_echo, self.closed.append), 30)

    async def publish(self, number: int) -> int:
        """Send message ``number``; return its ``t``."""
        sent_ns = time.monotonic_ns()
        message = {"n": number, "t": sent_ns}
        if isinstance(self.connection, SocketIOConnection):
            await self.connection.send(message)
        elif self.connection is not None:
            await self.connection.send(json.dumps(message))
        return sent_ns

    async def close(self) -> None:
        if self.connection is not None:
            try:
                await asyncio.wait_for(self.connection.close(), CLOSE_TIMEOUT * 2)
            except (asyncio.TimeoutError, OSError):
                pass


@asynccontextmanager
async def publishing(kind: str, port: int, room: str) -> AsyncIterator[Publisher]:
    publisher = Publisher()
    try:
        await publisher.open(kind, port, room)
        yield publisher
    finally:
        await publisher.close()


async def publish_all(publisher: Publisher, mode: Mode, deadline: Deadline) -> int:
    """Send the mode's messages (paced at ``mode.rate`` if set); return the first one's send time.

    At the deadline, or if the server ends the publisher's connection, the rest are not sent (the
    subscribers' counts show them lost) and the reason is noted.
    """
    started = time.monotonic()
    first_ns = 0
    for number in range(mode.messages):
        if mode.rate:
            await asyncio.sleep(max(0.0, started + number / mode.rate - time.monotonic()))
        if number % 100 == 0 and deadline.remaining() <= 0:
            publisher.closed.append(f"stopped at the time limit, {mode.messages - number} not sent")
            break
        try:
            sent_ns = await publisher.publish(number)
        except Exception as exc:
            publisher.closed.append(f"could not send {mode.messages - number} ({type(exc).__name__})")
            break
        first_ns = first_ns or sent_ns
    return first_ns


# -- one mode, one contender ----------------------------------------------------------------------


def server_cpu(servers: list[Server]) -> float:
    return sum(cpu_seconds(server.pid) for server in servers)


def client_arguments(
    contender: Contender, port: int, room: str, count: int, mode: Mode, settings: argparse.Namespace, limit: float
) -> list[str]:
    arguments = ["--kind", contender.kind, "--port", str(port), "--room", room, "--count", str(count)]
    arguments += ["--expected", str(mode.messages), "--idle", str(settings.idle), "--limit", f"{limit:.0f}"]
    return arguments + (["--latencies"] if mode.rate else [])


async def start_clients(
    contender: Contender,
    servers: list[Server],
    room: str,
    mode: Mode,
    settings: argparse.Namespace,
    deadline: Deadline,
    logs: Path,
) -> list[ClientProcess]:
    """One client process per server, holding its share of the subscribers."""
    clients = []
    limit = max(deadline.remaining() - CLIENT_MARGIN, 5.0)  # they report what they have before the deadline
    for index, server in enumerate(servers):
        count = settings.subscribers // len(servers) + (index < settings.subscribers % len(servers))
        arguments = client_arguments(contender, server.port, room, count, mode, settings, limit)
        log = logs / f"{contender.name}-{mode.name}-clients{index + 1}.log"
        clients.append(await ClientProcess.start(f"{contender.name} clients {index + 1}", arguments, log))
    return clients


async def run_mode(
    contender: Contender,
    mode: Mode,
    servers: list[Server],
    settings: argparse.Namespace,
    deadline: Deadline,
    logs: Path,
) -> ModeResult:
    """Subscribe everyone to a fresh room, publish, collect the reports."""
    room = f"bench-{secrets.token_hex(4)}"
    clients = await start_clients(contender, servers, room, mode, settings, deadline, logs)
    try:
        for client in clients:
            if (line := await client.read_line(deadline.remaining())) != "ready":
                raise client.failed(f"said {line!r} instead of ready")
        async with publishing(contender.kind, servers[0].port, room) as publisher:
            await asyncio.sleep(SETTLE)
            cpu_before = server_cpu(servers)
            first_ns = await publish_all(publisher, mode, deadline)
            for client in clients:
                await client.say("done")
            # By the deadline they have reported what they have (their limit ends CLIENT_MARGIN before it).
            wait = max(deadline.remaining(), 0) + CLIENT_MARGIN
            reports = [json.loads(await client.read_line(wait)) for client in clients]
            cpu_after = server_cpu(servers)
            for client in clients:
                await client.say("close")
            result = summarize(mode, reports, first_ns, cpu_after - cpu_before, publisher.echoes)
            result.closed_early.update({f"publisher: {why}": 1 for why in publisher.closed})
    finally:
        for client in clients:
            await client.stop()
    for server in servers:
        if server.process.poll() is not None:
            raise server.failed(f"exited with {server.process.returncode} during the {mode.name} run")
    return result


def run_contender(
    contender: Contender, run: int, redis: Server, modes: list[Mode], settings: argparse.Namespace, logs: Path
) -> Row:
    """Both modes on one pair of fresh servers; what fails or runs out of time is noted in the row."""
    row = Row(run, contender.name)
    deadline = Deadline(settings.time_limit)
    redis_url = f"redis://127.0.0.1:{redis.port}/0"
    flush_redis(redis.port)
    try:
        with uvicorn_servers(f"{contender.name}-run{run}", contender.app, redis_url, SERVERS, logs) as servers:
            for mode in modes:
                if deadline.remaining() <= 0:
                    row.notes.append(f"{mode.name}: not run (time limit)")
                    continue
                try:
                    setattr(row, mode.name, asyncio.run(run_mode(contender, mode, servers, settings, deadline, logs)))
                except Exception as exc:  # noted, and the run goes on with the next mode or contender
                    late = deadline.remaining() <= 0
                    row.notes.append(f"{mode.name}: {'timeout' if late else 'failed'} ({type(exc).__name__})")
                    print(f"{contender.name}, {mode.name}: {exc!r}", file=sys.stderr)
                    traceback.print_exc()
            row.peak_rss_mib = [peak_rss_mib(server.pid) for server in servers]
            logs_of = [server.log for server in servers]
    except ProcessFailed as exc:
        row.notes.append("servers failed")
        print(f"{contender.name}: {exc}", file=sys.stderr)
        return row
    row.server_log_errors = log_errors(logs_of)
    row.server_exceptions = exceptions_in(logs_of)
    return row


#: The last line of a traceback: "redis.exceptions.TimeoutError: Timeout reading from ...".
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout)\w*)\b")


def log_errors(logs: list[Path]) -> dict[str, str]:
    """The tail of each server log that reports an error or a traceback."""
    found = {}
    for log in logs:
        text = log.read_text(errors="replace")
        if "Traceback" in text or "ERROR" in text:
            found[log.name] = tail(log, 30)
    return found


def exceptions_in(logs: list[Path]) -> dict[str, int]:
    """How many tracebacks the logs end with each exception."""
    counts: dict[str, int] = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if match := EXCEPTION_LINE.match(line):
                counts[match[1]] = counts.get(match[1], 0) + 1
    return counts


# -- output ----------------------------------------------------------------------------------------

DISTRIBUTIONS = {
    "uvicorn": "uvicorn",
    "uvloop": "uvloop",
    "httptools": "httptools",
    "websockets": "websockets",
    "redis-py": "redis",
    "broadcaster": "broadcaster",
    "starlette": "starlette",
    "channels": "channels",
    "channels_redis": "channels-redis",
    "django": "django",
    "python-socketio": "python-socketio",
    "python-engineio": "python-engineio",
    "aiohttp": "aiohttp",
    "simple_websocket (this package)": "simple-websocket-asgi",
}


def versions() -> dict[str, str]:
    found = {"Python": platform.python_version(), "redis-server": redis_server_version()}
    for label, distribution in DISTRIBUTIONS.items():
        try:
            found[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            found[label] = "not installed"
    found["this package's revision"] = revision()
    return found


def revision() -> str:
    """The git commit measured as ``ours``, and whether src/ or examples/ differ from it."""
    git = ["git", "-C", str(ROOT)]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        changes = subprocess.run(
            [*git, "status", "--porcelain", "--", "src", "examples"], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if commit.returncode != 0:
        return "unknown"
    return commit.stdout.strip() + (" with uncommitted changes in src/ or examples/" if changes.stdout.strip() else "")


def number(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def accounting(result: ModeResult | None) -> str:
    if result is None:
        return "n/a"
    return f"{result.lost:,} / {result.duplicated:,} / {result.out_of_order:,}"


def notes(row: Row) -> str:
    found = list(row.notes)
    for result in (row.flood, row.paced):
        if result is None:
            continue
        if result.gave_up == "idle":
            found.append(f"{result.mode}: the rest never came (clients idle)")
        elif result.gave_up:
            found.append(f"{result.mode}: timeout ({result.gave_up})")
        found += [f"{result.mode}: {count} closed ({why})" for why, count in result.closed_early.items()]
        if result.foreign:
            found.append(f"{result.mode}: {result.foreign} foreign messages")
        if result.echoes != result.messages:
            found.append(f"{result.mode}: publisher got {result.echoes:,} of its {result.messages:,}")
    if row.server_exceptions:
        found.append("server logs: " + ", ".join(f"{count} {name}" for name, count in row.server_exceptions.items()))
    elif row.server_log_errors:
        found.append("errors in server logs (stderr)")
    return "; ".join(found)


def table_row(row: Row) -> str:
    flood, paced = row.flood, row.paced
    cells = [str(row.run), row.contender]
    if flood is not None:
        cells.append(number(flood.deliveries_per_s))
        cells.append(f"{flood.server_cpu_s:.2f} ({number(flood.cpu_us_per_delivery, 1)})")
    else:
        cells += ["n/a", "n/a"]
    if paced is not None:
        cells.append(" / ".join(number(paced.latency_ms[key], 1) for key in ("p50", "p99", "p100")))
    else:
        cells.append("n/a")
    cells.append(f"{accounting(flood)}; {accounting(paced)}")
    cells.append(", ".join(f"{mib:.0f}" for mib in row.peak_rss_mib) or "n/a")
    cells.append(notes(row))
    return "| " + " | ".join(cells) + " |"


def print_table(rows: list[Row], settings: argparse.Namespace) -> None:
    print(
        f"\n{settings.subscribers} subscribers on {SERVERS} uvicorn processes, one redis-server; "
        f"flood: {settings.messages:,} messages; paced: {settings.rate:g}/s for {settings.paced_seconds:g} s; "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        "| run | contender | flood deliveries/s | flood server CPU s (µs/delivery) | paced p50 / p99 / max ms "
        "| lost / dup / out-of-order (flood; paced) | peak RSS MB per server | notes |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(table_row(row))
    print_ratios(rows)


def print_ratios(rows: list[Row]) -> None:
    """ours / broadcaster, per run, where both have flood results."""
    by_run: dict[int, dict[str, ModeResult]] = {}
    for row in rows:
        if row.flood is not None:
            by_run.setdefault(row.run, {})[row.contender] = row.flood
    for run, results in sorted(by_run.items()):
        if "ours" in results and "broadcaster" in results:
            ours, theirs = results["ours"], results["broadcaster"]
            rate = ours.deliveries_per_s / theirs.deliveries_per_s
            cpu = ours.cpu_us_per_delivery / theirs.cpu_us_per_delivery
            print(f"\nrun {run}, ours / broadcaster: deliveries/s x{rate:.2f}, server CPU per delivery x{cpu:.2f}")
    if len(by_run) > 1:
        print_medians(rows)


def print_medians(rows: list[Row]) -> None:
    """Each contender's median over the runs: the figures to compare on a machine whose runs swing."""
    figures: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        if row.flood is None or row.paced is None:
            continue
        mine = figures.setdefault(row.contender, {"rate": [], "cpu": [], "p99": []})
        mine["rate"].append(row.flood.deliveries_per_s)
        mine["cpu"].append(row.flood.cpu_us_per_delivery)
        mine["p99"].append(row.paced.latency_ms["p99"])
    medians = {name: {key: statistics.median(values) for key, values in got.items()} for name, got in figures.items()}
    print("\n| median over the runs | flood deliveries/s | server CPU µs/delivery | paced p99 ms |")
    print("|---|---:|---:|---:|")
    for name, median in medians.items():
        print(f"| {name} | {number(median['rate'])} | {median['cpu']:.1f} | {median['p99']:.1f} |")
    if "ours" in medians and "broadcaster" in medians:
        ours, theirs = medians["ours"], medians["broadcaster"]
        print(
            f"\nmedians, ours / broadcaster: deliveries/s x{ours['rate'] / theirs['rate']:.2f}, server CPU per "
            f"delivery x{ours['cpu'] / theirs['cpu']:.2f}, paced p99 x{ours['p99'] / theirs['p99']:.2f}"
        )


def print_versions(found: dict[str, str]) -> None:
    print("\n" + ", ".join(f"{label} {version}" for label, version in found.items()))


def print_log_errors(rows: list[Row]) -> None:
    for row in rows:
        for log, text in row.server_log_errors.items():
            print(f"\n{row.contender}, run {row.run}: {log} ends:\n{text}", file=sys.stderr)


def write_json(path: Path, rows: list[Row], found: dict[str, str], settings: argparse.Namespace) -> None:
    results = []
    for row in rows:
        raw = asdict(row)
        for mode in ("flood", "paced"):
            result = getattr(row, mode)
            if result is not None:
                raw[mode] |= {
                    "deliveries_per_s": result.deliveries_per_s,
                    "cpu_us_per_delivery": result.cpu_us_per_delivery,
                }
        results.append(raw)
    path.write_text(json.dumps({"settings": vars(settings), "versions": found, "rows": results}, indent=2, default=str))


# -- main ------------------------------------------------------------------------------------------


def check_environment() -> None:
    """Refuse to run when PyPI's simple-websocket (python-engineio requires it) shadows this package."""
    import simple_websocket

    if not hasattr(simple_websocket, "websocket_app"):
        raise SystemExit(
            f"simple_websocket is {simple_websocket.__file__}, not this package: PyPI's simple-websocket, which "
            "python-engineio requires, shadows it. pip uninstall simple-websocket (engineio needs it for WSGI only)."
        )


def rotated(contenders: list[Contender], by: int) -> list[Contender]:
    """The contenders in another order for each run: none always goes first."""
    by %= len(contenders)
    return contenders[by:] + contenders[:by]


@contextmanager
def redis_running(directory: Path) -> Iterator[Server]:
    redis = start_redis(directory)
    try:
        yield redis
    finally:
        redis.stop()


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated, from: %(default)s")
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000, help="messages of the flood mode")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second of the paced mode")
    parser.add_argument("--paced-seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole set this many times")
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds per contender and run")
    parser.add_argument("--idle", type=float, default=10.0, help="a client gives up this long after the last message")
    parser.add_argument("--json", type=Path, help="write the raw results there")
    args = parser.parse_args()
    unknown = set(args.contenders.split(",")) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))} (known: {', '.join(CONTENDERS)})")
    if args.subscribers < SERVERS or args.messages < 1 or args.rate <= 0 or args.paced_seconds <= 0 or args.runs < 1:
        parser.error("--subscribers must be at least 2; --messages, --rate, --paced-seconds and --runs positive")
    return args


def main() -> None:
    settings = parse_arguments()
    check_environment()
    found = versions()
    contenders = [CONTENDERS[name] for name in settings.contenders.split(",")]
    modes = [
        Mode("flood", settings.messages, 0.0),
        Mode("paced", max(1, round(settings.rate * settings.paced_seconds)), settings.rate),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as directory, redis_running(Path(directory)) as redis:
        for run in range(1, settings.runs + 1):
            for contender in rotated(contenders, run - 1):
                print(f"run {run}: {contender.name}...", file=sys.stderr, flush=True)
                rows.append(run_contender(contender, run, redis, modes, settings, Path(directory)))
    order = [contender.name for contender in contenders]
    rows.sort(key=lambda row: (row.run, order.index(row.contender)))  # as given, whatever order they ran in
    print_log_errors(rows)
    print_table(rows, settings)
    print_versions(found)
    if settings.json:
        write_json(settings.json, rows, found, settings)


if __name__ == "__main__":
    main()
