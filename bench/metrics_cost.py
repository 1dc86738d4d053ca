"""What metrics cost per message, off and on, as ratios to the same code without them: for ``icount``.

    python -m bench.metrics_cost                 # in-process: an echo, and a fan-out to 20 subscribers
                                                 # through an in-memory Broker (about 3 minutes)
    python -m bench.metrics_cost --server        # also the server's share of an echo through uvicorn,
                                                 # and of a fan-out to 20 subscribers (about 15 minutes)

Every figure is instructions per message, counted by ``../shared/tools/icount`` (callgrind), with
one hash seed. "off" is the package with metrics never enabled; "on" enables them into the
OpenTelemetry SDK (an in-memory reader in-process, Prometheus's reader under uvicorn, which
nothing scrapes during the run). The baseline of "on" is "off" in the same run. The in-process
figures are exact to ~0.2%; those of a server process also depend on how the client's messages
fall into the server's reads (a client process runs beside it), and move by a few percent between
runs.

``--serve-echo MODULE:ATTR N`` (used by the above) serves an echo app with uvicorn in this process,
runs a client process that echoes N messages through it, and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICOUNT = ROOT.parent / "shared" / "tools" / "icount"

#: Upper bound for one run, at callgrind's speed.
RUN_LIMIT = 1200.0

#: The text message every echo sends (the in-process echo's too).
PAYLOAD = "hello, world! " * 4


def icount(first: int, second: int, *command: str) -> int:
    """Instructions one more message costs, or exit if icount cannot run."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    argv = [str(ICOUNT), "-a", str(first), "-b", str(second), "--", *command]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env=env, timeout=2 * RUN_LIMIT)
    found = re.match(r"(\d+) instructions", result.stdout)
    if found is None:
        raise SystemExit(f"icount failed: {' '.join(argv)}\n{result.stdout}{result.stderr}")
    return int(found.group(1))


def report(title: str, off: int, on: int) -> None:
    print(f"{title:<44} off {off:>10,}   on {on:>10,}   on/off {on / off:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", action="store_true", help="also count the server's share through uvicorn")
    parser.add_argument("--serve-echo", nargs=2, metavar=("APP", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--echo-client", nargs=2, metavar=("PORT", "N"), type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fanout-memory", nargs=2, metavar=("N", "METRICS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fanout_memory:
        fanout_in_memory(int(args.fanout_memory[0]), args.fanout_memory[1] == "on")
        return
    if args.serve_echo:
        asyncio.run(serve_echo(args.serve_echo[0], int(args.serve_echo[1])))
        return
    if args.echo_client:
        asyncio.run(echo_client(*args.echo_client))
        return
    if not ICOUNT.exists():
        raise SystemExit(f"{ICOUNT} is needed (valgrind's callgrind)")
    python = sys.executable
    echo = [python, str(ROOT / "bench" / "echo_inprocess.py"), "--messages", "{n}", "--only"]
    print(f"Python {sys.version.split()[0]}: instructions per message", flush=True)
    off, on = icount(2000, 12000, *echo, "ours"), icount(2000, 12000, *echo, "ours-metrics")
    report("in-process echo (receive + send)", off, on)
    fanout = [python, "-m", "bench.metrics_cost", "--fanout-memory", "{n}"]
    report(
        "in-process fan-out to 20 subscribers (memory)",
        icount(500, 2500, *fanout, "off"),
        icount(500, 2500, *fanout, "on"),
    )
    if not args.server:
        return
    serve = [python, "-m", "bench.metrics_cost", "--serve-echo"]
    report(
        "echo through uvicorn, server process",
        icount(1000, 5000, *serve, "bench.echo_apps:app", "{n}"),
        icount(1000, 5000, *serve, "bench.metered_apps:echo", "{n}"),
    )
    through = [python, "-m", "bench.server_cost", "--subscribers", "20"]
    report(
        "fan-out to 20 subscribers, server process",
        icount(50, 250, *through, "examples.fanout:app", "{n}"),
        icount(50, 250, *through, "bench.metered_apps:fanout", "{n}"),
    )


def fanout_in_memory(messages: int, metered: bool) -> None:
    """Publish ``messages`` to 20 subscribers of an in-memory Broker, with metrics on or off."""
    from bench.fanout import memory_ours

    if metered:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        from simple_websocket import metrics

        metrics.enable(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    asyncio.run(memory_ours(20, messages))


async def serve_echo(app: str, messages: int) -> None:
    """Serve ``app`` with uvicorn until a client process has echoed ``messages`` through ``/ours``."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        command = [sys.executable, "-m", "bench.metrics_cost", "--echo-client", str(port), str(messages)]
        client = await asyncio.create_subprocess_exec(*command)
        if await asyncio.wait_for(client.wait(), RUN_LIMIT) != 0:
            raise SystemExit("the echo client failed")
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


async def echo_client(port: int, messages: int) -> None:
    """Echo ``messages`` text messages through ``/ours``, 32 in flight at a time."""
    from websockets.asyncio.client import connect

    window = 32
    async with connect(f"ws://127.0.0.1:{port}/ours", max_queue=None, open_timeout=RUN_LIMIT) as client:
        for done in range(0, messages, window):
            flight = min(window, messages - done)
            for _ in range(flight):
                await client.send(PAYLOAD)
            for _ in range(flight):
                await asyncio.wait_for(client.recv(), RUN_LIMIT)


if __name__ == "__main__":
    main()
