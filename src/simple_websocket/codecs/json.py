"""JSON codecs on orjson (``pip install 'simple-websocket-asgi[json]'``).

``JSONCodec`` writes text frames, ``JSONBinaryCodec`` binary frames; both read either kind.
For typed results pass ``convert``, any ``Callable[[object], T]`` that returns a T or raises
(ValueError, TypeError): its failure becomes a DecodeError. With pydantic, for example::

    adapter = pydantic.TypeAdapter(ChatMessage)
    codec = JSONCodec(adapter.validate_python)      # JSONCodec[ChatMessage]

As orjson does, NaN and infinities are written as ``null`` (JSON has no spelling for them).
"""

from __future__ import annotations

from collections.abc import Callable

from typing_extensions import TypeVar

from ..exceptions import DecodeError, EncodeError
from ..typing import Data
from ._convert import Converting, RawFunctions

try:
    import orjson
except ImportError as _missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "the JSON codec needs orjson: pip install 'simple-websocket-asgi[json]'", name=_missing.name
    ) from _missing

__all__ = ["JSONBinaryCodec", "JSONCodec"]

T = TypeVar("T", default=object)


class _JSON(Converting[T]):
    __slots__ = ("_default", "_option")

    format_name = "JSON"

    def __init__(
        self,
        convert: Callable[[object], T] | None = None,
        *,
        default: Callable[[object], object] | None = None,
        sort_keys: bool = False,
        non_str_keys: bool = False,
        naive_utc: bool = False,
    ) -> None:
        """``convert`` turns the decoded object into a T (see the module's docs); ``default`` turns
        objects orjson cannot serialise into ones it can (or raises TypeError); ``sort_keys``,
        ``non_str_keys`` and ``naive_utc`` switch on the orjson options of those names."""
        super().__init__(convert)
        self._default = default
        option = 0
        if sort_keys:
            option |= orjson.OPT_SORT_KEYS
        if non_str_keys:
            option |= orjson.OPT_NON_STR_KEYS
        if naive_utc:
            option |= orjson.OPT_NAIVE_UTC
        self._option = option

    def _raw(self, *, text: bool) -> RawFunctions[T]:
        loads = orjson.loads if self._convert is None else None
        dumps = orjson.dumps if self._default is None and self._option == 0 else None
        return RawFunctions(loads, dumps, text)

    def decode(self, data: Data, /) -> T:
        """One JSON document (text or binary frame) as an object; DecodeError keeps the frame."""
        try:
            obj: object = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise DecodeError(f"invalid JSON: {error}", data) from error
        if self._convert is None:  # the common case without a call: decode runs once per message
            return obj  # type: ignore[return-value]  # T is object when there is no converter
        return self._converted(obj, data)


class JSONCodec(_JSON[T]):
    """JSON in text frames."""

    __slots__ = ()

    def _raw_functions(self) -> RawFunctions[T]:
        """orjson's own loads/dumps where the settings allow (see RawFunctions)."""
        return self._raw(text=True)

    def encode(self, obj: object, /) -> str:
        """``obj`` as a JSON text frame; EncodeError if it cannot be serialised."""
        try:
            return orjson.dumps(obj, self._default, self._option).decode()
        except orjson.JSONEncodeError as error:
            raise EncodeError(f"cannot encode as JSON: {error}") from error


class JSONBinaryCodec(_JSON[T]):
    """JSON in binary frames (UTF-8 bytes, no text decoding on either side)."""

    __slots__ = ()

    def _raw_functions(self) -> RawFunctions[T]:
        """orjson's own loads/dumps where the settings allow (see RawFunctions)."""
        return self._raw(text=False)

    def encode(self, obj: object, /) -> bytes:
        """``obj`` as a JSON binary frame; EncodeError if it cannot be serialised."""
        try:
            return orjson.dumps(obj, self._default, self._option)
        except orjson.JSONEncodeError as error:
            raise EncodeError(f"cannot encode as JSON: {error}") from error
