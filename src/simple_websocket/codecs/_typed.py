"""TypedCodec: the base of the codecs that know their type and decode and check in one pass."""

from __future__ import annotations

import abc
import re
import types
from typing import ClassVar, Generic, Literal, TypeAlias

from typing_extensions import TypeVar

from ..typing import Data
from ._convert import RawCodec

__all__ = ["JSONSchema", "SchemaMode", "TypedCodec", "json_path", "plain_class"]

T = TypeVar("T", default=object)
FrameT_co = TypeVar("FrameT_co", bound=Data, covariant=True, default=str)

JSONSchema: TypeAlias = "dict[str, object]"
"""A JSON Schema, as JSON reads it: an object."""

SchemaMode: TypeAlias = Literal["validation", "serialization"]
"""Which side of a type a schema describes: what decoding accepts, or what encoding writes."""


class TypedCodec(RawCodec[T], Generic[T, FrameT_co], abc.ABC):
    """A codec bound to one type, often a tagged union of message classes.

    ``decode`` returns a ``T`` or raises DecodeError, which keeps the frame and says where it does
    not fit (``path``); ``encode`` takes a ``T``. ``json_schema`` describes the type, for
    documents such as AsyncAPI's (``simple_websocket.asyncapi``).

    The type is a ``TypeForm``: ``MsgspecJSONCodec(Join | Say)`` is a
    ``MsgspecJSONCodec[Join | Say]`` for mypy (1.19 and newer) and pyright.
    """

    __slots__ = ("type",)

    #: The format's name, as DecodeError messages show it.
    format_name: ClassVar[str] = "data"
    #: The frames' media type, as documents show it.
    content_type: ClassVar[str] = "application/octet-stream"

    def __init__(self, type: object, /) -> None:
        self.type: object = type
        """The type this codec decodes to and encodes from, as given."""

    @abc.abstractmethod
    def decode(self, data: Data, /) -> T:
        """One frame as a ``T``; DecodeError (with the frame and the path) if it does not fit."""

    @abc.abstractmethod
    def encode(self, obj: T, /) -> FrameT_co:
        """``obj`` as one frame; EncodeError if it cannot be written."""

    @abc.abstractmethod
    def json_schema(self, ref_template: str, mode: SchemaMode) -> tuple[JSONSchema, dict[str, JSONSchema]]:
        """The type's JSON Schema and the named schemas it refers to (``ref_template`` with
        ``{name}`` makes each reference): what ``decode`` accepts (``validation``) or what
        ``encode`` writes (``serialization``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_name_of(self.type)})"


def plain_class(kind: object) -> type | None:
    """``kind`` if it is a class, None for anything else (a union, ``list[int]``...)."""
    if isinstance(kind, types.GenericAlias):  # list[int]: a type on Python 3.10
        return None
    return kind if isinstance(kind, type) else None


def _name_of(kind: object) -> str:
    """A class by its name; anything else (``list[int]``, a union) as Python shows it."""
    cls = plain_class(kind)
    return repr(kind) if cls is None else cls.__qualname__


_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(steps: object) -> str:
    """A JSONPath (``$.users[2].name``) for a sequence of keys (str) and indexes (int)."""
    path = "$"
    for step in steps if isinstance(steps, (list, tuple)) else ():
        if isinstance(step, int) and not isinstance(step, bool):
            path += f"[{step}]"
        elif isinstance(step, str) and _KEY.fullmatch(step):
            path += f".{step}"
        else:
            escaped = str(step).replace("\\", "\\\\").replace("'", "\\'")
            path += f"['{escaped}']"
    return path
