"""CodecSocket over a WebSocketASGI: objects through the connection's own message path.

``CodecSocket(ws, codec)`` builds one of these when ``ws`` is a WebSocketASGI whose
``receive``/``send`` are not overridden. Its ``receive()`` and ``send()`` are copies of the
connection's per-message path (see ``WebSocketASGI.receive``/``send``) with the codec applied
inside, so an object costs one coroutine per call as a str does, not two. Anything off the
common path (a timeout, another Transport, a size limit, an odd message, a queue of senders)
is handed to the connection's own methods, which decide every case and every error.
``tests/codecs/test_asgi_path.py`` checks that both ways give the same results and errors.
"""

from __future__ import annotations

from collections.abc import Callable

from typing_extensions import TypeVar

from .._websocket import _PEER_GONE, WebSocketASGI
from ..exceptions import ConnectionClosed, PeerError
from ..typing import Data
from ._base import Codec, CodecSocket
from ._convert import RawCodec, RawFunctions

__all__ = ["ASGICodecSocket", "fits"]

T = TypeVar("T", default=object)
S = TypeVar("S", default=object)


def fits(socket: object) -> bool:
    """Whether ``socket`` is a WebSocketASGI whose message methods are its own."""
    kind = type(socket)
    return issubclass(kind, WebSocketASGI) and kind.receive is WebSocketASGI.receive and kind.send is WebSocketASGI.send


class ASGICodecSocket(CodecSocket[T, S]):
    """CodecSocket whose receive/send run the connection's message path themselves."""

    __slots__ = ("_dumps", "_loads", "_text", "_ws")

    _ws: WebSocketASGI
    # _loads: the codec's raw decoder (a C function that returns what decode() returns, or
    # raises) or decode itself. _dumps: the raw encoder (bytes, made str when _text) or None.
    _loads: Callable[[Data], T]
    _dumps: Callable[[object], bytes] | None
    _text: bool

    def __init__(self, socket: WebSocketASGI, codec: Codec[T, Data, S]) -> None:
        super().__init__(socket, codec)
        self._ws = socket
        raw: RawFunctions[T] = RawFunctions(None, None, False)
        if isinstance(codec, RawCodec):
            raw = codec._raw_functions()
        self._loads = raw.loads or self._decode
        self._dumps = raw.dumps
        self._text = raw.text

    async def receive(self, timeout: float | None = None, default: object = None) -> object:  # type: ignore[override]  # same overloads as CodecSocket.receive
        ws = self._ws
        server_receive = ws._rx
        if server_receive is None or timeout is not None:
            data: Data | None = await ws.receive(timeout)
            if data is None:
                return default
        else:
            ws._rx = None
            try:
                item = await server_receive()
            except PeerError:
                raise
            except _PEER_GONE as exc:
                raise ws._lost(exc) from exc
            finally:
                ws._rx = ws._asgi_receive
            data = None
            try:
                if item["type"] == "websocket.receive":
                    text = item.get("text")
                    if text.__class__ is str:  # as WebSocketASGI.receive reads it
                        data = text
                    elif text is None:  # a binary frame, or hypercorn's "text": None beside it
                        binary = item["bytes"]
                        if binary.__class__ is bytes:
                            data = binary
            except (KeyError, TypeError, AttributeError):
                pass  # parse() says why
            if data is None:
                data = ws._parse(item)
        loads = self._loads
        try:
            return loads(data)
        except Exception:
            if loads is self._decode:
                raise
            return self._decode(data)  # raises the codec's DecodeError

    async def send(self, obj: S, /) -> None:
        dumps = self._dumps
        data: Data
        if dumps is None:
            data = self._encode(obj)
        else:
            try:
                data = dumps(obj)
            except Exception:
                data = self._encode(obj)  # raises the codec's EncodeError
            else:
                if self._text:
                    data = data.decode()
        ws = self._ws
        server_send = ws._tx
        if server_send is None:
            return await ws.send(data)
        if type(data) is str:
            message: dict[str, object] = {"type": "websocket.send", "text": data}
        elif type(data) is bytes:
            message = {"type": "websocket.send", "bytes": data}
        else:
            return await ws.send(data)
        ws._tx = None
        try:
            await server_send(message)
        except _PEER_GONE as exc:
            raise ws._lost(exc) from exc
        finally:
            if ws._retx is not None:
                ws._tx = server_send
            else:
                ws._turn_release()

    async def __anext__(self) -> T:
        try:
            return await self.receive()  # type: ignore[return-value]  # T: no timeout, so never the default
        except ConnectionClosed as closed:
            if closed.normal:
                raise StopAsyncIteration from None
            raise
