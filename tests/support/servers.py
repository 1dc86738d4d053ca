"""Real ASGI servers as processes on 127.0.0.1, for end-to-end tests.

``running(server, "package.module:app")`` starts one on a free port, waits until it accepts
connections and stops it by its PID afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / "test-artifacts" / "servers"
"""Where each server process writes its output: one file per server and port."""
HOST = "127.0.0.1"

Command = Callable[[str, int], list[str]]


def _uvicorn(ws: str) -> Command:
    def command(app: str, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(port),
            "--ws",
            ws,
            "--log-level",
            "warning",
            "--lifespan",
            "off",
        ]

    return command


def _hypercorn(worker: str) -> Command:
    def command(app: str, port: int) -> list[str]:
        return [sys.executable, "-m", "hypercorn", "-b", f"{HOST}:{port}", "-k", worker, "--log-level", "warning", app]

    return command


def _daphne(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0", app]


def _granian(app: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        app,
    ]


SERVERS: dict[str, Command] = {
    "uvicorn-websockets": _uvicorn("websockets"),
    "uvicorn-wsproto": _uvicorn("wsproto"),
    "uvicorn-websockets-sansio": _uvicorn("websockets-sansio"),
    "hypercorn-asyncio": _hypercorn("asyncio"),
    "hypercorn-trio": _hypercorn("trio"),
    "daphne": _daphne,
    "granian": _granian,
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"server did not listen on {HOST}:{port} in time")


def wait_for_http(url: str, process: subprocess.Popen[bytes], what: str, limit: float) -> None:
    """Return once ``url`` answers 200; raise if ``process`` (``what``) exits first or ``limit`` seconds pass."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{what} did not answer {url} in time")


#: The log file of each server ``running`` started, by its ws:// URL: a port may serve several
#: servers one after another in a run, so the port alone does not name one log.
_LOG_OF: dict[str, Path] = {}


@contextmanager
def running(
    server: str, app: str, *, startup_timeout: float = 20.0, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``app`` ("module:attribute", importable from the project root) on ``server``; yield ws://host:port."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    url = f"ws://{HOST}:{port}"
    _LOG_OF[url] = LOGS / f"{server}-{port}.log"
    with open(_LOG_OF[url], "wb") as log:
        process = subprocess.Popen(
            SERVERS[server](app, port), cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_listening(port, process, time.monotonic() + startup_timeout)
            yield url
        finally:
            stop(process)


def output_of(url: str) -> str:
    """Everything the server behind ``url`` (from ``running``) has written so far."""
    base = url.split("/", 3)
    return _LOG_OF["/".join(base[:3])].read_text(errors="replace")


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Stop a server we started, by its PID: SIGINT, then SIGKILL if it lingers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    if process.stderr is not None:
        process.stderr.close()


@contextmanager
def two_sharing_redis(app: str, directory: Path, variable: str = "FANOUT_REDIS_URL") -> Iterator[tuple[str, str]]:
    """Two hypercorn processes (their lifespan starts the app's broker) serving ``app`` with one
    redis-server, whose URL they read from ``variable``; yields both ws:// URLs."""
    from .redis_server import redis_server

    with redis_server(directory) as redis:
        env = {variable: redis.url}
        with running("hypercorn-asyncio", app, env=env) as first, running("hypercorn-asyncio", app, env=env) as second:
            yield first, second
