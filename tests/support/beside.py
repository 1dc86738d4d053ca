"""Environments where this package and PyPI's simple-websocket both install ``simple_websocket``.

simple-websocket (which python-engineio, python-socketio and Flask-SocketIO depend on) and this
package share an import name: pip merges both into one folder, and whichever was installed last owns
``simple_websocket/__init__.py``. These helpers build such environments from real wheels:

- ``build_wheel``: this package's wheel, built from the checkout (``pip wheel``);
- ``download_wheelhouse``: simple-websocket 1.1.0, python-engineio and every wheel the scenarios
  install, downloaded once (``pip download``);
- ``Scenario``: a fresh venv without pip, into which the main interpreter's pip installs wheels from
  the wheelhouse only, one pip call per step so that the order of the steps is the order on disk;
  ``run`` runs a snippet there and returns the JSON it printed.

Every subprocess is bounded by a timeout; the venvs live wherever the caller puts them (tmp_path).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the project that ``build_wheel`` builds by default."""

REPAIR = "pip install --force-reinstall --no-deps simple-websocket-asgi"
"""The command our ImportError names when simple-websocket's ``__init__.py`` is the installed one."""

DOWNLOAD_TIMEOUT = 300.0
"""Seconds for one ``pip download`` or ``pip wheel`` (the latter may fetch hatchling to build)."""
INSTALL_TIMEOUT = 120.0
"""Seconds for one ``pip install`` from the local wheelhouse."""
RUN_TIMEOUT = 60.0
"""Seconds for one snippet in a scenario's venv."""

# What each install step puts in a venv, as names pip finds in the wheelhouse (with --no-deps, so
# every runtime dependency is listed). Ours is the built wheel's path, added by ``Scenario.ours``.
THEIRS: tuple[str, ...] = ("h11", "wsproto", "simple-websocket==1.1.0")
"""simple-websocket and its runtime dependencies."""
ENGINEIO: tuple[str, ...] = (*THEIRS, "python-engineio")
"""python-engineio with what it pulls: simple-websocket (so pip installs theirs in the same call)."""
OUR_DEPENDENCIES: tuple[str, ...] = ("idna", "sniffio", "typing-extensions", "anyio")
"""This package's runtime dependencies (anyio's included)."""
WSGI_SERVER: tuple[str, ...] = ("markupsafe", "werkzeug")
"""werkzeug's development server, which the threading driver of engineio runs under."""
ASGI_SERVER: tuple[str, ...] = ("click", "h11", "wsproto", "uvicorn")
"""uvicorn and its wsproto protocol, which run engineio's ASGI driver."""

WHEELHOUSE: tuple[str, ...] = (
    "simple-websocket==1.1.0",
    "python-engineio",
    "wsproto",
    "h11",
    "anyio",
    "typing-extensions",
    "idna",
    "sniffio",
    "werkzeug",
    "uvicorn",
)
"""What ``download_wheelhouse`` asks pip for, with their dependencies."""


def _environment() -> dict[str, str]:
    """The test process's environment less what would let a scenario see the checkout or the main venv."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
    }


def _check(command: Sequence[str | os.PathLike[str]], *, timeout: float, cwd: Path | None = None) -> str:
    """Run ``command``; return its stdout, or raise with both of its outputs if it failed."""
    try:
        done = subprocess.run(
            [os.fspath(part) for part in command],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as error:  # subprocess.run killed it already
        raise AssertionError(f"{command} took over {timeout} s") from error
    if done.returncode != 0:
        raise AssertionError(f"{command} exited with {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def pip(*arguments: str | os.PathLike[str], timeout: float = INSTALL_TIMEOUT) -> str:
    """The main interpreter's pip with ``arguments``."""
    return _check([sys.executable, "-m", "pip", "--disable-pip-version-check", *arguments], timeout=timeout)


def build_wheel(directory: Path, source: Path = ROOT) -> Path:
    """This package's wheel, built from ``source`` (the checkout) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    pip("wheel", "--quiet", "--no-deps", "--wheel-dir", directory, source, timeout=DOWNLOAD_TIMEOUT)
    (wheel,) = directory.glob("simple_websocket_asgi-*.whl")
    return wheel


def download_wheelhouse(directory: Path) -> Path:
    """Download ``WHEELHOUSE`` and their dependencies, as wheels for this interpreter, into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    pip("download", "--quiet", "--only-binary=:all:", "--dest", directory, *WHEELHOUSE, timeout=DOWNLOAD_TIMEOUT)
    return directory


class Scenario:
    """A fresh venv, without pip, whose packages come from the wheelhouse only, in the given order."""

    def __init__(self, directory: Path, wheelhouse: Path, our_wheel: Path) -> None:
        self.directory = directory
        self.wheelhouse = wheelhouse
        self.our_wheel = our_wheel
        self.steps: list[str] = []
        """What each install step installed, in order: the story of this environment."""
        _check([sys.executable, "-m", "venv", "--without-pip", directory], timeout=RUN_TIMEOUT)
        self.python = directory / "bin" / "python"
        purelib = self.run("import json, sysconfig; print(json.dumps(sysconfig.get_paths()['purelib']))")
        assert isinstance(purelib, str)
        self.site_packages = Path(purelib)
        """Where pip merges both distributions' ``simple_websocket`` folders."""

    @property
    def ours(self) -> tuple[str, ...]:
        """This package's wheel with its runtime dependencies."""
        return (*OUR_DEPENDENCIES, os.fspath(self.our_wheel))

    def install(self, *requirements: str, force_reinstall: bool = False, label: str | None = None) -> None:
        """One pip call: install ``requirements`` from the wheelhouse only, without resolving dependencies."""
        options = ["--force-reinstall"] if force_reinstall else []
        pip(
            "--python",
            self.python,
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            self.wheelhouse,
            "--no-deps",
            *options,
            *dict.fromkeys(requirements),  # once each, in order
        )
        self.steps.append(label or " ".join(requirements))

    def uninstall(self, distribution: str) -> None:
        """One pip call: uninstall ``distribution``."""
        pip("--python", self.python, "uninstall", "--yes", "--quiet", distribution)
        self.steps.append(f"uninstall {distribution}")

    def command(self, *arguments: str | os.PathLike[str]) -> list[str]:
        """``python -I arguments`` in this venv: isolated from PYTHON* variables, the user's site and the cwd."""
        return [os.fspath(self.python), "-I", *(os.fspath(argument) for argument in arguments)]

    def run(self, code: str, *arguments: str, timeout: float = RUN_TIMEOUT) -> object:
        """Run ``code`` in this venv (from its own folder, so the checkout is not on sys.path); return the
        JSON value it printed last."""
        output = _check(self.command("-c", code, *arguments), timeout=timeout, cwd=self.directory)
        lines = output.strip().splitlines()
        assert lines, f"the snippet printed nothing\n{code}"
        return json.loads(lines[-1])


PROBE = r"""
import importlib
import json

REPAIR = "pip install --force-reinstall --no-deps simple-websocket-asgi"


def outcome(error):
    name = type(error).__name__
    if isinstance(error, ImportError) and REPAIR in str(error):
        return name + " (repair)"
    return name


seen = {}
try:
    import simple_websocket
except Exception as error:
    seen["init"] = outcome(error)
else:
    if getattr(simple_websocket, "__file__", None) is None:
        seen["init"] = "missing"  # no __init__.py: a namespace package
    elif hasattr(simple_websocket, "WebSocketASGI"):
        seen["init"] = "ours"
    else:
        seen["init"] = "theirs"

try:
    from simple_websocket import WebSocketASGI
except Exception as error:
    seen["WebSocketASGI"] = outcome(error)
else:
    seen["WebSocketASGI"] = "ours" if WebSocketASGI.__module__ == "simple_websocket._websocket" else "other"

try:
    Server = simple_websocket.Server
except Exception as error:
    seen["Server"] = outcome(error)
else:
    seen["Server"] = "theirs" if Server.__module__ == "simple_websocket.ws" else "other"

for module in ("codecs", "fanout", "exceptions", "testing", "typing"):
    try:
        importlib.import_module("simple_websocket." + module)
    except Exception as error:
        seen[module] = outcome(error)
    else:
        seen[module] = "works"

# What engineio's threading driver does: `except simple_websocket.ConnectionClosed` around what
# simple-websocket's ws module raises (here Base.send on a closed connection, without a socket).
try:
    simple_websocket.Server  # the name that engineio uses first
    ws = importlib.import_module("simple_websocket.ws")
    base = ws.Base.__new__(ws.Base)
    base.connected, base.close_reason, base.close_message = False, 1000, None
    base.send("hello")
except Exception as error:
    caught_by = getattr(simple_websocket, "ConnectionClosed", ())
    seen["closed"] = "caught" if isinstance(error, caught_by) else outcome(error)
else:
    seen["closed"] = "not raised"

from importlib import metadata

seen["installed"] = sorted(
    name
    for name in ("simple-websocket", "simple-websocket-asgi", "python-engineio")
    if any(True for _ in metadata.distributions(name=name))
)
print(json.dumps(seen))
"""
"""A snippet that prints what each import of ``simple_websocket`` gives in the venv it runs in, as JSON:
``init`` is whose ``__init__.py`` is installed ("ours", "theirs", "missing"); every other key is
"ours", "theirs", "works", "caught" or the name of the exception raised, with " (repair)" after an
ImportError that names ``REPAIR``."""


_RECORD = r"""
import json
import sys
import threading

_lock = threading.Lock()


def record(**event):
    # One JSON line per event, appended to the file the test named, so that it sees each as it happens.
    with _lock, open(sys.argv[1], "a", encoding="utf-8") as events:
        events.write(json.dumps(event) + "\n")
"""

WSGI_ECHO = (
    _RECORD
    + r"""
import engineio
from werkzeug.serving import make_server

# logger=True: engineio logs at INFO to stderr, where it says "Unexpected error" when what the
# driver's wait() raises is not the simple_websocket.ConnectionClosed it catches (then it closes
# the connection all the same: only this line tells).
eio = engineio.Server(async_mode="threading", logger=True)


@eio.on("connect")
def connect(sid, environ):
    record(event="connect", sid=sid)


@eio.on("message")
def message(sid, data):
    record(event="message", sid=sid, data=data)
    eio.send(sid, data)


@eio.on("disconnect")
def disconnect(sid, reason):
    record(event="disconnect", sid=sid, reason=str(reason))


server = make_server("127.0.0.1", 0, engineio.WSGIApp(eio), threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
record(event="listening", port=server.server_port)
sys.stdin.read()  # until the test closes our stdin
server.shutdown()
"""
)
"""engine.io's threading driver under werkzeug's development server: echoes each message."""

ASGI_ECHO = (
    _RECORD
    + r"""
import socket

import engineio
import uvicorn

eio = engineio.AsyncServer(async_mode="asgi", logger=True)


@eio.on("connect")
async def connect(sid, environ):
    record(event="connect", sid=sid)


@eio.on("message")
async def message(sid, data):
    record(event="message", sid=sid, data=data)
    await eio.send(sid, data)


@eio.on("disconnect")
async def disconnect(sid, reason):
    record(event="disconnect", sid=sid, reason=str(reason))


listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
server = uvicorn.Server(
    uvicorn.Config(engineio.ASGIApp(eio), ws="wsproto", lifespan="off", log_level="warning")
)


def stop_on_eof():
    sys.stdin.read()  # until the test closes our stdin
    server.should_exit = True


threading.Thread(target=stop_on_eof, daemon=True).start()
record(event="listening", port=listener.getsockname()[1])
server.run(sockets=[listener])
"""
)
"""engine.io's ASGI driver under uvicorn (its wsproto protocol): echoes each message."""

ENGINEIO_CLIENT = r"""
import json
import sys

import simple_websocket  # simple-websocket's Client, as this environment's __init__.py serves it

client = simple_websocket.Client.connect(sys.argv[1])
try:
    opened = client.receive(timeout=10)
    client.send("4hello")
    echo = client.receive(timeout=10)
finally:
    client.close()
print(json.dumps({"open": opened, "echo": echo}))
"""
"""The engine.io handshake and one echo with simple-websocket's own Client: prints what it received."""


class Served:
    """A server script running in a scenario's venv: its port, the events it recorded, its stderr."""

    def __init__(self, process: subprocess.Popen[bytes], directory: Path) -> None:
        self.process = process
        self.events_file = directory / "events.jsonl"
        self.stderr_file = directory / "stderr.txt"
        self.port = 0

    def events(self) -> list[dict[str, object]]:
        if not self.events_file.exists():
            return []
        lines = self.events_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]  # the last may be half written

    def wait_for(self, event: str, timeout: float = 10.0) -> dict[str, object]:
        """The first event named ``event``, once the server has recorded it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for seen in self.events():
                if seen.get("event") == event:
                    return seen
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {event!r} event from the server in {timeout} s: {self.events()}\n{self.stderr()}")

    def stderr(self) -> str:
        return self.stderr_file.read_text(encoding="utf-8", errors="replace") if self.stderr_file.exists() else ""


@contextmanager
def serving(scenario: Scenario, script: str, directory: Path, timeout: float = 20.0) -> Iterator[Served]:
    """Run ``script`` (``WSGI_ECHO``, ``ASGI_ECHO``) in ``scenario``'s venv, from ``directory``; yield it
    once it listens. It stops when its stdin closes (or by SIGKILL to its PID if it lingers)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "server.py").write_text(script, encoding="utf-8")
    with open(directory / "stdout.txt", "wb") as stdout, open(directory / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(
            scenario.command(directory / "server.py", directory / "events.jsonl"),
            cwd=directory,
            env=_environment(),
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
        )
        served = Served(process, directory)
        try:
            port = served.wait_for("listening", timeout)["port"]
            assert isinstance(port, int)
            served.port = port
            yield served
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
