"""The msgpack codec (``pip install 'simple-websocket-asgi[msgpack]'``): binary frames only.

Defaults are safe for untrusted input: strings decode as ``str`` (``raw=False``), map keys
must be str or bytes (``strict_map_key``), sizes are bounded by the frame's length, and an
extension type without an ``ext_hook`` is a DecodeError rather than an opaque object. That
includes the timestamp extension (type -1), which msgpack reads itself without asking
``ext_hook``: pass ``timestamps=True`` to get ``msgpack.Timestamp`` objects for it.
``convert`` works as for the JSON codec: ``Callable[[object], T]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from typing_extensions import TypeVar

from ..exceptions import DecodeError, EncodeError
from ..typing import Data
from ._convert import Converting, RawFunctions

try:
    import msgpack
except ImportError as _missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "the msgpack codec needs msgpack: pip install 'simple-websocket-asgi[msgpack]'", name=_missing.name
    ) from _missing

__all__ = ["MsgpackCodec"]

T = TypeVar("T", default=object)

# Every encoding of an extension of type -1 (0xff) with the 4, 8 or 12 bytes msgpack reads as a
# timestamp: fixext 4, fixext 8, ext 8, ext 16, ext 32. A frame without any of them has none.
_MAYBE_TIMESTAMP = re.compile(
    rb"[\xd6\xd7]\xff|\xc7[\x04\x08\x0c]\xff|\xc8\x00[\x04\x08\x0c]\xff|\xc9\x00\x00\x00[\x04\x08\x0c]\xff"
).search


def _refuse_ext(code: int, data: bytes) -> object:
    raise ValueError(f"unknown msgpack extension type {code}")


def _has_timestamp(obj: object) -> bool:
    """Whether a decoded object holds a ``msgpack.Timestamp``; no recursion, so any depth is fine."""
    pending = [obj]
    while pending:
        item = pending.pop()
        if isinstance(item, msgpack.Timestamp):
            return True
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return False


class MsgpackCodec(Converting[T]):
    """msgpack in binary frames; a text frame is a DecodeError."""

    __slots__ = ("_ext_hook", "_pack", "_plain", "_timestamps")

    format_name = "msgpack"

    def __init__(
        self,
        convert: Callable[[object], T] | None = None,
        *,
        default: Callable[[object], object] | None = None,
        ext_hook: Callable[[int, bytes], object] | None = None,
        timestamps: bool = False,
    ) -> None:
        """``convert`` turns the decoded object into a T; ``default`` turns other objects into
        packable ones (e.g. ``msgpack.ExtType``); ``ext_hook(code, data)`` reads extension types
        back; ``timestamps=True`` reads the timestamp extension as ``msgpack.Timestamp``."""
        super().__init__(convert)
        self._pack = msgpack.Packer(default=default, use_bin_type=True).pack  # one Packer: no set-up per call
        self._plain = default is None
        self._ext_hook = ext_hook or _refuse_ext
        self._timestamps = timestamps

    def _raw_functions(self) -> RawFunctions[T]:
        """The Packer's pack without a ``default`` (decoding always checks more: see decode)."""
        return RawFunctions(None, self._pack if self._plain else None, False)

    def encode(self, obj: object, /) -> bytes:
        """``obj`` as a msgpack binary frame; EncodeError if it cannot be packed."""
        try:
            return self._pack(obj)
        except (TypeError, ValueError, OverflowError) as error:
            raise EncodeError(f"cannot encode as msgpack: {error}") from error

    def decode(self, data: Data, /) -> T:
        """One binary frame as an object; DecodeError keeps the frame."""
        if type(data) is not bytes:
            raise DecodeError("msgpack needs a binary frame, got a text frame", data)
        try:
            obj = msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=self._ext_hook)
        except Exception as error:  # msgpack raises ValueError, TypeError, its own errors and more
            raise DecodeError(f"invalid msgpack: {error}", data) from error
        if not self._timestamps and _MAYBE_TIMESTAMP(data) is not None and _has_timestamp(obj):
            raise DecodeError("msgpack timestamp extension (type -1) without timestamps=True", data)
        return self._converted(obj, data)
