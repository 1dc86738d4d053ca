"""MessageProtocol: the messages of one endpoint, both ways, each direction a typed codec."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic

from typing_extensions import TypeVar

from .._websocket import WebSocketASGI
from ..typing import Data, Handler
from ._base import CodecSocket, MessageSocket
from ._convert import RawCodec, RawFunctions
from ._typed import TypedCodec

__all__ = ["MessageProtocol"]

In_co = TypeVar("In_co", covariant=True, default=object)
Out_contra = TypeVar("Out_contra", contravariant=True, default=object)


class MessageProtocol(RawCodec[In_co], Generic[In_co, Out_contra]):
    """What the two ends of one endpoint say: the client's messages and the server's.

    ``receive`` decodes what clients send (often a tagged union), ``send`` encodes what the server
    sends; ``subprotocol`` is the WebSocket subprotocol that names this protocol, if any. Give it
    to ``websocket_app(handler, protocol=...)``: the handler then gets a
    ``CodecSocket[In_co, Out_contra]``, whose ``receive()`` returns the client's messages and whose
    ``send()`` takes only the server's (a type error otherwise). ``simple_websocket.asyncapi``
    publishes it.

    A frame that is not one of the client's messages raises DecodeError in ``receive()``, with
    the frame and the path of what does not fit; the connection stays open. Catch it to answer
    (an error message of your protocol) and go on; if it escapes the handler, ``websocket_app``
    closes the connection with 1007 (invalid payload) and logs nothing.
    """

    __slots__ = ("description", "receive", "send", "subprotocol", "title")

    receive: TypedCodec[In_co, Data]
    send: TypedCodec[Out_contra, Data]

    def __init__(
        self,
        receive: TypedCodec[In_co, Data],
        send: TypedCodec[Out_contra, Data],
        *,
        subprotocol: str | None = None,
        title: str | None = None,
        description: str = "",
    ) -> None:
        self.receive = receive
        self.send = send
        self.subprotocol: str | None = subprotocol
        """The subprotocol that selects this protocol in the handshake, or None."""
        self.title: str | None = title
        """A short name for documents (default: the subprotocol)."""
        self.description: str = description
        """What documents say of it (Markdown)."""

    def decode(self, data: Data, /) -> In_co:
        """One client frame as a client message; DecodeError (with the path) if it is none."""
        return self.receive.decode(data)

    def encode(self, obj: Out_contra, /) -> Data:
        """One server message as a frame; EncodeError if it cannot be written."""
        return self.send.encode(obj)

    def _raw_functions(self) -> RawFunctions[In_co]:
        received, sent = self.receive._raw_functions(), self.send._raw_functions()
        return RawFunctions(received.loads or self.receive.decode, sent.dumps, sent.text)

    def socket(self, socket: MessageSocket) -> CodecSocket[In_co, Out_contra]:
        """``socket`` speaking this protocol: it receives client messages and sends server ones."""
        return CodecSocket(socket, self)

    def serve(self, handler: Callable[[CodecSocket[In_co, Out_contra]], Awaitable[None]]) -> Handler:
        """A handler of WebSocketASGI connections that runs ``handler`` on each one's socket
        in this protocol (``websocket_app(handler, protocol=...)`` does this itself)."""
        socket_of = self.socket

        async def serve(ws: WebSocketASGI) -> None:
            await handler(socket_of(ws))

        return serve

    def __repr__(self) -> str:
        named = f", subprotocol={self.subprotocol!r}" if self.subprotocol else ""
        return f"MessageProtocol({self.receive!r}, {self.send!r}{named})"
