"""The soak suite's figures: each test records what it measured, per server.

``python -m tests.soak.figures`` prints them as the README's Reliability table, from
test-artifacts/soak/figures.json (written by the last run of the soak suite).
"""

from __future__ import annotations

import sys

import orjson

from ..servers import ROOT, SERVERS

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


def _get(data: dict[str, dict[str, dict[str, Value]]], server: str, scenario: str, key: str) -> Value | None:
    return data.get(server, {}).get(scenario, {}).get(key)


def table() -> str:
    data = load()
    lines = [
        "| server | connections x messages | lost / misordered "
        "| drops mid-message: handlers ended | "
        "10,000 cycles: RSS growth, second half | left behind | slowest unanswered close | "
        "sent to a client that never reads |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for server in SERVERS:
        if server not in data:
            continue
        load_messages = [_get(data, server, s, "messages") for s in ("load-echo", "load-json")]
        lost = sum(int(_get(data, server, s, "lost") or 0) for s in ("load-echo", "load-json"))
        misordered = sum(int(_get(data, server, s, "misordered") or 0) for s in ("load-echo", "load-json"))
        connections = _get(data, server, "load-echo", "connections")
        ended = [f"{_get(data, server, s, 'ended')}/{_get(data, server, s, 'dropped')}" for s in ("drop-echo", "drop-json")]
        left = f"{_get(data, server, 'cycles', 'running')} handlers, {_get(data, server, 'cycles', 'alive')} objects"
        close = _get(data, server, "close-unanswered", "slowest")
        unread = _get(data, server, "unread", "sent")
        lines.append(
            f"| {server} | {connections} x 100, twice ({' + '.join(str(m) for m in load_messages)} echoes) | "
            f"{lost} / {misordered} | {' and '.join(ended)} (raw, JSON) | "
            f"{_mib(_get(data, server, 'cycles', 'growth'))} | {left} | "
            f"{close if close is None else f'{close:.2f} s'} | {_mib(unread).lstrip('+')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if not FIGURES.exists():
        sys.exit(f"no figures yet: run pytest tests/soak first ({FIGURES.relative_to(ROOT)})")
    print(table())
