"""The Codec protocol and CodecSocket, the adapter that speaks objects over a str/bytes socket."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Generic, cast, overload

from typing_extensions import Protocol, Self, TypeVar

from .._close_code import CloseCode
from ..exceptions import ConnectionClosed
from ..typing import Data

__all__ = ["Codec", "CodecSocket", "MessageSocket"]

T_co = TypeVar("T_co", covariant=True, default=object)
S_contra = TypeVar("S_contra", contravariant=True, default=object)
D = TypeVar("D")
FrameT_co = TypeVar("FrameT_co", bound=Data, covariant=True, default=str)


class Codec(Protocol[T_co, FrameT_co, S_contra]):
    """Turns objects into frames and frames into objects.

    ``T_co`` is what ``decode`` returns; ``FrameT_co`` is the frame kind the codec writes: ``str``
    (a text frame) or ``bytes`` (a binary frame); ``S_contra`` is what ``encode`` takes (anything,
    for the untyped codecs). ``decode`` takes whatever ``receive()`` returns and raises
    DecodeError, which keeps the frame, when it cannot read it; ``encode`` raises EncodeError.
    """

    def encode(self, obj: S_contra, /) -> FrameT_co:
        """One object as one frame."""
        ...

    def decode(self, data: Data, /) -> T_co:
        """One frame as one object."""
        ...


class MessageSocket(Protocol):
    """What CodecSocket needs from a connection: WebSocketASGI fits."""

    @overload
    async def receive(self, timeout: None = None) -> Data: ...

    @overload
    async def receive(self, timeout: float) -> Data | None: ...

    async def receive(self, timeout: float | None = None) -> Data | None:
        """The next message, or None after ``timeout`` seconds."""
        ...

    async def send(self, data: Data, /) -> None:
        """Send one message."""
        ...

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the connection."""
        ...


class CodecSocket(Generic[T_co, S_contra]):
    """A connection that receives ``T_co`` objects and sends ``S_contra`` ones through a codec.

    Frames travel exactly as the codec makes them; the socket underneath is unchanged and
    still usable for str/bytes. A frame the codec cannot read raises DecodeError (with the
    frame in ``.data``) and the connection stays open: skip it, answer it, or close with
    ``close_invalid()`` (1007) or ``close_unsupported()`` (1003).
    """

    __slots__ = ("_decode", "_encode", "_receive", "_send", "codec", "socket")

    def __new__(cls, socket: MessageSocket, codec: Codec[T_co, Data, S_contra]) -> Self:
        """Over a WebSocketASGI, a CodecSocket that runs the connection's message path itself."""
        from . import _asgi  # imported here: it subclasses CodecSocket

        if cls is CodecSocket and _asgi.fits(socket):
            return cast("Self", object.__new__(_asgi.ASGICodecSocket))
        return object.__new__(cls)

    def __init__(self, socket: MessageSocket, codec: Codec[T_co, Data, S_contra]) -> None:
        self.socket: MessageSocket = socket
        """The connection underneath, still usable for str/bytes."""
        self.codec: Codec[T_co, Data, S_contra] = codec
        """The codec every frame goes through."""
        self._encode = codec.encode
        self._decode = codec.decode
        self._receive = socket.receive
        self._send = socket.send

    def send(self, obj: S_contra) -> Awaitable[None]:
        """Encode ``obj`` and send it; await the result. Raises EncodeError before sending anything."""
        return self._send(self._encode(obj))

    @overload
    async def receive(self, timeout: None = None) -> T_co: ...

    @overload
    async def receive(self, timeout: float) -> T_co | None: ...

    @overload
    async def receive(self, timeout: float, *, default: D) -> T_co | D: ...

    async def receive(self, timeout: float | None = None, default: object = None) -> object:
        """The next object; with ``timeout``, ``default`` (None) if nothing came in time.

        When the codec can decode a frame to None (JSON ``null``, msgpack ``nil``), pass a
        ``default`` of your own to tell a timeout from a message.
        """
        if timeout is None:
            return self._decode(await self._receive())
        data = await self._receive(timeout)
        return default if data is None else self._decode(data)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T_co:
        """The next object; iteration ends on a normal close (1000/1001) and raises otherwise."""
        try:
            return self._decode(await self._receive())
        except ConnectionClosed as closed:
            if closed.normal:
                raise StopAsyncIteration from None
            raise

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Close the connection with ``code`` (an int or a ``CloseCode``) and ``reason``."""
        await self.socket.close(code, reason)

    async def close_invalid(self, reason: str = "invalid payload") -> None:
        """Close with 1007: a frame's content could not be read."""
        await self.socket.close(CloseCode.INVALID_DATA, reason)

    async def close_unsupported(self, reason: str = "unsupported data") -> None:
        """Close with 1003: a frame of a kind this application does not accept."""
        await self.socket.close(CloseCode.UNSUPPORTED_DATA, reason)
