"""Typed codecs on msgspec (``pip install 'simple-websocket-asgi[msgspec]'``): decode and check in one pass.

.. code-block:: python

    class Join(msgspec.Struct, tag_field="type", tag="join"):
        nick: str

    class Say(msgspec.Struct, tag_field="type", tag="message"):
        text: str

    Client = Join | Say
    codec = MsgspecJSONCodec(Client)              # MsgspecJSONCodec[Join | Say]
    event = codec.decode('{"type": "join", "nick": "ann"}')    # Join(nick='ann')

A frame that does not fit raises DecodeError with the frame and the path of the field
(``$.nick``); msgspec's strict mode is on (no ``"1"`` for an ``int``) unless ``strict=False``.
``MsgspecJSONCodec`` writes text frames and reads either kind; ``MsgspecMsgpackCodec`` writes and
reads binary frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar, cast

from typing_extensions import TypeForm, TypeVar

from ..exceptions import DecodeError, EncodeError
from ..typing import Data
from ._convert import RawFunctions
from ._typed import JSONSchema, SchemaMode, TypedCodec

try:
    import msgspec
except ImportError as _missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "the msgspec codecs need msgspec: pip install 'simple-websocket-asgi[msgspec]'", name=_missing.name
    ) from _missing

__all__ = ["MsgspecJSONCodec", "MsgspecMsgpackCodec"]

T = TypeVar("T", default=object)
FrameT_co = TypeVar("FrameT_co", bound=Data, covariant=True, default=str)

# msgspec ends a ValidationError's text with " - at `$.path`" when the error is below the top.
_AT = re.compile(r" - at `(\$[^`]*)`$")


class _Msgspec(TypedCodec[T, FrameT_co]):
    __slots__ = ("_decode_raw", "_encode_raw")

    #: Whether the format's frames are text (JSON) or binary (msgpack).
    _text: ClassVar[bool]

    # The decoder's and encoder's C methods; a msgpack decoder raises TypeError for a str.
    _decode_raw: Callable[[Data], T]
    _encode_raw: Callable[[object], bytes]

    def __init__(self, type: TypeForm[T], /, *, strict: bool = True) -> None:
        """``type``: what frames decode to (a Struct, a tagged union of Structs, any type msgspec
        knows); ``strict=False`` lets msgspec convert (``"1"`` to ``1``) where it can."""
        super().__init__(type)
        self._setup(type, strict)

    def _setup(self, kind: object, strict: bool) -> None:
        raise NotImplementedError  # pragma: no cover - each format sets its own up

    def _raw_functions(self) -> RawFunctions[T]:
        """msgspec's own decode and encode: C methods that raise where decode/encode would (a
        msgpack decoder given a text frame too)."""
        return RawFunctions(self._decode_raw, self._encode_raw, self._text)

    def _checked(self, data: Data) -> T:
        try:
            return self._decode_raw(data)
        except msgspec.ValidationError as error:
            at = _AT.search(str(error))
            reason = str(error) if at is None else str(error)[: at.start()]
            path = "$" if at is None else at[1]
            raise DecodeError(f"{self.format_name} does not fit at {path}: {reason}", data, path=path) from error
        except (msgspec.DecodeError, UnicodeError) as error:  # UnicodeError: a str with a lone surrogate
            raise DecodeError(f"invalid {self.format_name}: {error}", data) from error

    def _encoded(self, obj: object) -> bytes:
        try:
            return self._encode_raw(obj)
        except (msgspec.EncodeError, TypeError, ValueError, OverflowError) as error:
            raise EncodeError(f"cannot encode as {self.format_name}: {error}") from error

    def json_schema(self, ref_template: str, mode: SchemaMode) -> tuple[JSONSchema, dict[str, JSONSchema]]:
        """msgspec's JSON Schema of the type (the same either way: ``mode`` changes nothing)."""
        (schema,), components = msgspec.json.schema_components((self.type,), ref_template=ref_template)
        return schema, components


class MsgspecJSONCodec(_Msgspec[T, str]):
    """JSON in text frames (either kind read), decoded straight into ``T``."""

    __slots__ = ()

    format_name = "JSON"
    content_type = "application/json"
    _text = True

    def _setup(self, kind: object, strict: bool) -> None:
        decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(kind, strict=strict)
        self._decode_raw = decoder.decode
        self._encode_raw = msgspec.json.Encoder().encode

    def decode(self, data: Data, /) -> T:
        """One JSON document (text or binary frame) as a ``T``; DecodeError keeps the frame."""
        return self._checked(data)

    def encode(self, obj: T, /) -> str:
        """``obj`` as a JSON text frame; EncodeError if msgspec cannot write it."""
        return self._encoded(obj).decode()


class MsgspecMsgpackCodec(_Msgspec[T, bytes]):
    """msgpack in binary frames, decoded straight into ``T``; a text frame is a DecodeError."""

    __slots__ = ()

    format_name = "msgpack"
    content_type = "application/msgpack"
    _text = False

    def _setup(self, kind: object, strict: bool) -> None:
        decoder: msgspec.msgpack.Decoder[T] = msgspec.msgpack.Decoder(kind, strict=strict)
        self._decode_raw = cast("Callable[[Data], T]", decoder.decode)  # a str: TypeError, see decode()
        self._encode_raw = msgspec.msgpack.Encoder().encode

    def decode(self, data: Data, /) -> T:
        """One binary frame as a ``T``; DecodeError keeps the frame."""
        if type(data) is not bytes:
            raise DecodeError("msgpack needs a binary frame, got a text frame", data)
        return self._checked(data)

    def encode(self, obj: T, /) -> bytes:
        """``obj`` as a msgpack binary frame; EncodeError if msgspec cannot write it."""
        return self._encoded(obj)
