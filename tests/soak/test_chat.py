"""Garbage JSON and oversized frames into the chat demo from many clients at once: others unaffected.

The chat runs as users start it, ``python -m examples.chat PORT`` (uvicorn, the room in memory).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from examples.chat import app as chat

from ..support.servers import HOST, LOGS, ROOT, free_port, stop
from ..support.soak_peers import opening
from ..support.ws_client import LIMIT

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.soak]

CALM = 20
"""Clients that chat as they should."""
SAID = 10
"""Messages each calm client says."""
JUNK = 50
"""Clients that send garbage: frames that are not JSON, JSON that is no chat message, binary noise."""
JUNK_FRAMES = 20
OVERSIZED = 30
"""Clients that send one frame over the chat's max_message_size."""
GARBAGE: list[str | bytes] = [
    "{",
    "not json",
    '{"type": "message", "text": ',
    "[1, 2",
    "\u2028\x00",
    '{"type": "message"}',
    '{"type": "message", "text": 42}',
    '{"type": "nope"}',
    "[]",
    "null",
    '"text"',
    '{"type": "ack", "received": -1}',
    b"\xff\xfe\x00garbage",
    b"{}",
]


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    port = free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    environment.pop("CHAT_REDIS_URL", None)
    environment.pop("CHAT_REDIS_CLUSTER_URL", None)
    with open(LOGS / f"chat-soak-{port}.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "examples.chat", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while not _listening(port):
                assert process.poll() is None, "the chat exited before listening"
                assert time.monotonic() < deadline, "the chat did not listen in time"
                time.sleep(0.05)
            yield f"ws://{HOST}:{port}/ws"
        finally:
            stop(process)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class Person:
    """A chat client that reads everything and acknowledges as the welcome asks."""

    def __init__(self, client: ClientConnection, nick: str) -> None:
        self.client = client
        self.nick = nick
        self.events: list[dict[str, object]] = []
        self.welcomed = asyncio.Event()
        self.changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ack_every = 16
        try:
            async for raw in self.client:
                event = orjson.loads(raw)
                assert isinstance(event, dict)
                self.events.append(event)
                if event.get("type") == "welcome" and isinstance(event.get("ack"), int):
                    ack_every = int(event["ack"])
                    self.welcomed.set()
                if len(self.events) % ack_every == 0:
                    await self.client.send(orjson.dumps({"type": "ack", "received": len(self.events)}).decode())
                self.changed.set()
        except ConnectionClosed:
            pass
        self.changed.set()

    def said(self, nick_prefix: str) -> list[str]:
        return [
            str(e["text"])
            for e in self.events
            if e.get("type") == "message" and str(e.get("nick", "")).startswith(nick_prefix)
        ]

    def errors(self) -> int:
        return sum(1 for e in self.events if e.get("type") == "error")

    async def until(self, done: object, within: float) -> None:
        """Wait until ``done()`` holds or ``within`` seconds pass."""
        assert callable(done)
        deadline = asyncio.get_running_loop().time() + within
        while not done() and not self.reader.done():
            self.changed.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                return

    def close_code(self) -> int | None:
        close = self.client.protocol.close_rcvd
        return None if close is None else close.code


class Everyone:
    """Lets the clients start once all of them have joined (so that each hears every calm message)."""

    def __init__(self, count: int) -> None:
        self.missing = count
        self.all_in = asyncio.Event()

    async def wait(self) -> None:
        self.missing -= 1
        if self.missing == 0:
            self.all_in.set()
        await self.all_in.wait()


@asynccontextmanager
async def joined(url: str, nick: str) -> AsyncIterator[Person]:
    async with opening(url, subprotocols=["chat.v2"], max_queue=None) as client:
        person = Person(client, nick)
        await client.send(orjson.dumps({"type": "join", "nick": nick}).decode())
        await asyncio.wait_for(person.welcomed.wait(), LIMIT)
        try:
            yield person
        finally:
            person.reader.cancel()


async def test_garbage_and_oversized_frames_from_many_clients_leave_the_others_unaffected(chat_url: str) -> None:
    expected = {f"calm-{n}": [f"calm-{n}:{i}" for i in range(SAID)] for n in range(CALM)}

    async def calm(number: int, everyone_in: Everyone) -> tuple[dict[str, list[str]], int, int | None]:
        async with joined(chat_url, f"calm-{number}") as person:
            await asyncio.wait_for(everyone_in.wait(), 60)
            for index in range(SAID):
                await person.client.send(orjson.dumps({"type": "message", "text": f"calm-{number}:{index}"}).decode())
                await asyncio.sleep(0.01)
            await person.until(lambda: len(person.said("calm-")) >= CALM * SAID, 60)
            heard = {nick: [t for t in person.said("calm-") if t.split(":")[0] == nick] for nick in expected}
            return heard, person.errors(), person.close_code()

    async def junk(number: int, everyone_in: Everyone) -> tuple[int, int | None]:
        async with joined(chat_url, f"junk-{number}") as person:
            await asyncio.wait_for(everyone_in.wait(), 60)
            for index in range(JUNK_FRAMES):
                await person.client.send(GARBAGE[(number + index) % len(GARBAGE)])
            await person.until(lambda: person.errors() >= JUNK_FRAMES, 60)
            return person.errors(), person.close_code()

    async def oversized(number: int, everyone_in: Everyone) -> int | None:
        async with joined(chat_url, f"big-{number}") as person:
            await asyncio.wait_for(everyone_in.wait(), 60)
            text = "x" * (chat.MAX_MESSAGE_SIZE + 1)
            await person.client.send(orjson.dumps({"type": "message", "text": text}).decode())
            await asyncio.wait_for(person.reader, LIMIT)
            return person.close_code()

    everyone_in = Everyone(CALM + JUNK + OVERSIZED)
    calms = [asyncio.create_task(calm(n, everyone_in)) for n in range(CALM)]
    junks = [asyncio.create_task(junk(n, everyone_in)) for n in range(JUNK)]
    bigs = [asyncio.create_task(oversized(n, everyone_in)) for n in range(OVERSIZED)]
    calm_results = await asyncio.wait_for(asyncio.gather(*calms), 120)
    junk_results = await asyncio.wait_for(asyncio.gather(*junks), 120)
    big_results = await asyncio.wait_for(asyncio.gather(*bigs), 120)
    for heard, errors, code in calm_results:
        assert heard == expected
        assert errors == 0
        assert code in (None, 1000)  # still open when the test left it (or closed normally as it left)
    assert junk_results == [(JUNK_FRAMES, None)] * JUNK  # an error event per frame, and still connected
    assert big_results == [1009] * OVERSIZED
