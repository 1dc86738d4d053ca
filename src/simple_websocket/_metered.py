"""The metered connection: WebSocketASGI's message path, counting its messages on itself.

With metrics on (``metrics.enable()``), ``WebSocketASGI(...)`` builds an instance of
``metered_class(cls)`` instead: cls itself first (so that a subclass's overrides and their
``super()`` calls still run), then ``MeteredWebSocketASGI``. Its ``receive()`` and ``send()``
repeat the common case of WebSocketASGI's (an armed ``_rx``, a parked turn) with a count
added in place, and hand every other case to WebSocketASGI's own and count what it returns. A
shared helper would cost a coroutine per message; this copy is why a connection without
metrics pays nothing for them. Change both copies or neither
(``tests/test_metered.py`` runs the common suites through both).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TypeVar, overload

from . import _telemetry
from ._transport import Transport
from ._websocket import _CLOSED, _OPEN, _PEER_GONE, WebSocketASGI
from .exceptions import ConnectionClosed, PeerError
from .typing import Data

__all__ = ["MeteredWebSocketASGI", "metered_class"]

W = TypeVar("W", bound=WebSocketASGI)

_monotonic = time.monotonic


class MeteredWebSocketASGI(WebSocketASGI):
    """A WebSocketASGI that counts its messages and reports its handshake and close."""

    __slots__ = ()

    @overload
    async def receive(self, timeout: None = None) -> Data: ...

    @overload
    async def receive(self, timeout: float) -> Data | None: ...

    async def receive(self, timeout: float | None = None) -> Data | None:
        server_receive = self._rx
        if server_receive is None or timeout is not None:
            got = await WebSocketASGI.receive(self, timeout)
            if got is not None:
                self._count_in(got)
            return got
        # WebSocketASGI.receive's common case, counted (keep the two alike).
        self._rx = None
        try:
            item = await server_receive()
        except PeerError:
            raise
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        finally:
            self._rx = self._asgi_receive
        try:
            if item["type"] == "websocket.receive":
                data = item.get("text")
                if data is None:
                    data = item["bytes"]
                    if data.__class__ is bytes:
                        self._n_binary_in += 1.0
                        self._b_binary_in += len(data)
                        return data
                elif data.__class__ is str:
                    self._n_text_in += 1.0
                    self._b_text_in += len(data) if data.isascii() else len(data.encode())
                    return data
        except (KeyError, TypeError, AttributeError):
            pass
        parsed = self._parse(item)
        self._count_in(parsed)
        return parsed

    async def send(self, data: Data | bytearray | memoryview) -> None:
        server_send = self._tx
        if server_send is None:
            return await self._send_other(data)
        # WebSocketASGI.send's common case, counted (keep the two alike).
        kind = type(data)
        if kind is str:
            message: dict[str, object] = {"type": "websocket.send", "text": data}
            self._n_text_out += 1.0
            # UTF-8 bytes: isascii() is a flag's read; mypy does not narrow data through type(data).
            self._b_text_out += len(data) if data.isascii() else len(data.encode())  # type: ignore[union-attr]
        elif kind is bytes:
            message = {"type": "websocket.send", "bytes": data}
            self._n_binary_out += 1.0
            self._b_binary_out += len(data)
        else:
            return await self._send_other(data)
        self._tx = None
        try:
            await server_send(message)
        except _PEER_GONE as exc:
            raise self._lost(exc) from exc
        finally:
            if self._retx is not None:
                self._tx = server_send
            else:
                self._turn_release()

    async def _send_other(self, data: Data | bytearray | memoryview) -> None:
        """Every send but the common case: queued behind another sender, not over ASGI, bytes-like data.

        Timed from the call to the server taking the message.
        """
        started = _monotonic()
        await WebSocketASGI.send(self, data)
        self._count_out(data)
        recorder = _telemetry.recorder
        if recorder is not None:
            recorder.send_waited(_monotonic() - started)

    def _setup(
        self, transport: Transport, subprotocols: str | Sequence[str] | None, max_message_size: int | None
    ) -> None:
        WebSocketASGI._setup(self, transport, subprotocols, max_message_size)
        self._n_text_in = self._n_binary_in = self._n_text_out = self._n_binary_out = 0.0
        self._b_text_in = self._b_binary_in = self._b_text_out = self._b_binary_out = 0

    def _count_in(self, data: Data) -> None:
        if type(data) is str:
            self._n_text_in += 1.0
            self._b_text_in += len(data) if data.isascii() else len(data.encode())
        else:
            self._n_binary_in += 1.0
            self._b_binary_in += len(data)

    def _count_out(self, data: Data | bytearray | memoryview) -> None:
        if isinstance(data, str):
            self._n_text_out += 1.0
            self._b_text_out += len(data) if data.isascii() else len(data.encode())
        else:
            self._n_binary_out += 1.0
            self._b_binary_out += memoryview(data).nbytes

    def _handshake_ended(self, outcome: str) -> None:
        recorder = _telemetry.recorder
        if recorder is None:
            return
        recorder.handshake(outcome)
        if outcome == "accepted":
            self._opened_at = _monotonic()
            recorder.opened()
            _telemetry.count(self)

    def _finish(self, info: ConnectionClosed) -> ConnectionClosed:
        was_open = self._state is _OPEN
        error = WebSocketASGI._finish(self, info)
        if was_open:
            _telemetry.uncount(self)
        recorder = _telemetry.recorder
        if was_open and recorder is not None and self._state is _CLOSED:
            close = self._close_info
            assert close is not None
            recorder.closed(close.reason, close.by_peer, _monotonic() - self._opened_at)
        return error


_classes: dict[type[WebSocketASGI], type[WebSocketASGI]] = {MeteredWebSocketASGI: MeteredWebSocketASGI}


def metered_class(cls: type[W]) -> type[W]:
    """The metered subclass of ``cls`` (made once per class)."""
    made = _classes.get(cls)
    if made is None:
        if cls is WebSocketASGI:
            made = MeteredWebSocketASGI
        else:
            attributes = {"__slots__": (), "__module__": cls.__module__, "__qualname__": cls.__qualname__}
            made = type(cls.__name__, (cls, MeteredWebSocketASGI), attributes)
        _classes[cls] = made
    return made  # type: ignore[return-value]  # made is a subclass of cls, by construction
