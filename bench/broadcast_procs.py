"""The processes of bench/broadcast.py: redis-server, uvicorn, the client processes; their CPU and memory.

Every process listens on or connects to 127.0.0.1 only, writes its output to a log file, and is
stopped by its PID (terminate, wait, kill).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessFailed(RuntimeError):
    """A process did not start, or ended early; the message ends with the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log file, indented."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:]) or "    (empty log)"


@dataclass
class Server:
    """A server process on 127.0.0.1:port, its output in ``log``."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def failed(self, what: str) -> ProcessFailed:
        return ProcessFailed(f"{self.name} (pid {self.pid}, port {self.port}) {what}; its log ends:\n{tail(self.log)}")

    def wait_until_listening(self, timeout: float = START_TIMEOUT) -> None:
        """Poll a TCP connect until it succeeds; fail if the process ends or the time is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.failed(f"exited with {self.process.returncode} while starting")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise self.failed(f"did not listen within {timeout:.0f} s")

    def stop(self) -> None:
        stop(self.process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process by its PID: SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def spawn(name: str, command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Server:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env
        )
    return Server(name, process, port, log)


# -- redis-server ----------------------------------------------------------------------------------


def redis_server_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=10).stdout
    return next((word[2:] for word in out.split() if word.startswith("v=")), out.strip())


def start_redis(directory: Path) -> Server:
    """One redis-server, no persistence, in ``directory``; ready to use."""
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on PATH (apt-get install redis-server)")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", HOST, "--dir", str(directory)]
    command += ["--save", "", "--appendonly", "no"]
    server = spawn("redis-server", command, port, directory / "redis.log")
    try:
        server.wait_until_listening()
    except BaseException:
        server.stop()
        raise
    return server


def redis_command(port: int, *args: str) -> bytes:
    """Send one command in RESP and return the first line of the reply (e.g. ``b"+OK"``)."""
    request = f"*{len(args)}\r\n" + "".join(f"${len(arg.encode())}\r\n{arg}\r\n" for arg in args)
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(request.encode())
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.strip()


def flush_redis(port: int) -> None:
    reply = redis_command(port, "FLUSHALL")
    if reply != b"+OK":
        raise RuntimeError(f"FLUSHALL answered {reply!r}")


# -- uvicorn ---------------------------------------------------------------------------------------


def uvicorn_command(app: str, port: int) -> list[str]:
    """uvicorn with its defaults (uvloop, httptools, websockets when installed), quiet."""
    quiet = ["--log-level", "warning", "--no-access-log"]
    return [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), *quiet]


@contextmanager
def uvicorn_servers(name: str, app: str, redis_url: str, count: int, logs: Path) -> Iterator[list[Server]]:
    """``count`` uvicorn processes serving ``app``, each on its own port, sharing one Redis; stopped afterwards."""
    env = {**os.environ, "FANOUT_REDIS_URL": redis_url}
    servers: list[Server] = []
    try:
        for index in range(count):
            port = free_port()
            log = logs / f"{name}-server{index + 1}-{port}.log"
            servers.append(spawn(f"{name} server {index + 1}", uvicorn_command(app, port), port, log, env))
        for server in servers:
            server.wait_until_listening()
        yield servers
    finally:
        for server in servers:
            server.stop()


# -- measurements from /proc -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mib(pid: int) -> float:
    """The peak resident set size of a process (VmHWM in /proc/<pid>/status), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the client processes ----------------------------------------------------------------------------


class ClientProcess:
    """A ``python -m bench.broadcast_clients`` process: "ready", then its JSON report on stdout."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log: Path) -> None:
        self.name = name
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, name: str, arguments: list[str], log: Path) -> ClientProcess:
        with log.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.broadcast_clients",
                *arguments,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                limit=1 << 26,  # the report carries every latency in paced mode: one long line
            )
        return cls(name, process, log)

    def failed(self, what: str) -> ProcessFailed:
        return ProcessFailed(f"{self.name} (pid {self.process.pid}) {what}; its stderr ends:\n{tail(self.log)}")

    async def read_line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), max(timeout, 0.1))
        except asyncio.TimeoutError:
            raise self.failed(f"said nothing within {timeout:.0f} s") from None
        if not line:
            raise self.failed(f"ended (exit code {await self.process.wait()})")
        return line.decode().strip()

    async def say(self, command: str) -> None:
        """Write one line to its stdin; a process that has gone already is not an error here."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(command.encode() + b"\n")
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def stop(self) -> None:
        """Wait for it to end by itself, then terminate, then kill: by its PID, within bounds."""
        for action in (None, self.process.terminate, self.process.kill):
            if self.process.returncode is not None:
                return
            if action is not None:
                try:
                    action()
                except ProcessLookupError:  # it ended just now
                    return
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except asyncio.TimeoutError:
                continue
