"""Handlers of a typed protocol, checked by mypy and pyright as users run them.

A handler that misses one of the client's messages, sends one that is not the server's, or serves
a protocol with more client messages than it handles must fail both type checkers; the complete
handler must pass both. (tests/typing_cases/protocols.py pins the types themselves.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).parent.parent
#: Seconds for one pyright run (a few here; its first run may fetch its npm package).
PYRIGHT_TIMEOUT = 300.0

HEADER = """\
from __future__ import annotations

import msgspec
from typing_extensions import assert_never

from simple_websocket import websocket_app
from simple_websocket.codecs import CodecSocket, MessageProtocol, MsgspecJSONCodec


class Add(msgspec.Struct, tag=True):
    amount: int


class Reset(msgspec.Struct, tag=True):
    pass


class Total(msgspec.Struct, tag=True):
    value: int


TALLY = MessageProtocol(MsgspecJSONCodec(Add | Reset), MsgspecJSONCodec(Total))
"""

COMPLETE = """
async def handler(sock: CodecSocket[Add | Reset, Total]) -> None:
    total = 0
    async for message in sock:
        match message:
            case Add(amount=amount):
                total += amount
            case Reset():
                total = 0
        await sock.send(Total(total))


async def with_assert_never(sock: CodecSocket[Add | Reset, Total]) -> None:
    message = await sock.receive()
    match message:
        case Add():
            pass
        case Reset():
            pass
        case _:
            assert_never(message)


app = websocket_app(handler, protocol=TALLY)
"""

#: Each case: the code after HEADER, the line (in that code) of the error, the words each checker uses.
BROKEN = {
    "a missed case": (
        """
async def handler(sock: CodecSocket[Add | Reset, Total]) -> None:
    message = await sock.receive()
    match message:
        case Add():
            pass
""",
        4,
        ("exhaustive-match", "reportMatchNotExhaustive"),
    ),
    "a missed case before assert_never": (
        """
async def handler(sock: CodecSocket[Add | Reset, Total]) -> None:
    message = await sock.receive()
    match message:
        case Add():
            pass
        case _:
            assert_never(message)
""",
        8,
        ('"Reset"', '"Reset"'),
    ),
    "a send outside the server's messages": (
        """
async def handler(sock: CodecSocket[Add | Reset, Total]) -> None:
    await sock.send(Add(1))
""",
        3,
        ('"Add"', '"Add"'),
    ),
    "a handler of fewer messages than the protocol has": (
        """
async def handler(sock: CodecSocket[Add, Total]) -> None:
    pass


app = websocket_app(handler, protocol=TALLY)
""",
        6,
        ("arg-type", "reportArgumentType"),
    ),
}


def mypy_errors(path: Path) -> list[str]:
    stdout, stderr, _ = api.run(
        ["--strict", "--enable-error-code", "exhaustive-match", "--no-incremental", "--show-error-codes", str(path)]
    )
    assert "error: Cannot find" not in stdout, stdout + stderr
    return [line for line in stdout.splitlines() if ": error:" in line]


def pyright_errors(path: Path) -> list[str]:
    """Each error as ``handler.py:<line>: <rule> <message>``."""
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if pyright is None:
        pytest.fail("pyright is not installed in this environment: pip install -e . --group lint")
    config = path.parent / "pyrightconfig.json"
    config.write_text('{"typeCheckingMode": "strict", "reportUnusedImport": false}')
    done = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", sys.executable, "--project", str(config), str(path)],
        capture_output=True,
        text=True,
        timeout=PYRIGHT_TIMEOUT,
        cwd=ROOT,
        check=False,
    )
    report = json.loads(done.stdout)
    return [
        f"{Path(d['file']).name}:{d['range']['start']['line'] + 1}: {d.get('rule', '')} {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]


def written(tmp_path: Path, body: str) -> tuple[Path, int]:
    path = tmp_path / "handler.py"
    path.write_text(HEADER + body)
    return path, HEADER.count("\n")


def test_a_complete_handler_passes_mypy_and_pyright(tmp_path: Path) -> None:
    path, _ = written(tmp_path, COMPLETE)
    assert mypy_errors(path) == []
    assert pyright_errors(path) == []


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_handler_fails_mypy_and_pyright_on_its_line(case: str, tmp_path: Path) -> None:
    body, line, (mypy_word, pyright_word) = BROKEN[case]
    path, offset = written(tmp_path, body)
    where = offset + line
    found = mypy_errors(path)
    assert len(found) == 1 and f"handler.py:{where}:" in found[0] and mypy_word in found[0], found
    found = pyright_errors(path)  # pyright may say it twice: no overload fits, and why
    assert found and all(f"handler.py:{where}:" in error for error in found), found
    assert any(pyright_word in error for error in found), found
