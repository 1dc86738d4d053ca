"""A real redis-server for the tests: started on a free port in a temporary directory, stopped by PID."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: How long redis-server may take to start listening.
START_LIMIT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(port: int, directory: Path, *options: str) -> list[str]:
    """redis-server on 127.0.0.1:``port``, its files in ``directory``, no snapshots, and ``options``."""
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", *options]


class RedisServer:
    """One redis-server process with AOF persistence (fsync on every write), restartable in place."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            server_command(
                self.port, self.directory, "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "yes"
            ),
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """Stop it the hard way (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: ./dev test installs it (apt-get install redis-server)")
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()
