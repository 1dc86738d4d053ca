"""This package beside PyPI's simple-websocket, which python-engineio depends on: both install the import
name ``simple_websocket``, pip merges their folders, and the last installed owns ``__init__.py``.

Each install order is a real venv, built from this checkout's wheel and downloaded wheels (see
``support/beside.py``), in which a probe records what each import gives. Then engine.io itself runs
with our ``__init__.py`` installed after it: its threading driver (simple-websocket's Server under
werkzeug) and its ASGI driver (under uvicorn), each with a real client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from .support.beside import (
    ASGI_ECHO,
    ASGI_SERVER,
    ENGINEIO,
    ENGINEIO_CLIENT,
    PROBE,
    THEIRS,
    WSGI_ECHO,
    WSGI_SERVER,
    Scenario,
    build_wheel,
    download_wheelhouse,
    serving,
)
from .support.ws_client import LIMIT

pytestmark = pytest.mark.server

Observed = dict[str, object]
"""What ``PROBE`` printed: see its docstring."""

OUR_MODULES = ("codecs", "fanout", "exceptions", "testing", "typing")

OURS_LAST: Observed = {
    "init": "ours",
    "WebSocketASGI": "ours",
    "Server": "theirs",  # served by our __init__ from their ws.py
    **dict.fromkeys(OUR_MODULES, "works"),
    "closed": "caught",  # what their ws.py raises is our simple_websocket.ConnectionClosed too
}
THEIRS_LAST: Observed = {
    "init": "theirs",
    "WebSocketASGI": "ImportError",  # their __init__ has no such name
    "Server": "theirs",
    **dict.fromkeys(OUR_MODULES, "ImportError (repair)"),
    "closed": "caught",  # their own exception, by their own class
}
OURS_ONLY: Observed = {**OURS_LAST, "Server": "AttributeError", "closed": "AttributeError"}
BOTH = ["simple-websocket", "simple-websocket-asgi"]
WITH_ENGINEIO = ["python-engineio", *BOTH]

EXPECTED: dict[str, Observed] = {
    "ours": {**OURS_ONLY, "installed": ["simple-websocket-asgi"]},
    "theirs": {
        **THEIRS_LAST,
        **dict.fromkeys(OUR_MODULES, "ModuleNotFoundError"),  # our files are not there at all
        "installed": ["simple-websocket"],
    },
    "theirs, then ours": {**OURS_LAST, "installed": BOTH},
    "ours, then theirs": {**THEIRS_LAST, "installed": BOTH},
    "engineio, then ours": {**OURS_LAST, "installed": WITH_ENGINEIO},
    "ours, then engineio": {**THEIRS_LAST, "installed": WITH_ENGINEIO},
    # The repair that our ImportError names, where it names it: pip uninstalls ours (with the
    # __init__.py that is theirs by then) and installs all our files again; theirs stay.
    "ours, then theirs: repaired": {**OURS_LAST, "installed": BOTH},
    # pip uninstalls every file in a distribution's RECORD, and simple-websocket's lists __init__.py,
    # ours by then: uninstalling theirs leaves our modules without one (a namespace package)...
    "repaired, then theirs uninstalled": {
        **THEIRS_LAST,
        "init": "missing",
        "Server": "AttributeError",
        "closed": "AttributeError",
        "installed": ["simple-websocket-asgi"],
    },
    # ...which the same repair mends.
    "theirs uninstalled: repaired": {**OURS_ONLY, "installed": ["simple-websocket-asgi"]},
}


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """simple-websocket 1.1.0, python-engineio, werkzeug, uvicorn and their dependencies, as wheels."""
    return download_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session")
def our_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's wheel, built once per session."""
    return build_wheel(tmp_path_factory.mktemp("our-wheel"))


@dataclass
class Matrix:
    observed: dict[str, Observed]
    """What ``PROBE`` printed after each install order, by the names in ``EXPECTED``."""
    engineio_then_ours: Scenario
    """python-engineio (with simple-websocket), werkzeug and uvicorn, then this package."""


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, our_wheel: Path) -> Matrix:
    """Every install order, in four venvs that each go through several of them, two venvs at a time."""
    observed: dict[str, Observed] = {}

    def fresh(name: str) -> Scenario:
        return Scenario(tmp_path_factory.mktemp(name), wheelhouse, our_wheel)

    def probe(scenario: Scenario, name: str) -> None:
        result = scenario.run(PROBE)
        assert isinstance(result, dict)
        observed[name] = result

    def ours_then_theirs() -> None:
        venv = fresh("ours-then-theirs")
        venv.install(*venv.ours)
        probe(venv, "ours")
        venv.install(*THEIRS)
        probe(venv, "ours, then theirs")
        venv.install(str(our_wheel), force_reinstall=True)
        probe(venv, "ours, then theirs: repaired")
        venv.uninstall("simple-websocket")
        probe(venv, "repaired, then theirs uninstalled")
        venv.install(str(our_wheel), force_reinstall=True)
        probe(venv, "theirs uninstalled: repaired")

    def theirs_then_ours() -> None:
        venv = fresh("theirs-then-ours")
        venv.install(*THEIRS)
        probe(venv, "theirs")
        venv.install(*venv.ours)
        probe(venv, "theirs, then ours")

    def engineio_then_ours() -> Scenario:
        venv = fresh("engineio-then-ours")
        venv.install(*WSGI_SERVER, *ASGI_SERVER, *ENGINEIO)
        venv.install(*venv.ours)
        probe(venv, "engineio, then ours")
        return venv

    def ours_then_engineio() -> None:
        venv = fresh("ours-then-engineio")
        venv.install(*venv.ours)
        venv.install(*ENGINEIO)
        probe(venv, "ours, then engineio")

    chains: list[Callable[[], object]] = [ours_then_theirs, engineio_then_ours, theirs_then_ours, ours_then_engineio]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = [pool.submit(chain) for chain in chains]
        results = [future.result() for future in done]
    engineio = results[1]
    assert isinstance(engineio, Scenario)
    return Matrix(observed, engineio)


@pytest.mark.parametrize("order", list(EXPECTED))
def test_what_each_import_gives_after_each_install_order(matrix: Matrix, order: str) -> None:
    assert matrix.observed[order] == EXPECTED[order]


def test_engineio_threading_driver_with_simple_websockets_client(matrix: Matrix, tmp_path: Path) -> None:
    """engine.io's threading driver calls ``simple_websocket.Server`` and catches
    ``simple_websocket.ConnectionClosed`` around its ``receive()``: with our __init__.py installed, the
    first must be simple-websocket's Server (else every upgrade fails with a 500 and a traceback) and
    the second a class of what it raises when the client closes (else engineio logs "Unexpected error"
    and closes the connection all the same, which only its log shows)."""
    venv = matrix.engineio_then_ours
    with serving(venv, WSGI_ECHO, tmp_path / "server") as server:
        url = f"ws://127.0.0.1:{server.port}/engine.io/?EIO=4&transport=websocket"
        try:
            received = venv.run(ENGINEIO_CLIENT, url)
        except AssertionError as error:
            raise AssertionError(f"{error}\nThe server's stderr:\n{server.stderr()}") from None
        assert isinstance(received, dict)
        opened, echo = received["open"], received["echo"]
        assert isinstance(opened, str)
        assert opened.startswith("0{")
        assert "sid" in json.loads(opened[1:])
        assert echo == "4hello"
        assert server.wait_for("message")["data"] == "hello"
        assert server.wait_for("disconnect")["reason"] == "transport close"
    assert "Traceback" not in server.stderr(), server.stderr()
    assert "Unexpected error" not in server.stderr(), server.stderr()


@pytest.mark.anyio
async def test_engineio_asgi_driver_under_uvicorn(matrix: Matrix, tmp_path: Path) -> None:
    """engine.io's ASGI driver does not use simple_websocket: it works beside both, with ours last."""
    venv = matrix.engineio_then_ours
    with serving(venv, ASGI_ECHO, tmp_path / "server") as server:
        url = f"ws://127.0.0.1:{server.port}/engine.io/?EIO=4&transport=websocket"
        async with connect(url, open_timeout=LIMIT) as client:
            opened = await asyncio.wait_for(client.recv(), LIMIT)
            assert isinstance(opened, str)
            assert opened.startswith("0{")
            assert "sid" in json.loads(opened[1:])
            await client.send("4hello")
            assert await asyncio.wait_for(client.recv(), LIMIT) == "4hello"
        assert server.wait_for("message")["data"] == "hello"
        assert (await asyncio.to_thread(server.wait_for, "disconnect"))["reason"] == "transport close"
    assert "Traceback" not in server.stderr(), server.stderr()
    assert "Unexpected error" not in server.stderr(), server.stderr()
