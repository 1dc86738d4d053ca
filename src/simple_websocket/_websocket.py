"""WebSocketASGI: one WebSocket connection as a simple object."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import Enum
from typing import cast, overload

import anyio
from typing_extensions import Self

from . import _telemetry
from ._asgi import ASGITransport
from ._events import Accept, Close, Connect, Deny, Disconnect, InboundEvent
from ._loop import on_asyncio
from ._origin import DENIAL, Origins, OriginsLike
from ._request import Request, offered_subprotocols
from ._send_turns import SendTurns
from ._transport import Transport
from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    HandshakeTimeout,
    InvalidArgument,
    InvalidData,
    InvalidState,
    MalformedMessage,
    MessageTooBig,
    OriginRefused,
    PeerError,
)
from .typing import ASGIReceive, ASGISend, Data, Headers, HeadersLike, Scope

__all__ = ["ConnectionState", "WebSocketASGI"]

# What ASGI servers raise from send() once the peer is gone (the ASGI spec asks for an
# OSError; older servers raise RuntimeError, anyio-based ones their stream errors).
_PEER_GONE = (OSError, RuntimeError, anyio.BrokenResourceError, anyio.ClosedResourceError)


def _retrieve(task: asyncio.Future[Mapping[str, object]]) -> None:
    """Mark a held receive's error as seen: the connection reports it, or it ended without a reader."""
    if not task.cancelled():
        task.exception()


class ConnectionState(Enum):
    """Where a connection is in its life; every public method checks it first."""

    CONNECTING = "connecting"
    """Not accepted yet: call open() or reject() (or use WebSocketASGI.accept())."""
    OPEN = "open"
    """Accepted: messages flow both ways."""
    CLOSED = "closed"
    """Over: see close_info for who closed it and why."""


# What an ASGI server's send takes: plain dicts (ASGISend accepts any one-argument callable).
_ServerSend = Callable[[dict[str, object]], Awaitable[object]]

_CONNECTING = ConnectionState.CONNECTING
_OPEN = ConnectionState.OPEN
_CLOSED = ConnectionState.CLOSED


class WebSocketASGI(SendTurns[_ServerSend]):
    """A WebSocket connection over ASGI (or any Transport): receive and send str or bytes.

    Most code calls ``ws = await WebSocketASGI.accept(scope, receive, send)``. To inspect the
    request before deciding, construct it, read ``ws.request``, then ``await ws.open()`` or
    ``await ws.reject(...)``.
    """

    __slots__ = (
        "__weakref__",
        "_asgi_receive",
        "_asgi_send",
        "_b_binary_in",
        "_b_binary_out",
        "_b_text_in",
        "_b_text_out",
        "_close_info",
        "_connect_seen",
        "_held",
        "_max_size",
        "_n_binary_in",
        "_n_binary_out",
        "_n_text_in",
        "_n_text_out",
        "_opened_at",
        "_receiving",
        "_request",
        "_rx",
        "_state",
        "_subprotocols",
        "_transport",
        "subprotocol",
    )

    # The per-message path over ASGI, in receive() and send(), rests on two tokens, each
    # taken with one store and put back with one store: one check instead of a state check,
    # a concurrency flag and a transport check, and no call.
    # - _rx is the server's receive while a receive may start at once (open over ASGI, no
    #   size limit, no receive in flight), else None. receive() takes it and puts back
    #   _asgi_receive, which _finish() clears, so a connection closed meanwhile stays closed.
    # - the send turn is parked in _tx (the server's send) while the connection is open over
    #   ASGI and nobody is sending; see SendTurns, the base class that holds the turn.
    # Anything else (another Transport, a size limit, a timeout, bytes-like data, a queue of
    # senders, a closed connection) finds None there and takes the general path,
    # _receive_slow() or _send_slow(), which also decides which error to raise.
    _asgi_receive: ASGIReceive | None
    _asgi_send: _ServerSend | None
    _rx: ASGIReceive | None
    # Set and used by the metered subclass only (_metered.py): its counts and when it opened.
    _n_text_in: float
    _n_binary_in: float
    _n_text_out: float
    _n_binary_out: float
    _b_text_in: int
    _b_binary_in: int
    _b_text_out: int
    _b_binary_out: int
    _opened_at: float

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        # With metrics on, the connection is of the metered subclass of cls (see _metered.py),
        # so that a connection without metrics runs a message path that counts nothing.
        metered = _telemetry.metered
        return object.__new__(cls if metered is None else metered(cls))

    def __init__(
        self,
        scope: Scope,
        receive: ASGIReceive,
        send: ASGISend,
        subprotocols: str | Sequence[str] | None = None,
        *,
        max_message_size: int | None = None,
    ) -> None:
        self._setup(ASGITransport(scope, receive, send), subprotocols, max_message_size)
        # The message path reads and writes ASGI dicts in place (see _asgi.py for the rest);
        # open() arms it with the server's callables.
        self._asgi_receive = receive
        self._asgi_send = cast("_ServerSend", send)

    def _setup(
        self, transport: Transport, subprotocols: str | Sequence[str] | None, max_message_size: int | None
    ) -> None:
        if max_message_size is not None and max_message_size < 0:
            raise InvalidArgument(f"max_message_size must be >= 0, got {max_message_size}")
        self._transport = transport
        self._asgi_receive = self._rx = None
        self._asgi_send = None
        if isinstance(subprotocols, str):
            subprotocols = (subprotocols,)
        self._subprotocols = tuple(subprotocols or ())
        self._max_size = max_message_size
        self._state = _CONNECTING
        self._connect_seen = False
        self._receiving = False
        self._held: asyncio.Future[Mapping[str, object]] | None = None
        SendTurns.__init__(self)
        self._close_info: ConnectionClosed | None = None
        self._request: Request | None = None
        self.subprotocol: str | None = None
        """The subprotocol agreed with the client, or None."""

    @classmethod
    def from_transport(
        cls,
        transport: Transport,
        subprotocols: str | Sequence[str] | None = None,
        *,
        max_message_size: int | None = None,
    ) -> Self:
        """Make a connection over any Transport (see ``simple_websocket.testing``)."""
        ws = cls.__new__(cls)
        ws._setup(transport, subprotocols, max_message_size)
        return ws

    @classmethod
    async def accept(
        cls,
        scope: Scope,
        receive: ASGIReceive,
        send: ASGISend,
        subprotocols: str | Sequence[str] | None = None,
        *,
        headers: HeadersLike | None = None,
        max_message_size: int | None = None,
        timeout: float | None = None,
        origins: OriginsLike | None = None,
    ) -> Self:
        """Wait for the client to connect, agree on a subprotocol, accept, and return the connection.

        With ``origins``, a handshake from any other origin is refused (HTTP 403) and
        OriginRefused raised; None (the default) checks nothing, as simple-websocket does.
        """
        ws = cls(scope, receive, send, subprotocols, max_message_size=max_message_size)
        await ws.open(headers=headers, timeout=timeout, origins=origins)
        return ws

    # -- state ---------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """Where the connection is in its life."""
        return self._state

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return self._state is _OPEN

    @property
    def close_info(self) -> ConnectionClosed | None:
        """None until the connection closes; then who closed it, with which code and text."""
        return self._close_info

    @property
    def request(self) -> Request:
        """The request that opened the connection: path, query, headers, client, subprotocols."""
        if self._request is None:
            self._request = Request.from_scope(self._transport.scope)
        return self._request

    @property
    def scope(self) -> Scope:
        """The raw ASGI scope, for keys the Request view does not cover."""
        return self._transport.scope

    # -- handshake -----------------------------------------------------------------------

    async def open(
        self, *, headers: HeadersLike | None = None, timeout: float | None = None, origins: OriginsLike | None = None
    ) -> None:
        """Accept the connection: agree on a subprotocol and send the acceptance.

        Raises ConnectionClosed if the client left first, HandshakeTimeout if it did not ask
        to connect within ``timeout`` seconds, OriginRefused (after refusing with HTTP 403) if
        ``origins`` is given and the handshake's Origin is not among them.
        """
        extra = _headers(headers)
        if origins is not None:
            await self.check_origin(origins, timeout=timeout)
        await self._wait_for_connect(timeout)
        offered = offered_subprotocols(self.scope.get("subprotocols"))
        chosen = next((name for name in offered if name in self._subprotocols), None)
        try:
            await self._answer(Accept(chosen, extra))
        except ConnectionClosed:
            self._handshake_ended("client_left")
            raise
        self.subprotocol = chosen
        self._state = _OPEN
        self._handshake_ended("accepted")
        if self._asgi_send is not None:  # arm the per-message path (see the class's comment)
            self._rx = self._rearmed()
            self._turn_park(self._asgi_send)

    async def check_origin(self, origins: OriginsLike, *, timeout: float | None = None) -> None:
        """Refuse the connection (HTTP 403) and raise OriginRefused unless its Origin is allowed.

        Waits for the client to ask to connect first. On return the connection is still
        unanswered: go on with ``open()`` or ``reject()``.
        """
        policy = Origins.of(origins)
        await self._wait_for_connect(timeout)
        if policy.allows(self.request):
            return
        refused = OriginRefused(self.request.header("origin"))
        self._handshake_ended("origin_refused")
        await self._answer(DENIAL)
        self._finish(refused)
        raise refused

    async def reject(
        self,
        *,
        status: int = 403,
        headers: HeadersLike | None = None,
        body: bytes = b"",
        timeout: float | None = None,
    ) -> None:
        """Refuse the connection with an HTTP response (a plain 403 where the server cannot)."""
        if not 100 <= status <= 599:
            raise InvalidArgument(f"HTTP status must be 100-599, got {status}")
        extra = _headers(headers)
        await self._wait_for_connect(timeout)
        self._handshake_ended("refused")
        await self._answer(Deny(status, extra, bytes(body)))
        self._finish(ConnectionClosed(1008, f"rejected with HTTP {status}", by_peer=False))

    async def _wait_for_connect(self, timeout: float | None) -> None:
        if self._state is not _CONNECTING:
            raise InvalidState(f"the handshake is over: the connection is {self._state.value}")
        if self._connect_seen:
            return
        if self._receiving:
            raise ConcurrencyError("another task is already waiting for the client to connect")
        self._receiving = True
        try:
            with anyio.move_on_after(timeout) as deadline:
                event = self._transport.parse(await self._transport.receive())
        except _PEER_GONE as exc:
            if isinstance(exc, PeerError):
                raise
            self._handshake_ended("client_left")
            raise self._lost(exc) from exc
        finally:
            self._receiving = False
        if deadline.cancelled_caught:
            self._handshake_ended("timeout")
            raise HandshakeTimeout(f"the client did not ask to connect within {timeout} s")
        if isinstance(event, Connect):
            self._connect_seen = True
        elif isinstance(event, Disconnect):
            self._handshake_ended("client_left")
            raise self._finish(ConnectionClosed(event.code, event.reason))
        else:
            raise MalformedMessage("the client sent a message before asking to connect")

    async def _answer(self, event: Accept | Deny | Close) -> None:
        try:
            await self._transport.send(event)
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc

    # -- messages ------------------------------------------------------------------------

    @overload
    async def receive(self, timeout: None = None) -> Data: ...

    @overload
    async def receive(self, timeout: float) -> Data | None: ...

    async def receive(self, timeout: float | None = None) -> Data | None:
        """Wait for the next message: str for a text frame, bytes for a binary frame.

        With ``timeout`` (seconds), return None if nothing came in time; the connection
        stays usable. Raises ConnectionClosed once the connection is over, PeerError for an
        ASGI message it cannot use (the connection stays open).
        """
        server_receive = self._rx
        if server_receive is None or timeout is not None:
            server_receive = self._asgi_receive
            limit = self._max_size
            if (
                limit is None
                or server_receive is None
                or timeout is not None
                or self._receiving
                or self._held is not None
                or self._state is not _OPEN
            ):
                return await self._receive_slow(timeout)
            # Over ASGI with a size limit. _rx is never armed there, so that the limit's check
            # stays off the common path below; _receiving marks the receive in flight instead.
            # The branch repeats that path: a shared helper would cost a coroutine per message.
            self._receiving = True
            try:
                item = await server_receive()
            except PeerError:
                raise
            except _PEER_GONE as exc:
                raise self._lost(exc) from exc
            finally:
                self._receiving = False
            try:  # read in place as below
                if item["type"] == "websocket.receive":
                    data = item.get("text")
                    if data is None:
                        data = item["bytes"]
                        if data.__class__ is bytes and len(data) <= limit:
                            return data
                    elif data.__class__ is str and len(data) <= limit:
                        return data
            except (KeyError, TypeError, AttributeError):
                pass
            return await self._within_limit(self._parse(item))  # an odd message, or one too big
        self._rx = None  # a receive is in flight: another one now raises ConcurrencyError
        try:
            item = await server_receive()
        except PeerError:
            raise
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        finally:
            self._rx = self._asgi_receive  # None if the connection closed meanwhile
        # The common ASGI message, read in place; anything else goes through _parse(): the
        # transport's parse() decides every other case and every error. A missing key raises
        # KeyError here, a non-mapping TypeError or AttributeError: parse() says why. The
        # payload's exact type is read as __class__, which is type() for anything but a proxy
        # that overrides it (no server sends one) and costs fewer instructions.
        try:
            if item["type"] == "websocket.receive":
                data = item.get("text")
                if data is None:  # a binary frame, or hypercorn's "text": None beside it
                    data = item["bytes"]
                    if data.__class__ is bytes:
                        return data
                elif data.__class__ is str:
                    return data
        except (KeyError, TypeError, AttributeError):
            pass
        return self._parse(item)

    async def _receive_slow(self, timeout: float | None) -> Data | None:
        """receive() with a timeout, over another Transport, or to raise."""
        if self._held is not None or (timeout is not None and self._idle_server_receive() is not None and on_asyncio()):
            return await self._receive_held(timeout)
        if timeout is not None:
            with anyio.move_on_after(timeout):
                return await self.receive()
            return None
        # Over ASGI, an open connection whose receive() came here has one in flight.
        if self._state is not _OPEN or self._receiving or self._asgi_receive is not None:
            raise self._cannot_receive()
        self._receiving = True
        try:
            event = await self._transport.receive()
        except PeerError:
            raise
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        finally:
            self._receiving = False
        data = self._parse(event)
        if self._max_size is not None and len(data) > self._max_size:
            await self._within_limit(data)  # raises MessageTooBig
        return data

    async def _receive_held(self, timeout: float | None) -> Data | None:
        """A receive over ASGI on asyncio that a timeout must not cut short.

        The server's receive runs as a task of its own; a timeout leaves it running (held) and the
        next receive() takes its message. Cancelling it instead loses the message it was taking
        on servers whose receive is not cancellation-safe (granian). On trio, servers' receives
        are memory channels, which are.
        """
        if self._receiving:
            raise self._cannot_receive()
        held = self._held
        if held is None:
            server_receive = self._idle_server_receive()
            if server_receive is None:
                raise self._cannot_receive()
            held = self._held = asyncio.ensure_future(server_receive())
            held.add_done_callback(_retrieve)
            self._rx = None  # until the held message is taken, receive() comes here
        self._receiving = True
        try:
            done, _ = await asyncio.wait((held,), timeout=timeout)
        finally:
            self._receiving = False
        if not done:
            return None
        self._held = None
        self._rx = self._rearmed()  # None if the connection closed meanwhile
        try:
            item = held.result()
        except PeerError:
            raise
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        data = self._parse(item)
        if self._max_size is not None and len(data) > self._max_size:
            await self._within_limit(data)  # raises MessageTooBig
        return data

    def _rearmed(self) -> ASGIReceive | None:
        """What _rx holds when no receive is in flight: the server's receive, unless a size limit applies."""
        return self._asgi_receive if self._max_size is None else None

    def _idle_server_receive(self) -> ASGIReceive | None:
        """The server's receive if a receive over ASGI may start now, else None."""
        if self._max_size is None:
            return self._rx
        if self._state is _OPEN and not self._receiving and self._held is None:
            return self._asgi_receive
        return None

    def _parse(self, item: object) -> Data:
        """Read ``item`` through the transport: the message, or the error to raise for anything else."""
        event = self._transport.parse(item)
        if type(event) is str or type(event) is bytes:
            return event
        raise self._unexpected(event)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Data:
        """The next message; iteration ends on a normal close (1000/1001) and raises otherwise."""
        try:
            return await self.receive()
        except ConnectionClosed as closed:
            if closed.normal:
                raise StopAsyncIteration from None
            raise

    async def send(self, data: Data | bytearray | memoryview) -> None:
        """Send ``data``: str as a text frame, bytes-like as a binary frame.

        Concurrent senders take turns, one whole message each. Raises ConnectionClosed if
        the connection is over or the peer is gone.
        """
        server_send = self._tx  # the server's send while the turn is parked (see SendTurns)
        if server_send is None:
            return await self._send_slow(data)
        kind = type(data)
        if kind is str:
            message: dict[str, object] = {"type": "websocket.send", "text": data}
        elif kind is bytes:
            message = {"type": "websocket.send", "bytes": data}
        else:
            return await self._send_slow(data)
        self._tx = None  # the turn is ours
        try:
            await server_send(message)
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        finally:
            if self._retx is not None:  # nobody queued meanwhile and still open
                self._tx = server_send
            else:
                self._turn_release()

    async def _send_slow(self, data: object) -> None:
        """send() when the turn is not parked or ``data`` is not str or bytes: any Transport, any case."""
        event = _frame(data)
        await self._take_send_turn()
        try:
            await self._transport.send(event)
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        finally:
            self._turn_release()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason``; closing again does nothing.

        Before the connection is accepted, this refuses it (HTTP 403).
        """
        _check_close(code, reason)
        if self._state is _CLOSED:
            return
        if self._state is _CONNECTING:
            await self._wait_for_connect(None)
            self._handshake_ended("refused")
            self._finish(ConnectionClosed(code, reason, by_peer=False))
            await self._answer(Close(code, reason))
            return
        self._finish(ConnectionClosed(code, reason, by_peer=False))
        await self._turn_wait()
        try:
            await self._transport.send(Close(code, reason))
        except _PEER_GONE:
            pass  # the peer is gone already: the connection is closed either way
        finally:
            self._turn_release()

    # -- the ways out ----------------------------------------------------------------------

    def _handshake_ended(self, outcome: str) -> None:
        """The handshake ended with ``outcome``; the metered subclass reports it."""

    def _finish(self, info: ConnectionClosed) -> ConnectionClosed:
        """Record that the connection is over and return the error to raise."""
        if self._close_info is None:
            self._close_info = info
        self._state = _CLOSED
        self._asgi_receive = self._rx = None  # disarm the per-message path: every call now raises
        self._turn_stop_parking()
        held, self._held = self._held, None
        if held is not None:
            held.cancel()  # nobody will take its message now (and a server may never answer it)
        return self._closed()

    def _closed(self) -> ConnectionClosed:
        info = self._close_info
        assert info is not None
        return ConnectionClosed(info.reason, info.message, by_peer=info.by_peer)

    def _lost(self, exc: BaseException) -> ConnectionClosed:
        if self._state is _CLOSED:
            return self._closed()
        return self._finish(ConnectionClosed(1006, f"connection lost: {exc}", by_peer=True))

    def _cannot_receive(self) -> Exception:
        if self._state is _CLOSED:
            return self._closed()
        if self._state is _CONNECTING:
            return InvalidState("receive() before the connection is accepted: call open() first")
        return ConcurrencyError("another task is already receiving on this connection")

    def _unexpected(self, event: InboundEvent) -> Exception:
        if isinstance(event, Disconnect):
            if self._state is _CLOSED:
                return self._closed()
            return self._finish(ConnectionClosed(event.code, event.reason, by_peer=True))
        return MalformedMessage("the peer asked to connect on a connection that is already open")

    async def _within_limit(self, data: Data) -> Data:
        """``data`` if it fits max_message_size; else close with 1009 and raise MessageTooBig."""
        limit = self._max_size
        if limit is not None and len(data) > limit:
            error = MessageTooBig(len(data), limit)
            await self.close(1009, "message too big")
            raise error
        return data

    async def _take_send_turn(self) -> None:
        """The send turn for send() when it is not free at once: raise if the connection is not open."""
        if self._state is not _OPEN:
            if self._state is _CLOSED:
                raise self._closed()
            raise InvalidState("send() before the connection is accepted: call open() first")
        await self._turn_wait()
        if self._state is not _OPEN:
            self._turn_release()
            raise self._closed()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state.value} subprotocol={self.subprotocol!r}>"


def _frame(data: object) -> Data:
    if isinstance(data, str):
        return str(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise InvalidData(f"send() takes str or bytes-like data, not {type(data).__name__}")


_SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})


def _check_close(code: int, reason: str) -> None:
    if not (code in _SENDABLE_CODES or 3000 <= code <= 4999):
        raise InvalidArgument(f"close code {code} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999")
    if len(reason.encode("utf-8")) > 123:
        raise InvalidArgument("close reason must fit in 123 bytes of UTF-8")


def _headers(headers: HeadersLike | None) -> Headers:
    if headers is None:
        return ()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: list[tuple[bytes, bytes]] = []
    for name, value in pairs:
        raw_name = name.encode("latin-1") if isinstance(name, str) else bytes(name)
        raw_value = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        if any(c in raw_name + raw_value for c in (b"\r", b"\n", b"\0")) or not raw_name:
            raise InvalidArgument(f"invalid header {raw_name!r}: {raw_value!r}")
        result.append((raw_name.lower(), raw_value))
    return tuple(result)
