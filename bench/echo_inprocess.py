"""Per-message cost of an echo, in-process, side by side in one run.

Each contender runs the same echo over a scripted ASGI receive/send pair (no network): a
connect, N text (or binary) messages, a disconnect. Reported: ns per message (best of the
rounds) and, with ``--instructions``, the instructions per message counted by callgrind,
both as ratios to simple-websocket 1.1.0 (the untyped original doing the same job).

    python bench/echo_inprocess.py [--messages 100000] [--rounds 7] [--binary] [--instructions]

One contender for N messages, for counting it by hand:

    ../shared/tools/icount -- .venv/bin/python bench/echo_inprocess.py --only ours --messages {n}
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Protocol

from simple_websocket import ConnectionClosed, WebSocketASGI

Message = Mapping[str, object]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[dict[str, object]], Awaitable[None]]
Echo = Callable[[dict[str, object], Receive, Send], Awaitable[None]]

SCOPE: dict[str, object] = {"type": "websocket", "path": "/", "headers": [], "subprotocols": []}
BASELINE_DIR = Path(__file__).parent / ".baselines"
ICOUNT = Path(__file__).resolve().parent.parent.parent / "shared" / "tools" / "icount"
TEXT_FRAME = "hello, world! " * 4
BINARY_FRAME = TEXT_FRAME.encode()


def script(count: int, frame: str | bytes = TEXT_FRAME) -> tuple[Receive, Send]:
    """A receive that replays connect, ``count`` messages of ``frame`` and a disconnect; a send that drops."""
    key = "text" if isinstance(frame, str) else "bytes"
    message: Message = {"type": "websocket.receive", key: frame}
    messages: list[Message] = [{"type": "websocket.connect"}, *([message] * count)]
    messages.append({"type": "websocket.disconnect", "code": 1000})
    next_message = iter(messages).__next__

    async def receive() -> Message:
        return next_message()

    async def send(message: dict[str, object]) -> None:
        pass

    return receive, send


async def raw_echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
    """What a careful hand-written ASGI echo does: check types, handle text and bytes."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes")})
        elif kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.disconnect":
            return


class OneLayer:
    """The floor for any wrapper: one coroutine per receive and per send that only awaits the ASGI callables."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send

    async def receive(self) -> str | bytes | None:
        message = await self._receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            return text if isinstance(text, str) else message.get("bytes")  # type: ignore[return-value]  # the floor skips checks on purpose
        return None

    async def send(self, data: str | bytes) -> None:
        if type(data) is str:
            await self._send({"type": "websocket.send", "text": data})
        else:
            await self._send({"type": "websocket.send", "bytes": data})


async def floor_echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    ws = OneLayer(receive, send)
    while (message := await ws.receive()) is not None:
        await ws.send(message)


async def ours_echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
    ws = await WebSocketASGI.accept(scope, receive, send)
    try:
        while True:
            await ws.send(await ws.receive())
    except ConnectionClosed:
        pass


async def ours_limited_echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
    """Ours with a size limit (1 MiB, never reached): every message takes the general receive path."""
    ws = await WebSocketASGI.accept(scope, receive, send, max_message_size=1 << 20)
    try:
        while True:
            await ws.send(await ws.receive())
    except ConnectionClosed:
        pass


def metered_echo() -> Echo:
    """Ours with metrics on: the OpenTelemetry SDK's provider, and a reader that collects after the run."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from simple_websocket import metrics

    async def echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
        reader = InMemoryMetricReader()
        metrics.enable(MeterProvider(metric_readers=[reader]))
        try:
            await ours_echo(scope, receive, send)
            reader.get_metrics_data()  # what a scrape does, once
        finally:
            metrics.disable()

    return echo


def starlette_echo(binary: bool) -> Echo:
    """Starlette's echo of text (or binary) frames, through its typed receive/send methods."""
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)  # type: ignore[arg-type]  # Starlette types messages as MutableMapping
        await ws.accept()
        try:
            while True:
                if binary:
                    await ws.send_bytes(await ws.receive_bytes())
                else:
                    await ws.send_text(await ws.receive_text())
        except WebSocketDisconnect:
            pass

    return echo


class _BaselineWS(Protocol):
    async def receive(self) -> str | bytes: ...
    async def send(self, data: str | bytes) -> None: ...


def load_simple_websocket() -> Echo | None:
    """simple-websocket 1.1.0's ASGI class, loaded under another name (it shares our import name)."""
    BASELINE_DIR.mkdir(exist_ok=True)
    wheels = sorted(BASELINE_DIR.glob("simple_websocket-1.1.0-*.whl"))
    if not wheels:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "simple-websocket==1.1.0"]
        if subprocess.run([*cmd, "-d", str(BASELINE_DIR)], check=False).returncode != 0:
            return None
        wheels = sorted(BASELINE_DIR.glob("simple_websocket-1.1.0-*.whl"))
    package = BASELINE_DIR / "simple_websocket_1_1_0"
    if not package.exists():
        with zipfile.ZipFile(wheels[0]) as wheel:
            for name in ("asgi.py", "errors.py"):
                (package / name).parent.mkdir(parents=True, exist_ok=True)
                (package / name).write_bytes(wheel.read(f"simple_websocket/{name}"))
        (package / "__init__.py").write_text("")
    spec = importlib.util.spec_from_file_location(
        "simple_websocket_1_1_0", package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    asgi = importlib.import_module("simple_websocket_1_1_0.asgi")
    closed: type[Exception] = importlib.import_module("simple_websocket_1_1_0.errors").ConnectionClosed
    accept: Callable[[dict[str, object], Receive, Send], Awaitable[_BaselineWS]] = asgi.WebSocketASGI.accept

    async def echo(scope: dict[str, object], receive: Receive, send: Send) -> None:
        ws = await accept(scope, receive, send)
        try:
            while True:
                await ws.send(await ws.receive())
        except closed:
            pass

    return echo


def contenders(binary: bool) -> dict[str, Echo]:
    """The echoes by short name (the names --only takes), the original's left out if it cannot be had."""
    echoes: dict[str, Echo] = {
        "raw": raw_echo,
        "floor": floor_echo,
        "ours": ours_echo,
        "ours-limited": ours_limited_echo,
    }
    if importlib.util.find_spec("opentelemetry.sdk") is not None:
        echoes["ours-metrics"] = metered_echo()
    else:
        print("opentelemetry-sdk is not installed: metrics on are left out", file=sys.stderr)
    if importlib.util.find_spec("starlette") is not None:
        echoes["starlette"] = starlette_echo(binary)
    else:
        print("starlette is not installed: left out", file=sys.stderr)
    baseline = load_simple_websocket()
    if baseline is not None:
        echoes["original"] = baseline
    else:
        print("simple-websocket 1.1.0 could not be downloaded: left out", file=sys.stderr)
    return echoes


TITLES = {
    "raw": "raw ASGI",
    "floor": "bare wrapper",
    "ours": "simple_websocket",
    "ours-limited": "  with max_message_size",
    "ours-metrics": "  with metrics on",
    "starlette": "starlette",
    "original": "simple-websocket 1.1.0",
}


async def measure(echo: Echo, count: int, frame: str | bytes) -> float:
    receive, send = script(count, frame)
    gc.collect()
    started = time.perf_counter_ns()
    await echo(dict(SCOPE), receive, send)
    return (time.perf_counter_ns() - started) / count


def count_instructions(name: str, binary: bool) -> int | None:
    """Instructions per echoed message for one contender, from icount (None where it cannot run)."""
    if not ICOUNT.exists() or shutil.which("valgrind") is None:
        return None
    command = [str(ICOUNT), "-a", "2000", "-b", "12000", "--", sys.executable, __file__, "--only", name]
    command += ["--messages", "{n}", *(["--binary"] if binary else [])]
    # One hash seed for every run: string hashes decide dict probing, and two runs with different
    # seeds differ by up to ~2% in start-up work, which icount's difference would count as per message.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    found = re.match(r"(\d+) instructions", result.stdout)
    return int(found.group(1)) if found else None


async def main(count: int, rounds: int, binary: bool, instructions: bool) -> None:
    echoes = contenders(binary)
    frame = BINARY_FRAME if binary else TEXT_FRAME
    best = dict.fromkeys(echoes, float("inf"))
    for _ in range(rounds):  # interleaved, so that drift on the machine hits every contender alike
        for name, echo in echoes.items():
            best[name] = min(best[name], await measure(echo, count, frame))
    counts = {name: count_instructions(name, binary) if instructions else None for name in echoes}
    reference = "original" if "original" in echoes else "raw"
    kind = "binary" if binary else "text"
    print(f"{kind} echo, {count} messages, best of {rounds} rounds (Python {sys.version.split()[0]})")
    print(
        f"{'contender':<24} {'ns/message':>11} {'ratio':>6} {'instructions':>13} {'ratio':>6}"
        f"  (ratio to {TITLES[reference]})"
    )
    for name, ns in best.items():
        line = f"{TITLES[name]:<24} {ns:>11.0f} {ns / best[reference]:>6.2f}"
        done, ref = counts[name], counts[reference]
        if done is not None and ref is not None:
            line += f" {done:>13,} {done / ref:>6.2f}"
        print(line)


def run_one(name: str, count: int, binary: bool) -> None:
    """Echo ``count`` messages through one contender once, with nothing else: for icount."""
    echo = contenders(binary)[name]
    receive, send = script(count, BINARY_FRAME if binary else TEXT_FRAME)

    async def run() -> None:
        await echo(dict(SCOPE), receive, send)

    asyncio.run(run())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--binary", action="store_true", help="echo binary frames instead of text")
    parser.add_argument("--instructions", action="store_true", help="also count instructions (needs valgrind)")
    parser.add_argument("--only", choices=sorted(TITLES), help="run one contender once, for icount")
    args = parser.parse_args()
    if args.only:
        run_one(args.only, args.messages, args.binary)
    else:
        asyncio.run(main(args.messages, args.rounds, args.binary, args.instructions))
