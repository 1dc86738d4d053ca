"""RespConnection: one plain Redis connection (RESP2) for the two calls every message makes.

Appending a message and reading it are the broker's hot path: through coredis each costs about
650,000 instructions (its writer and reader tasks, memory streams and timeouts per command), here
about a fifth of it. Everything else (scripts at start, presence, history, heartbeats) stays on
coredis; see ``RedisBackend``. One command (or one pipelined batch) at a time per connection; a
call interrupted between its write and its reply (cancelled, timed out) closes the connection,
since its reply would otherwise be taken for the next one's: the next call opens a new one.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias, cast
from urllib.parse import unquote, urlsplit

import anyio
import anyio.abc

from .._loop import on_asyncio

__all__ = ["Arg", "Reply", "RespAddress", "RespConnection", "RespError"]

Reply: TypeAlias = "bytes | int | list[Reply] | RespError | None"
Arg: TypeAlias = "bytes | str | int"

#: How much one receive takes from the socket.
_CHUNK = 65536


class RespError(Exception):
    """An error reply from Redis (``-ERR ...``, ``-NOSCRIPT ...``): the command failed, the connection is fine."""


class _Incomplete(Exception):
    """The buffer ends inside a reply: receive more."""


@dataclass(frozen=True)
class RespAddress:
    """Where and how to connect: parsed from a ``redis://``, ``rediss://`` or ``unix://`` URL."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None
    tls: bool = False
    username: str | None = None
    password: str | None = None
    db: int = 0

    @classmethod
    def parse(cls, url: str) -> RespAddress | None:
        """The address ``url`` names, or None if it uses options only coredis understands (a query)."""
        parts = urlsplit(url)
        if parts.query or parts.fragment or parts.scheme not in ("redis", "rediss", "unix"):
            return None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if parts.scheme == "unix":
            return cls(path=unquote(parts.path), username=username, password=password)
        db = parts.path.strip("/")
        if db and not db.isdigit():
            return None
        try:
            port = parts.port or 6379
        except ValueError:
            return None
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            tls=parts.scheme == "rediss",
            username=username,
            password=password,
            db=int(db or 0),
        )


class _Stream(Protocol):
    """What a connection needs of its byte stream: an anyio stream, or _AsyncioStream on asyncio."""

    async def send(self, item: bytes, /) -> None: ...
    async def receive(self, max_bytes: int = 65536, /) -> bytes: ...
    async def aclose(self) -> None: ...


class _AsyncioStream(asyncio.Protocol):
    """A socket on asyncio as a _Stream, with the anyio stream's errors.

    anyio's socket stream yields to the event loop after every send and pauses and resumes the
    transport's reading around every receive (two epoll_ctl calls); a command and its reply need
    neither, and every message costs two commands.
    """

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._chunks: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None  # a receive waiting for data
        self._drained: asyncio.Future[None] | None = None  # a send waiting for the buffer to drain
        self._lost: BaseException | None = None  # set once the connection is over

    @classmethod
    async def open(cls, address: RespAddress) -> _AsyncioStream:
        loop = asyncio.get_running_loop()
        stream = cls()
        if address.path is not None:
            await loop.create_unix_connection(lambda: stream, address.path)
        elif address.tls:
            context = ssl.create_default_context()
            await loop.create_connection(lambda: stream, address.host, address.port, ssl=context)
        else:
            await loop.create_connection(lambda: stream, address.host, address.port)
        return stream

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have every method of asyncio.Transport but do not subclass it.
        self._transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._wake(self._waiter)

    def eof_received(self) -> bool:
        self._lost = anyio.EndOfStream()
        self._wake(self._waiter)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._lost is None:
            self._lost = anyio.BrokenResourceError() if exc is not None else anyio.EndOfStream()
            if exc is not None:
                self._lost.__cause__ = exc
        self._wake(self._waiter)
        self._wake(self._drained)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        self._wake(self._drained)
        self._drained = None

    @staticmethod
    def _wake(future: asyncio.Future[None] | None) -> None:
        if future is not None and not future.done():
            future.set_result(None)

    async def send(self, item: bytes, /) -> None:
        if self._lost is not None or self._transport is None:
            raise self._lost or anyio.ClosedResourceError()
        self._transport.write(item)
        drained = self._drained
        if drained is not None:
            await drained
            if self._lost is not None:
                raise self._lost

    async def receive(self, max_bytes: int = 65536, /) -> bytes:
        while not self._chunks:
            if self._lost is not None:
                raise self._lost
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            await waiter
        chunk = self._chunks.popleft()
        if len(chunk) > max_bytes:
            self._chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        return chunk

    async def aclose(self) -> None:
        if self._lost is None:
            self._lost = anyio.ClosedResourceError()
        if self._transport is not None:
            self._transport.abort()


class RespConnection:
    """Commands and their replies, in turn; open with ``await RespConnection.open(address)``."""

    __slots__ = ("_buffer", "_busy", "_stream", "_waiters")

    def __init__(self, stream: _Stream) -> None:
        self._stream: _Stream | None = stream
        self._buffer = b""
        self._busy = False
        self._waiters: deque[anyio.Event] = deque()

    @classmethod
    async def open(cls, address: RespAddress) -> RespConnection:
        """Connect, authenticate, select the database: OSError if Redis is out of reach, RespError if it refuses."""
        stream: _Stream
        if on_asyncio():
            stream = await _AsyncioStream.open(address)
        elif address.path is not None:
            stream = await anyio.connect_unix(address.path)
        elif address.tls:
            stream = await anyio.connect_tcp(
                address.host, address.port, tls=True, ssl_context=ssl.create_default_context()
            )
        else:
            stream = await anyio.connect_tcp(address.host, address.port)
        connection = cls(stream)
        try:
            setup: list[list[Arg]] = []
            if address.password is not None:
                who = [address.username] if address.username else []
                setup.append(["AUTH", *who, address.password])
            if address.db:
                setup.append(["SELECT", address.db])
            for reply in await connection.pipeline(setup) if setup else ():
                if isinstance(reply, RespError):
                    raise reply
        except BaseException:
            await connection.aclose()
            raise
        return connection

    @property
    def closed(self) -> bool:
        return self._stream is None

    async def call(self, *args: Arg) -> Reply:
        """One command's reply; an error reply is returned as a RespError, not raised."""
        return (await self.pipeline([args]))[0]

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[Reply]:
        """Send ``commands`` in one write and return their replies in order.

        Raises anyio.ClosedResourceError once the connection is closed, and the stream's errors
        (OSError, anyio.BrokenResourceError, anyio.EndOfStream) if it breaks meanwhile.
        """
        if self._busy:
            waiter = anyio.Event()
            self._waiters.append(waiter)
            try:
                await waiter.wait()  # the holder hands the turn over: _busy stays True
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.is_set():
                    self._next()  # handed over just as this task was cancelled: pass it on
                raise
        self._busy = True
        try:
            stream = self._stream
            if stream is None:
                raise anyio.ClosedResourceError
            try:
                await stream.send(b"".join(_command(args) for args in commands))
                return [await self._reply() for _ in commands]
            except BaseException:
                await self.aclose()  # a reply may be on its way: it must not reach the next caller
                raise
        finally:
            self._next()

    def _next(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()
        else:
            self._busy = False

    async def _reply(self) -> Reply:
        # Most replies are whole in the first chunk: parsed at once. A longer one is then scanned
        # chunk by chunk, each once, and parsed when it is whole (parsing it again from its first
        # byte at every chunk would cost in the square of its length).
        scan: _Scan | None = None
        while True:
            buffer = self._buffer
            if buffer:
                if scan is None:
                    try:
                        reply, end = _parse(buffer, 0)
                    except _Incomplete:
                        scan = _Scan()
                    else:
                        self._buffer = buffer[end:]
                        return reply
                if scan.complete(buffer):
                    reply, end = _parse(buffer, 0)
                    self._buffer = buffer[end:]
                    return reply
            stream = self._stream
            if stream is None:
                raise anyio.ClosedResourceError
            self._buffer = buffer + await stream.receive(_CHUNK)

    async def aclose(self) -> None:
        """Close the connection at once (no goodbye to a TLS peer); calls after it raise ClosedResourceError."""
        stream, self._stream = self._stream, None
        self._buffer = b""
        if stream is not None:
            with anyio.CancelScope(shield=True):
                if isinstance(stream, anyio.abc.ByteStream):
                    await anyio.aclose_forcefully(stream)
                else:
                    await stream.aclose()


def _command(args: Sequence[Arg]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg.encode() if isinstance(arg, str) else b"%d" % arg if isinstance(arg, int) else arg
        parts.append(b"$%d\r\n%b\r\n" % (len(raw), raw))
    return b"".join(parts)


class _Scan:
    """Whether a buffer holds a whole reply yet, going on from where the last look stopped."""

    __slots__ = ("pending", "position")

    def __init__(self) -> None:
        self.position = 0
        self.pending = [1]  # items still to come, per array open at ``position`` (the reply itself first)

    def complete(self, buffer: bytes) -> bool:
        position, pending = self.position, self.pending
        while pending:
            if pending[-1] == 0:
                pending.pop()
                continue
            end = buffer.find(b"\r\n", position)
            if end < 0:
                break
            kind = buffer[position]
            after = end + 2
            if kind == 36:  # $: a bulk string's body follows its length (none for $-1, null)
                size = int(buffer[position + 1 : end])
                if size >= 0:
                    after += size + 2
                    if len(buffer) < after:
                        break
            pending[-1] -= 1
            if kind == 42:  # *: its items follow (none for *0 and *-1)
                count = int(buffer[position + 1 : end])
                if count > 0:
                    pending.append(count)
            position = after
        self.position = position
        return not pending


def _parse(buffer: bytes, start: int) -> tuple[Reply, int]:
    """The reply that starts at ``start`` and where it ends; _Incomplete if it goes past the buffer."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        raise _Incomplete
    kind = buffer[start]
    line = buffer[start + 1 : end]
    position = end + 2
    if kind == 36:  # $: bulk string, or $-1: null
        size = int(line)
        if size < 0:
            return None, position
        if len(buffer) < position + size + 2:
            raise _Incomplete
        return buffer[position : position + size], position + size + 2
    if kind == 42:  # *: array, or *-1: null
        count = int(line)
        if count < 0:
            return None, position
        items: list[Reply] = []
        for _ in range(count):
            item, position = _parse(buffer, position)
            items.append(item)
        return items, position
    if kind == 58:  # :
        return int(line), position
    if kind == 43:  # +
        return line, position
    if kind == 45:  # -
        return RespError(line.decode(errors="replace")), position
    raise RespError(f"not a RESP2 reply: {buffer[start : start + 20]!r}")
