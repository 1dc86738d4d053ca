"""The compatibility table in README.md and docs/compatibility.md is the one the tests prove."""

from __future__ import annotations

import subprocess
import sys

from .support.compat import BEGIN, END, ROOT, TARGETS
from .support.servers import SERVERS

EXPECTED = {
    "server": set(SERVERS),
    "framework": {"FastAPI", "Starlette", "Django Channels", "Quart", "Litestar", "bare ASGI"},
    "test client": {"Starlette TestClient", "Channels WebsocketCommunicator", "httpx-ws ASGIWebSocketTransport"},
}


def generated() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.compat"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_the_table_is_current_and_covers_every_integration() -> None:
    table = generated()
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    covered: dict[str, set[str]] = {}
    for row in rows:
        kind, name = row[0].strip("| "), row[1].split("**")[1]
        covered.setdefault(kind, set()).add(name)
    assert covered == EXPECTED
    for path in TARGETS:
        text = path.read_text(encoding="utf-8")
        assert f"{BEGIN}\n{table}\n{END}" in text, f"{path.name} is out of date: python -m tests.support.compat --write"
