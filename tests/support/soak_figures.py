"""The soak suite's figures: each test records what it measured, per server.

``python -m tests.support.soak_figures`` prints them as the README's Reliability table, from
test-artifacts/soak/figures.json (written by the last run of the soak suite).
"""

from __future__ import annotations

import sys

import orjson

from .servers import ROOT, SERVERS

FIGURES = ROOT / "test-artifacts" / "soak" / "figures.json"

Value = int | float | str


def load() -> dict[str, dict[str, dict[str, Value]]]:
    """server -> scenario -> figure -> value."""
    if not FIGURES.exists():
        return {}
    data = orjson.loads(FIGURES.read_bytes())
    assert isinstance(data, dict)
    return data


def record(server: str, scenario: str, **values: Value) -> None:
    """Keep what one scenario measured on one server (a later run replaces it)."""
    data = load()
    data.setdefault(server, {})[scenario] = values
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def _mib(value: Value | None) -> str:
    return "?" if not isinstance(value, (int, float)) else f"{value / 2**20:+.2f} MiB"


def _seconds(value: Value | None) -> str:
    return str(value) if not isinstance(value, (int, float)) else f"{value:.2f} s"


def _sum(figures: dict[str, dict[str, Value]], scenarios: tuple[str, ...], key: str) -> int:
    return sum(int(figures.get(scenario, {}).get(key, 0)) for scenario in scenarios)


LOAD = ("load-echo", "load-json")
DROPS = ("drop-echo", "drop-json")


def table() -> str:
    """Two tables: load and leftovers, then broken and hostile peers."""
    data = load()
    lines = [
        "| server | echoes (1,000 connections x 100, raw + JSON) | lost | misordered | dropped mid-message: "
        "handlers ended with ConnectionClosed | RSS growth, 2nd half of 10,000 cycles | handlers, objects left |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for server in SERVERS:
        f = data.get(server, {})
        cycles = f.get("cycles", {})
        lines.append(
            f"| {server} | {_sum(f, LOAD, 'messages'):,} | {_sum(f, LOAD, 'lost') + _sum(f, DROPS, 'lost')} | "
            f"{_sum(f, LOAD, 'misordered') + _sum(f, DROPS, 'misordered')} | "
            f"{_sum(f, DROPS, 'ended')} of {_sum(f, DROPS, 'dropped')} | {_mib(cycles.get('growth'))} | "
            f"{cycles.get('running', '?')}, {cycles.get('alive', '?')} |"
        )
    lines += [
        "",
        "| server | closing, client never answers: idle / buffers full | 100 flooders over the size limit "
        "| sender cancelled on a slow client | receive(timeout) under traffic: lost | accepted for a client that "
        "never reads |",
        "|---|---|---|---|---:|---:|",
    ]
    for server in SERVERS:
        f = data.get(server, {})
        idle, full = f.get("unanswered-idle", {}), f.get("unanswered-fill", {})
        flood, cancel = f.get("flood", {}), f.get("cancel-send", {})
        receive, unread = f.get("receive-timeouts", {}), f.get("unread", {})
        reset = f", {flood.get('reset')} reset" if flood.get("reset") else ""
        cancelled = "cancelled" if cancel.get("cancelled") == "True" else "never blocked"
        sent = unread.get("sent")
        lines.append(
            f"| {server} | {_seconds(idle.get('slowest'))} / {_seconds(full.get('slowest'))} | "
            f"closed: {flood.get('closed_with', '?')}{reset} | "
            f"{cancelled} after {cancel.get('victim_sent', '?')} messages, others all through | "
            f"{receive.get('lost', '?')} of {receive.get('messages', '?')} | "
            f"{_mib(sent).lstrip('+') if isinstance(sent, int) else sent} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if not FIGURES.exists():
        sys.exit(f"no figures yet: run pytest tests/soak first ({FIGURES.relative_to(ROOT)})")
    print(table())
