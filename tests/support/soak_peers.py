"""Clients for the soak suite: well-behaved ones (the websockets client) and broken ones (raw sockets).

Every wait is bounded: by LIMIT for one step, by the caller's deadline for a whole scenario.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

import orjson
from websockets.asyncio.client import ClientConnection, connect

from .ws_client import LIMIT

T = TypeVar("T")

SMALL_BUFFER = 4096
"""Receive buffer of the clients that read slowly or not at all (bytes; the kernel may double it)."""

HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("ws://").split(":")
    return host, int(port)


def opening(url: str, **options: object) -> connect:
    """The websockets client without compression (the load is about the wrapper, not zlib)."""
    return connect(url, open_timeout=LIMIT, close_timeout=LIMIT, compression=None, **options)  # type: ignore[arg-type]  # websockets' options are keyword-typed


async def slow_reader(url: str, **options: object) -> ClientConnection:
    """A websockets client that stops reading from its socket once one message waits unread.

    Its receive buffer is tiny and set before connecting, so that the TCP window stays small:
    the server's sends to it soon block (where the server applies backpressure at all).
    """
    host, port = address("ws://" + url.split("/")[2])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
    sock.setblocking(False)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), LIMIT)
    return await opening(url, sock=sock, max_queue=1, **options)


async def stats(base: str) -> dict[str, object]:
    """What the soak app reports over ``GET /stats`` (see tests/support/soak_app.py)."""
    host, port = address(base)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), LIMIT)
    try:
        writer.write(f"GET /stats HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        response = await asyncio.wait_for(reader.read(), LIMIT)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    result = orjson.loads(body)
    assert isinstance(result, dict)
    return result


def dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return out


def outcomes(report: dict[str, object], tag: str) -> dict[str, int]:
    every = report["outcomes"]
    assert isinstance(every, dict)
    counts = every.get(tag, {})
    assert isinstance(counts, dict)
    return counts


def notes(report: dict[str, object], tag: str) -> list[float]:
    every = report["notes"]
    assert isinstance(every, dict)
    values = every.get(tag, [])
    assert isinstance(values, list)
    return values


async def settled(base: str, tag: str, count: int, *, within: float = LIMIT, noted: int = 0) -> dict[str, object]:
    """Poll ``/stats`` until ``count`` handlers of ``tag`` have ended (and ``noted`` numbers are noted).

    Returns the last report either way: the caller asserts what it expected.
    """
    deadline = asyncio.get_running_loop().time() + within
    while True:
        report = await stats(base)
        done = sum(outcomes(report, tag).values()) >= count and len(notes(report, tag)) >= noted
        if done or asyncio.get_running_loop().time() > deadline:
            return report
        await asyncio.sleep(0.05)


async def bounded_gather(limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most ``limit`` at a time; their results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


def frame(payload: bytes, *, opcode: int = 0x1, length: int | None = None) -> bytes:
    """A masked client frame; ``length`` may claim more than ``payload`` holds (a frame cut short)."""
    size = len(payload) if length is None else length
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65_536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return header + mask + masked


class _Socket(Protocol):
    def setsockopt(self, level: int, option: int, value: bytes, /) -> None: ...


def reset(sock: _Socket) -> None:
    """Make the next close of ``sock`` (a socket, or asyncio's view of one) a TCP reset instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def drop(client: ClientConnection) -> None:
    """End the client's TCP connection with a reset: no close frame, no FIN."""
    transport = client.transport
    assert transport is not None
    if transport.is_closing():
        return  # ended already
    reset(transport.get_extra_info("socket"))
    transport.abort()


class RawPeer:
    """A WebSocket client on a bare non-blocking socket: it reads only when told to."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    async def connect(cls, base: str, *, small_buffer: bool = False) -> RawPeer:
        host, port = address(base)
        sock = socket.socket()
        if small_buffer:  # before connecting, so that the TCP window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        sock.setblocking(False)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, port)), LIMIT)
        return cls(sock)

    async def send(self, data: bytes) -> None:
        await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(self.sock, data), LIMIT)

    async def handshake(self, base: str, path: str) -> bytes:
        """Send the opening handshake and read the response head; return it (101 expected)."""
        host, port = address(base)
        key = base64.b64encode(os.urandom(16)).decode()
        await self.send(HANDSHAKE.format(path=path, host=host, port=port, key=key).encode())
        head = b""
        loop = asyncio.get_running_loop()
        while b"\r\n\r\n" not in head:  # read byte by byte: nothing after the head is consumed
            byte = await asyncio.wait_for(loop.sock_recv(self.sock, 1), LIMIT)
            if not byte:
                break
            head += byte
        return head

    def answered(self) -> bool:
        """Whether the server has answered (an HTTP error) or ended this connection, without reading it."""
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True
        return True

    def close(self, *, abort: bool = False) -> None:
        if abort:
            reset(self.sock)
        self.sock.close()
