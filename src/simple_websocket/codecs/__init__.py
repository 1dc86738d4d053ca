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

The codecs are plain objects too: ``await ws.send(codec.encode(obj))`` and
``codec.decode(await ws.receive())`` work on the socket directly. ``JSONCodec`` and
``JSONBinaryCodec`` need orjson (extra ``[json]``), ``MsgpackCodec`` needs msgpack (extra
``[msgpack]``); each is imported when first used, so a missing library only matters to its codec.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._base import Codec, CodecSocket, MessageSocket

if TYPE_CHECKING:
    from .json import JSONBinaryCodec, JSONCodec
    from .msgpack import MsgpackCodec

__all__ = ["Codec", "CodecSocket", "JSONBinaryCodec", "JSONCodec", "MessageSocket", "MsgpackCodec"]

_LAZY = {"JSONCodec": ".json", "JSONBinaryCodec": ".json", "MsgpackCodec": ".msgpack"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
