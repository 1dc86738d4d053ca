"""The chat demo as its users start it (``python -m examples.chat``), as processes on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .servers import HOST, LOGS, ROOT, free_port, stop, wait_for_http

#: How long a chat process may take to listen.
START_LIMIT = 20.0


class ChatProcess:
    """One ``python -m examples.chat`` process, its URL, and a way to kill it as a crash would."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"ws://{HOST}:{port}"
        self.page = f"http://{HOST}:{port}/"

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a crash would end it: no cleanup of any kind."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def children(pid: int) -> list[int]:
    """The PIDs of ``pid``'s child processes (the workers of ``--workers``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


@contextmanager
def chat_process(
    *,
    redis: str | None = None,
    redis_cluster: str | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[ChatProcess]:
    """Start the chat on a free port (sharing the room through ``redis`` or ``redis_cluster`` when
    given); stop it by its PID."""
    port = free_port()
    command = [sys.executable, "-m", "examples.chat", str(port), "--workers", str(workers)]
    if redis is not None:
        command += ["--redis", redis]
    if redis_cluster is not None:
        command += ["--redis-cluster", redis_cluster]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"chat-{port}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        workers_seen: list[int] = []
        try:
            wait_for_page(port, process)
            if workers > 1:
                workers_seen = _wait_for_workers(process.pid, workers)
            yield ChatProcess(process, port)
        finally:
            stop(process)
            for pid in workers_seen:  # uvicorn's supervisor stops its workers; make sure of it
                _kill_if_alive(pid)


def wait_for_page(port: int, process: subprocess.Popen[bytes]) -> None:
    """Return once the chat on ``port`` serves; raise if it exits first or takes too long."""
    wait_for_http(f"http://{HOST}:{port}/stats", process, "the chat", START_LIMIT)


def _wait_for_workers(pid: int, workers: int) -> list[int]:
    deadline = time.monotonic() + START_LIMIT
    while len(found := children(pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _kill_if_alive(pid: int) -> None:
    """SIGKILL a worker that outlived its supervisor, if that PID is still one of our workers."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return  # gone
    if b"multiprocessing" in command:
        os.kill(pid, signal.SIGKILL)
