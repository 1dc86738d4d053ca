"""A typed JSON codec on pydantic (``pip install 'simple-websocket-asgi[pydantic]'``): one pass, JSON rules.

.. code-block:: python

    class Join(pydantic.BaseModel):
        type: Literal["join"]
        nick: str

    class Say(pydantic.BaseModel):
        type: Literal["message"]
        text: str

    Client = Annotated[Join | Say, pydantic.Field(discriminator="type")]
    codec = PydanticJSONCodec(Client)             # PydanticJSONCodec[Join | Say]

Frames are validated by ``TypeAdapter.validate_json``, which reads JSON and checks it in one
pass and applies pydantic's JSON-mode rules (in strict mode, an ISO 8601 string is a valid
``datetime`` in JSON, not in Python). A frame that does not fit raises DecodeError with the frame
and the path of the first field that does not fit (``$.nick``). Text frames are written, either
kind is read. ``encode`` refuses (EncodeError) an object that is not a ``T``.
"""

from __future__ import annotations

import json
import types
import typing

from typing_extensions import TypeForm, TypeVar

from ..exceptions import DecodeError, EncodeError
from ..typing import Data
from ._convert import RawFunctions
from ._typed import JSONSchema, SchemaMode, TypedCodec, json_path, plain_class

try:
    import pydantic
    import pydantic_core
except ImportError as _missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "the pydantic codec needs pydantic: pip install 'simple-websocket-asgi[pydantic]'", name=_missing.name
    ) from _missing

__all__ = ["PydanticJSONCodec"]

T = TypeVar("T", default=object)


class PydanticJSONCodec(TypedCodec[T, str]):
    """JSON in text frames (either kind read), validated straight into ``T`` by pydantic."""

    __slots__ = ("_adapter", "_classes", "_strict", "_to_json")

    format_name = "JSON"
    content_type = "application/json"

    def __init__(self, type: TypeForm[T], /, *, strict: bool | None = None) -> None:
        """``type``: anything ``pydantic.TypeAdapter`` takes (a model, a discriminated union of
        models, a dataclass...); ``strict`` overrides the type's own strictness when set."""
        super().__init__(type)
        self._adapter: pydantic.TypeAdapter[T] = pydantic.TypeAdapter(type)
        self._strict = strict
        # The classes of T (its union's members), whose instances are written without pydantic's
        # check of the whole object against T: passing warnings="error" for it costs more than the
        # rest of encoding. Empty when T is not made of plain classes (list[int], say).
        self._classes = _classes_of(type)
        self._to_json = self._adapter.serializer.to_json

    def _raw_functions(self) -> RawFunctions[T]:
        """``validate_json`` itself when no ``strict`` is given (encoding checks too much for a raw call)."""
        return RawFunctions(self._adapter.validate_json if self._strict is None else None, None, True)

    def decode(self, data: Data, /) -> T:
        """One JSON document (text or binary frame) as a ``T``; DecodeError keeps the frame."""
        try:
            return self._adapter.validate_json(data, strict=self._strict)
        except pydantic.ValidationError as error:
            first = error.errors(include_url=False, include_context=False, include_input=False)[0]
            if first["type"] == "json_invalid":
                raise DecodeError(f"invalid JSON: {first['msg']}", data) from error
            path = _path_in(data, first["loc"])
            more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
            raise DecodeError(f"JSON does not fit at {path}: {first['msg']}{more}", data, path=path) from error

    def encode(self, obj: T, /) -> str:
        """``obj`` as a JSON text frame; EncodeError if it is not a ``T`` or cannot be written.

        An instance of one of T's classes is written as pydantic writes it (with pydantic's
        warning if a field holds a value of the wrong type, as after ``model_construct``);
        anything else is checked against ``T`` as a whole first.
        """
        try:
            if obj.__class__ in self._classes:
                return self._to_json(obj).decode()
            return self._adapter.dump_json(obj, warnings="error").decode()
        except (pydantic_core.PydanticSerializationError, TypeError, ValueError) as error:
            raise EncodeError(f"cannot encode as JSON: {error}") from error

    def json_schema(self, ref_template: str, mode: SchemaMode) -> tuple[JSONSchema, dict[str, JSONSchema]]:
        """pydantic's JSON Schema of the type, for what it accepts (``validation``) or writes
        (``serialization``)."""
        schema = self._adapter.json_schema(ref_template=ref_template.replace("{name}", "{model}"), mode=mode)
        components = schema.pop("$defs", {})
        return schema, components


def _classes_of(kind: object) -> frozenset[type]:
    """The classes a type is made of (through ``Annotated`` and unions), or none if it is not
    made of plain classes only."""
    if typing.get_origin(kind) is typing.Annotated:
        return _classes_of(typing.get_args(kind)[0])
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        members = [_classes_of(member) for member in typing.get_args(kind)]
        return frozenset().union(*members) if all(members) else frozenset()
    cls = plain_class(kind)
    return frozenset() if cls is None else frozenset({cls})


def _path_in(data: Data, loc: tuple[int | str, ...]) -> str:
    """The JSONPath of pydantic's ``loc`` in the frame: only the steps that are keys and indexes
    of the message, not the union members' names and tags that pydantic puts in ``loc`` too."""
    try:
        node: object = json.loads(data)
    except ValueError:
        return json_path(loc)
    steps: list[int | str] = []
    for step in loc:
        if not isinstance(node, (dict, list)):
            break  # the rest names the scalar's expected types (pydantic's ``int``, ``str``...)
        if isinstance(node, dict):
            if step not in node:
                continue  # a union member's name or tag: no key of the message
            node = node[step]
        elif isinstance(node, list):
            if not (isinstance(step, int) and -len(node) <= step < len(node)):
                continue
            node = node[step]
        steps.append(step)
    return json_path(steps)
