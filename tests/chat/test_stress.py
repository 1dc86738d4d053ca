"""Many clients in one room, and a client that stops reading, on a real uvicorn process."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.abc
import orjson
import pytest
from websockets.datastructures import Headers
from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.http11 import Request

from ..servers import ROOT, running
from .clients import join, say, until

pytestmark = [pytest.mark.anyio, pytest.mark.server]

CLIENTS = 200
SENDERS = 10
PER_SENDER = 10
ARTIFACTS = ROOT / "test-artifacts"



@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.chat.app:app") as base:
        yield base


@pytest.fixture(scope="module")
def small_queue_url() -> Iterator[str]:
    """A room where 64 unsent events make a member too slow, so the test needs little data."""
    with running("uvicorn-websockets", "examples.chat.app:app", env={"CHAT_QUEUE_SIZE": "64"}) as base:
        yield base


async def asleep_client(url: str, nick: str) -> anyio.abc.SocketStream:
    """A client that opens the WebSocket, joins, and then never reads: its tiny receive window
    fills at once, so the server's sends to it block."""
    host, port = url.removeprefix("ws://").split(":")
    stream = await anyio.connect_tcp(host, int(port))
    stream.extra(anyio.abc.SocketAttribute.raw_socket).setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = Request("/ws", Headers({"Host": f"{host}:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
                                     "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
                                     "Sec-WebSocket-Version": "13"}))
    await stream.send(request.serialize())
    response = b""
    while b"\r\n\r\n" not in response:
        response += await stream.receive()
    assert response.startswith(b"HTTP/1.1 101"), response
    join_frame = Frame(Opcode.TEXT, orjson.dumps({"type": "join", "nick": nick}))
    await stream.send(join_frame.serialize(mask=True, extensions=[]))
    return stream


def record(name: str, text: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_text(text)
    return path


async def test_every_message_reaches_every_client_in_the_same_order(url: str) -> None:
    clients: list[ClientConnection] = []
    for index in range(CLIENTS):
        client, _ = await join(url, f"user{index}", max_queue=None)
        clients.append(client)
    total = SENDERS * PER_SENDER
    seen: list[list[tuple[object, object]]] = [[] for _ in clients]

    async def collect(index: int) -> None:
        while len(seen[index]) < total:
            event = await until(clients[index], lambda e: e["type"] == "message")
            seen[index].append((event["nick"], event["text"]))

    async def send_all(index: int) -> None:
        for number in range(PER_SENDER):
            await say(clients[index], f"{index}:{number}")

    started = time.perf_counter()
    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for index in range(CLIENTS):
                group.start_soon(collect, index)
            for index in range(SENDERS):
                group.start_soon(send_all, index)
    elapsed = time.perf_counter() - started
    for client in clients:
        await client.close()

    assert all(sequence == seen[0] for sequence in seen), "clients saw different orders"
    assert len(seen[0]) == total
    for sender in range(SENDERS):
        texts = [text for nick, text in seen[0] if nick == f"user{sender}"]
        assert texts == [f"{sender}:{number}" for number in range(PER_SENDER)]
    record("chat-stress.txt", f"{CLIENTS} clients, {total} messages, {CLIENTS * total} deliveries in {elapsed:.2f} s "
                              f"({CLIENTS * total / elapsed:.0f} deliveries/s)\n")


async def test_a_client_that_stops_reading_is_dropped_and_the_others_keep_going(small_queue_url: str) -> None:
    sender, _ = await join(small_queue_url, "talker", max_queue=None)
    reader, _ = await join(small_queue_url, "listener", max_queue=None)
    sleeper = await asleep_client(small_queue_url, "sleeper")
    text = "x" * 2000
    received = 0
    dropped: dict[str, object] = {}

    async def listen() -> None:
        nonlocal received
        while not dropped:
            event = await until(reader, lambda e: e["type"] in ("message", "leave"))
            if event["type"] == "message":
                received += 1
            elif event["nick"] == "sleeper":
                dropped.update(event)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(listen)
            for sent in range(1, 20_001):
                await say(sender, text)
                if dropped:
                    break
                if sent % 5 == 0:  # a steady pace that live clients keep up with
                    await anyio.sleep(0.005)
            group.cancel_scope.cancel()
    assert dropped["reason"] == "too slow"
    assert received > 0
    await say(sender, "after the drop")
    assert (await until(reader, lambda e: e["type"] == "message" and e["text"] == "after the drop"))
    await sleeper.aclose()
    record("chat-slow-client.txt", f"slow client dropped after {sent} messages of 2000 characters; "
                                   f"the reader received {received} meanwhile\n")
    await sender.close()
    await reader.close()
