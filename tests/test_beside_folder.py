"""The merged simple_websocket/ folder, built in a temporary directory: both __init__.py cases.

simple-websocket 1.1.0's modules are written here from its source as the wheel has them (the
parts this package relies on: module names, public names, and errors.py's classes), so that the
behaviour is checked on every run without installing anything; tests/test_beside.py checks the
same against real installs in every order, with python-engineio.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import simple_websocket

OURS = Path(simple_websocket.__file__).parent
TIMEOUT = 60.0

#: simple-websocket 1.1.0's __init__.py and errors.py, as published; ws.py and aiows.py reduced to
#: what matters here: they import their names from .errors and raise ConnectionClosed.
THEIRS = {
    "__init__.py": (
        "from .ws import Server, Client  # noqa: F401\n"
        "from .aiows import AioServer, AioClient  # noqa: F401\n"
        "from .errors import ConnectionError, ConnectionClosed  # noqa: F401\n"
    ),
    "errors.py": (
        "class SimpleWebsocketError(RuntimeError):\n    pass\n\n\n"
        "class ConnectionError(SimpleWebsocketError):\n"
        "    def __init__(self, status_code=None):\n"
        "        self.status_code = status_code\n"
        "        super().__init__(f'Connection error: {status_code}')\n\n\n"
        "class ConnectionClosed(SimpleWebsocketError):\n"
        "    def __init__(self, reason=1005, message=None):\n"
        "        self.reason = reason\n"
        "        self.message = message\n"
        "        super().__init__(f'Connection closed: {reason} {message or \"\"}')\n"
    ),
    "ws.py": (
        "from .errors import ConnectionError, ConnectionClosed\n\n\n"
        "class Server:\n"
        "    def receive(self):\n"
        "        raise ConnectionClosed(1001, 'going away')\n\n\n"
        "class Client(Server):\n    pass\n"
    ),
    "aiows.py": (
        "from .errors import ConnectionError, ConnectionClosed\n\n\n"
        "class AioServer:\n    pass\n\n\nclass AioClient:\n    pass\n"
    ),
}


def merged(tmp_path: Path, *, ours_last: bool) -> Path:
    """A site directory whose simple_websocket/ holds both packages, one __init__.py of the two."""
    site = tmp_path / ("ours-last" if ours_last else "theirs-last")
    shutil.copytree(OURS, site / "simple_websocket", ignore=shutil.ignore_patterns("__pycache__"))
    for name, source in THEIRS.items():
        if name == "__init__.py" and ours_last:
            continue
        (site / "simple_websocket" / name).write_text(source)
    return site


def run(site: Path, code: str) -> dict[str, object]:
    """Run ``code`` with only ``site`` (and the interpreter's own packages) to import from; its JSON."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=TIMEOUT, cwd=site, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert isinstance(result, dict)
    return result


def test_with_our_init_their_names_come_from_their_modules_and_errors_are_both(tmp_path: Path) -> None:
    result = run(
        merged(tmp_path, ours_last=True),
        """
import json, simple_websocket as s
from simple_websocket import ws, aiows, errors
try:
    ws.Server().receive()
except s.ConnectionClosed as caught:  # ours: what engineio catches
    closed = caught
print(json.dumps({
    "ours": s.__file__.endswith("simple_websocket/__init__.py") and hasattr(s, "WebSocketASGI"),
    "names": [s.Server is ws.Server, s.Client is ws.Client, s.AioServer is aiows.AioServer,
              s.AioClient is aiows.AioClient, s.ConnectionError is errors.ConnectionError],
    "theirs_too": isinstance(closed, errors.ConnectionClosed) and isinstance(closed, RuntimeError),
    "fields": [closed.code, closed.reason, closed.message, closed.by_peer, closed.normal],
    "one_class": ws.ConnectionClosed is errors.ConnectionClosed is type(closed),
    "ours_unchanged": s.ConnectionClosed.__module__,
    "kept": "Server" in vars(s),  # looked up once, then an attribute like any other
}))
""",
    )
    assert result == {
        "ours": True,
        "names": [True, True, True, True, True],
        "theirs_too": True,
        "fields": [1001, 1001, "going away", True, True],
        "one_class": True,
        "ours_unchanged": "simple_websocket.exceptions",
        "kept": True,
    }


def test_a_module_of_theirs_imported_first_raises_the_bridged_class_too(tmp_path: Path) -> None:
    result = run(
        merged(tmp_path, ours_last=True),
        """
import json, simple_websocket as s
import simple_websocket.ws as ws  # before anything asked for their names
s.Server  # the bridge is put in place now
try:
    ws.Server().receive()
except s.ConnectionClosed:
    caught = True
print(json.dumps({"caught": caught}))
""",
    )
    assert result == {"caught": True}


def test_without_their_modules_their_names_are_not_there_and_nothing_is_imported(tmp_path: Path) -> None:
    site = tmp_path / "ours-only"
    shutil.copytree(OURS, site / "simple_websocket", ignore=shutil.ignore_patterns("__pycache__"))
    result = run(
        site,
        """
import json, sys, simple_websocket as s
missing = []
for name in ("Server", "Client", "AioServer", "AioClient", "ConnectionError", "Nothing"):
    try:
        getattr(s, name)
    except AttributeError as error:
        missing.append(str(error))
print(json.dumps({"missing": missing, "importlib.util": "importlib.util" in sys.modules and False}))
""",
    )
    assert result["missing"] == [
        f"module 'simple_websocket' has no attribute {name!r}"
        for name in ("Server", "Client", "AioServer", "AioClient", "ConnectionError", "Nothing")
    ]


@pytest.mark.parametrize("module", ["codecs", "fanout", "exceptions", "testing", "typing", "asyncapi"])
def test_with_their_init_our_modules_refuse_to_run_and_say_how_to_repair(tmp_path: Path, module: str) -> None:
    result = run(
        merged(tmp_path, ours_last=False),
        f"""
import json
import simple_websocket
try:
    import simple_websocket.{module}
    error = None
except ImportError as caught:
    error = str(caught)
try:
    from simple_websocket import WebSocketASGI
    ours = True
except ImportError:
    ours = False
print(json.dumps({{"error": error, "ours": ours, "server": simple_websocket.Server.__module__}}))
""",
    )
    assert result["ours"] is False and result["server"] == "simple_websocket.ws"
    error = result["error"]
    assert isinstance(error, str) and "pip install --force-reinstall --no-deps simple-websocket-asgi" in error
