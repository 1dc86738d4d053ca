"""The msgpack codec (``pip install 'simple-websocket-asgi[msgpack]'``): binary frames only.

Defaults are safe for untrusted input: strings decode as ``str`` (``raw=False``), map keys
must be str or bytes (``strict_map_key``), sizes are bounded by the frame's length, and an
extension type without an ``ext_hook`` is a DecodeError rather than an opaque object.
``convert`` works as for the JSON codec: ``Callable[[object], T]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, overload

from typing_extensions import TypeVar

from ..exceptions import DecodeError, EncodeError
from ..typing import Data

try:
    import msgpack
except ImportError as _missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "the msgpack codec needs msgpack: pip install 'simple-websocket-asgi[msgpack]'", name=_missing.name
    ) from _missing

__all__ = ["MsgpackCodec"]

T = TypeVar("T", default=object)


def _refuse_ext(code: int, data: bytes) -> object:
    raise ValueError(f"unknown msgpack extension type {code}")


class MsgpackCodec(Generic[T]):
    """msgpack in binary frames; a text frame is a DecodeError."""

    __slots__ = ("_convert", "_ext_hook", "_pack")

    @overload
    def __init__(
        self: MsgpackCodec[object],
        convert: None = None,
        *,
        default: Callable[[object], object] | None = None,
        ext_hook: Callable[[int, bytes], object] | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        convert: Callable[[object], T],
        *,
        default: Callable[[object], object] | None = None,
        ext_hook: Callable[[int, bytes], object] | None = None,
    ) -> None: ...

    def __init__(
        self,
        convert: Callable[[object], T] | None = None,
        *,
        default: Callable[[object], object] | None = None,
        ext_hook: Callable[[int, bytes], object] | None = None,
    ) -> None:
        """``default`` turns other objects into packable ones (e.g. ``msgpack.ExtType``);
        ``ext_hook(code, data)`` reads extension types back."""
        self._convert = convert
        self._pack = msgpack.Packer(default=default, use_bin_type=True).pack  # one Packer: no set-up per call
        self._ext_hook = ext_hook or _refuse_ext

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
        if self._convert is None:
            return obj  # type: ignore[return-value]  # T is object when there is no converter
        try:
            return self._convert(obj)
        except (ValueError, TypeError) as error:
            raise DecodeError(f"msgpack does not convert: {error}", data) from error
