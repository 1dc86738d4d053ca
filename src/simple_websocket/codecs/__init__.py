"""Send and receive objects: codecs layered on the str/bytes core.

.. code-block:: python

    from simple_websocket.codecs import CodecSocket, JSONCodec

    sock = CodecSocket(ws, JSONCodec())
    await sock.send({"text": "hi"})          # one text frame
    try:
        message = await sock.receive()        # -> object (or T with JSONCodec(convert))
    except DecodeError as error:
        log.warning("bad frame %r", error.data)   # the connection is still open
        await sock.close_invalid()            # ... or skip it, or answer it

Typed codecs decode and check in one pass, into the type they are given (a tagged union of
message classes, say), and raise DecodeError with the path of what does not fit:
``MsgspecJSONCodec(T)`` and ``MsgspecMsgpackCodec(T)`` (extra ``[msgspec]``), ``PydanticJSONCodec(T)``
(extra ``[pydantic]``). ``MessageProtocol(receive=..., send=...)`` pairs two of them into one
endpoint's protocol, for ``websocket_app(handler, protocol=...)`` and ``simple_websocket.asyncapi``.

The codecs are plain objects too: ``await ws.send(codec.encode(obj))`` and
``codec.decode(await ws.receive())`` work on the socket directly. ``JSONCodec`` and
``JSONBinaryCodec`` need orjson (extra ``[json]``), ``MsgpackCodec`` needs msgpack (extra
``[msgpack]``); each is imported when first used, so a missing library only matters to its codec.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._base import Codec, CodecSocket, MessageSocket
from ._protocol import MessageProtocol
from ._typed import JSONSchema, SchemaMode, TypedCodec

if TYPE_CHECKING:
    from .json import JSONBinaryCodec, JSONCodec
    from .msgpack import MsgpackCodec
    from .msgspec import MsgspecJSONCodec, MsgspecMsgpackCodec
    from .pydantic import PydanticJSONCodec

__all__ = [
    "Codec",
    "CodecSocket",
    "JSONBinaryCodec",
    "JSONCodec",
    "JSONSchema",
    "MessageProtocol",
    "MessageSocket",
    "MsgpackCodec",
    "MsgspecJSONCodec",
    "MsgspecMsgpackCodec",
    "PydanticJSONCodec",
    "SchemaMode",
    "TypedCodec",
]

_LAZY = {
    "JSONCodec": ".json",
    "JSONBinaryCodec": ".json",
    "MsgpackCodec": ".msgpack",
    "MsgspecJSONCodec": ".msgspec",
    "MsgspecMsgpackCodec": ".msgspec",
    "PydanticJSONCodec": ".pydantic",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
