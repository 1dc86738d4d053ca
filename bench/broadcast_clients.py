"""The subscribers of bench/broadcast.py: one process holding ``--count`` connections to one server.

    python -m bench.broadcast_clients --kind ws --port 8001 --room bench-1a2b --count 100 --expected 2000

The process opens its connections one after the other, prints "ready" once all are open (for
socketio: connected, so in the room), then records every message each one receives. It ends when
every subscriber has all ``--expected`` messages, or ``--idle`` seconds after the publisher is done
(the driver writes "done" on stdin) with nothing new, or at ``--limit`` seconds; then it prints one
JSON report and closes its connections when the driver writes "close" (or closes stdin).

Messages are JSON objects ``{"n": <number>, "t": <time.monotonic_ns() at send>}``; CLOCK_MONOTONIC
is one clock for every process on Linux, so receive time minus ``t`` is the latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

import socketio
from typing_extensions import NotRequired, TypedDict
from websockets.asyncio.client import ClientConnection, connect

HOST = "127.0.0.1"
OPEN_TIMEOUT = 20.0
CLOSE_TIMEOUT = 5.0
#: After the first connection of a process: time for the server to subscribe the room before the
#: others join (broadcaster keeps only one of several first subscriptions to a channel made at once).
FIRST_PAUSE = 0.2
#: How often the process looks whether it is finished.
POLL = 0.05

OnMessage = Callable[[object, int], None]
"""Called with a decoded message and the time it was received (monotonic ns)."""


# -- what one subscriber received ---------------------------------------------------------------


class Tally:
    """Exact accounting of one subscriber's messages, numbered 0 to ``expected - 1``."""

    __slots__ = ("duplicated", "expected", "foreign", "highest", "latencies_us", "out_of_order", "received", "seen")

    def __init__(self, expected: int, latencies: bool) -> None:
        self.expected = expected
        self.seen = bytearray(expected)
        self.highest = -1
        self.received = 0  # every message, duplicates included
        self.duplicated = 0  # a number received again
        self.out_of_order = 0  # a number received for the first time after a higher one
        self.foreign = 0  # not a message of this run
        self.latencies_us: list[int] | None = [] if latencies else None

    @property
    def distinct(self) -> int:
        return self.received - self.duplicated - self.foreign

    @property
    def complete(self) -> bool:
        return self.distinct >= self.expected

    def record(self, message: object, received_ns: int) -> None:
        number, sent_ns = parse(message)
        self.received += 1
        if number is None or not 0 <= number < self.expected:
            self.foreign += 1
            return
        if self.seen[number]:
            self.duplicated += 1
            return
        self.seen[number] = 1
        if number < self.highest:
            self.out_of_order += 1
        self.highest = max(self.highest, number)
        if self.latencies_us is not None:
            self.latencies_us.append((received_ns - sent_ns) // 1000)


def parse(message: object) -> tuple[int | None, int]:
    """``(n, t)`` of a message; ``(None, 0)`` for anything else."""
    if isinstance(message, str | bytes):
        try:
            message = json.loads(message)
        except ValueError:
            return None, 0
    if isinstance(message, dict):
        number, sent = message.get("n"), message.get("t")
        if type(number) is int and type(sent) is int:
            return number, sent
    return None, 0


class Report(TypedDict):
    """What a client process prints at the end: totals over its subscribers."""

    subscribers: int
    expected: int  # messages per subscriber
    received: int  # every message received, duplicates and foreign ones included
    lost: int
    duplicated: int
    out_of_order: int
    foreign: int
    complete: int  # subscribers that got every message
    last_ns: int  # when the last message arrived (0: none did)
    closed_early: dict[str, int]  # connections the server ended, by close code and reason
    gave_up: str  # why it stopped before every subscriber was complete: "idle", "time limit" or "" (it did not)
    latencies_us: NotRequired[list[int]]  # with --latencies: every first delivery's latency


@dataclass
class Subscribers:
    """Every subscriber of this process, and when the last message arrived."""

    count: int
    expected: int
    latencies: bool
    tallies: list[Tally] = field(default_factory=list)
    last_ns: int = 0
    closed_early: dict[str, int] = field(default_factory=dict)

    def add(self) -> Tally:
        tally = Tally(self.expected, self.latencies)
        self.tallies.append(tally)
        return tally

    def on_message(self, tally: Tally) -> OnMessage:
        def record(message: object, received_ns: int) -> None:
            tally.record(message, received_ns)
            self.last_ns = received_ns

        return record

    def closed(self, why: str) -> None:
        self.closed_early[why] = self.closed_early.get(why, 0) + 1

    @property
    def complete(self) -> bool:
        return len(self.tallies) == self.count and all(tally.complete for tally in self.tallies)

    def report(self, gave_up: str) -> Report:
        tallies = self.tallies
        report: Report = {
            "subscribers": len(tallies),
            "expected": self.expected,
            "received": sum(tally.received for tally in tallies),
            "lost": sum(tally.expected - tally.distinct for tally in tallies),
            "duplicated": sum(tally.duplicated for tally in tallies),
            "out_of_order": sum(tally.out_of_order for tally in tallies),
            "foreign": sum(tally.foreign for tally in tallies),
            "complete": sum(tally.complete for tally in tallies),
            "last_ns": self.last_ns,
            "closed_early": self.closed_early,
            "gave_up": gave_up,
        }
        if self.latencies:
            report["latencies_us"] = [latency for tally in tallies for latency in tally.latencies_us or ()]
        return report


# -- connections: plain WebSocket (websockets) and Socket.IO (python-socketio) -------------------


class Connection(Protocol):
    """One open connection whose messages go to an OnMessage."""

    async def close(self) -> None: ...


class WebSocketConnection:
    """A websockets client connection to ``/rooms/<room>``, read by a task of its own."""

    def __init__(self, ws: ClientConnection, on_message: OnMessage, on_closed: Callable[[str], None]) -> None:
        self.ws = ws
        self.reader = asyncio.ensure_future(self.read(on_message, on_closed))

    @classmethod
    async def open(
        cls, port: int, room: str, on_message: OnMessage, on_closed: Callable[[str], None]
    ) -> WebSocketConnection:
        url = f"ws://{HOST}:{port}/rooms/{room}"
        ws = await connect(url, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, proxy=None)
        return cls(ws, on_message, on_closed)

    async def read(self, on_message: OnMessage, on_closed: Callable[[str], None]) -> None:
        try:
            async for message in self.ws:
                on_message(message, time.monotonic_ns())
        except Exception as exc:  # a connection closed with an error: counted, not raised
            on_closed(f"{type(exc).__name__}: {exc}"[:100])
        else:
            on_closed(f"{self.ws.close_code} {self.ws.close_reason}".strip())

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


class SocketIOConnection:
    """A python-socketio AsyncClient (WebSocket transport only) in room ``room``, "msg" events to on_message."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self.client = client
        self.closing = False

    @classmethod
    async def open(
        cls, port: int, room: str, on_message: OnMessage, on_closed: Callable[[str], None]
    ) -> SocketIOConnection:
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        connection = cls(client)

        def on_msg(data: object) -> None:
            on_message(data, time.monotonic_ns())

        def on_disconnect(reason: object = None) -> None:
            if not connection.closing:
                on_closed(f"disconnected: {reason}")

        client.on("msg", on_msg)
        client.on("disconnect", on_disconnect)
        await client.connect(
            f"http://{HOST}:{port}", transports=["websocket"], auth={"room": room}, wait_timeout=OPEN_TIMEOUT
        )
        return connection

    async def send(self, message: dict[str, int]) -> None:
        await self.client.emit("msg", message)

    async def close(self) -> None:
        self.closing = True
        await self.client.disconnect()


Opener = Callable[[int, str, OnMessage, Callable[[str], None]], Awaitable[Connection]]
OPENERS: dict[str, Opener] = {"ws": WebSocketConnection.open, "socketio": SocketIOConnection.open}


async def open_all(kind: str, port: int, room: str, subscribers: Subscribers) -> list[Connection]:
    """Open every subscriber's connection, one after the other."""
    connections: list[Connection] = []
    for index in range(subscribers.count):
        tally = subscribers.add()
        connection = await asyncio.wait_for(
            OPENERS[kind](port, room, subscribers.on_message(tally), subscribers.closed), OPEN_TIMEOUT
        )
        connections.append(connection)
        if index == 0:
            await asyncio.sleep(FIRST_PAUSE)
    return connections


async def close_all(connections: list[Connection]) -> None:
    """Close every connection, all at once, within a bound."""
    closing = [asyncio.ensure_future(connection.close()) for connection in connections]
    _, pending = await asyncio.wait(closing, timeout=CLOSE_TIMEOUT * 2) if closing else (set(), set())
    for task in pending:
        task.cancel()


# -- the process ---------------------------------------------------------------------------------


class Commands:
    """The driver's lines on stdin: "done" (the publisher is done), "close" (close the connections)."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.done_at = 0.0
        self.close = asyncio.Event()

    async def read(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while not self.close.is_set():
            line = await reader.readline()
            closed = not line  # stdin closed: the driver is gone
            if line.strip() == b"done" or closed:
                self.done_at = self.done_at or time.monotonic()
                self.done.set()
            if line.strip() == b"close" or closed:
                self.close.set()


async def finished(subscribers: Subscribers, commands: Commands, idle: float, limit: float) -> str:
    """Wait until every subscriber is complete (""), or nothing came for ``idle`` s ("idle"), or "time limit"."""
    give_up = time.monotonic() + limit
    while not subscribers.complete:
        now = time.monotonic()
        if now > give_up:
            return "time limit"
        last_message = subscribers.last_ns / 1e9
        if commands.done.is_set() and now - max(last_message, commands.done_at) > idle:
            return "idle"
        await asyncio.sleep(POLL)
    return ""


async def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    commands = Commands()
    reading = asyncio.ensure_future(commands.read())
    subscribers = Subscribers(args.count, args.expected, args.latencies)
    connections = await open_all(args.kind, args.port, args.room, subscribers)
    print("ready", flush=True)
    gave_up = await finished(subscribers, commands, args.idle, args.limit - (time.monotonic() - started))
    print(json.dumps(subscribers.report(gave_up)), flush=True)
    try:
        await asyncio.wait_for(commands.close.wait(), 60)
    except asyncio.TimeoutError:  # the builtin TimeoutError only from Python 3.11
        pass
    await close_all(connections)
    reading.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=sorted(OPENERS), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--count", type=int, required=True, help="connections (subscribers) to open")
    parser.add_argument("--expected", type=int, required=True, help="messages each subscriber should get")
    parser.add_argument("--latencies", action="store_true", help="report every delivery's latency")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds with nothing new, once the publisher is done")
    parser.add_argument("--limit", type=float, default=170.0, help="seconds from start to the report, at most")
    run_loop(run(parser.parse_args()))


def run_loop(main: Coroutine[object, object, None]) -> None:
    """asyncio.run, on uvloop when installed (as uvicorn does): the clients should not be the bottleneck."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
