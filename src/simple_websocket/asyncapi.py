"""An AsyncAPI 3 document of an application's WebSocket endpoints, from their declared protocols.

.. code-block:: python

    document = asyncapi_document({"/chat": chat_app}, title="Chat", version="1.0.0")
    body = json.dumps(document)          # serve it, e.g. at /asyncapi.json

Each path is one channel (its ``address``); each of its protocols (a ``websocket_app`` made with
``protocol=``, a ``MessageProtocol``, or several of them, one per subprotocol) gives two
operations: ``receive`` (what clients send, the application receives) and ``send``. Every member
of a protocol's union is one message, its payload the JSON Schema its codec makes, under
``components``. Tagged unions' discriminators are written as AsyncAPI wants them: the name of the
tag's property. A channel whose protocols name subprotocols documents them as the
``Sec-WebSocket-Protocol`` header of its ``ws`` binding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from typing_extensions import Protocol

from ._app import WebSocketApp
from .codecs import JSONSchema, SchemaMode
from .exceptions import InvalidArgument

__all__ = ["ASYNCAPI_VERSION", "Declared", "Described", "Endpoint", "asyncapi_document"]

#: The AsyncAPI version of the documents made here.
ASYNCAPI_VERSION = "3.0.0"

Endpoint: TypeAlias = "WebSocketApp | Declared | Sequence[Declared]"
"""What one path speaks: an app made with ``protocol=``, a MessageProtocol, or one per subprotocol."""

_SCHEMAS = "#/components/schemas/{name}"
_NOT_AN_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def asyncapi_document(
    channels: Mapping[str, Endpoint],
    *,
    title: str,
    version: str,
    description: str = "",
) -> dict[str, object]:
    """The AsyncAPI document of ``channels`` (path -> what is spoken there), as a JSON object.

    Raises InvalidArgument for an app without a protocol, or for two different schemas of the
    same name (two classes called alike): rename one.
    """
    document = _Document()
    for path, endpoint in channels.items():
        document.add_channel(path, _protocols_of(path, endpoint))
    info: dict[str, object] = {"title": title, "version": version}
    if description:
        info["description"] = description
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": "application/json",
        "channels": document.channels,
        "operations": document.operations,
        "components": {"messages": document.messages, "schemas": document.schemas},
    }


def _protocols_of(path: str, endpoint: Endpoint) -> list[Declared]:
    if isinstance(endpoint, WebSocketApp):
        if endpoint.protocol is None:
            raise InvalidArgument(f"the app at {path!r} declares no protocol: websocket_app(..., protocol=...)")
        return [endpoint.protocol]
    if not isinstance(endpoint, Sequence):
        return [endpoint]
    protocols = list(endpoint)
    if not protocols:
        raise InvalidArgument(f"no protocol for {path!r}")
    return protocols


class Described(Protocol):
    """What a document needs of a codec: a TypedCodec of any type fits."""

    @property
    def content_type(self) -> str:
        """The frames' media type."""
        ...

    def json_schema(self, ref_template: str, mode: SchemaMode) -> tuple[JSONSchema, dict[str, JSONSchema]]:
        """The type's schema and the named schemas it refers to."""
        ...


class Declared(Protocol):
    """What a document needs of a protocol: a MessageProtocol of any types fits."""

    @property
    def receive(self) -> Described:
        """The codec of what clients send."""
        ...

    @property
    def send(self) -> Described:
        """The codec of what the server sends."""
        ...

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol that selects this protocol, if any."""
        ...

    @property
    def title(self) -> str | None:
        """A short name for documents."""
        ...

    @property
    def description(self) -> str:
        """What documents say of it."""
        ...


class _Document:
    """The parts of the document, filled channel by channel."""

    def __init__(self) -> None:
        self.channels: dict[str, object] = {}
        self.operations: dict[str, object] = {}
        self.messages: dict[str, object] = {}
        self.schemas: dict[str, JSONSchema] = {}

    def add_channel(self, path: str, protocols: list[Declared]) -> None:
        channel_id = _identifier(path.strip("/") or "root", self.channels)
        channel: dict[str, object] = {"address": path}
        messages: dict[str, object] = {}
        several = len(protocols) > 1
        for protocol in protocols:
            name = protocol.subprotocol or ""
            sides: tuple[tuple[str, Described, SchemaMode, str], ...] = (
                ("receive", protocol.receive, "validation", "clients send"),
                ("send", protocol.send, "serialization", "the server sends"),
            )
            for action, codec, mode, who in sides:
                names = self._add_messages(codec, mode, f"{channel_id}.{action}")
                for message in names:
                    messages[message] = {"$ref": f"#/components/messages/{message}"}
                operation_id = _identifier(f"{channel_id}.{name}.{action}" if several else f"{channel_id}.{action}", {})
                in_protocol = f" in {name}" if name else ""
                self.operations[operation_id] = {
                    "action": action,
                    "channel": {"$ref": f"#/channels/{channel_id}"},
                    "title": f"{protocol.title or name or path}: {action}",
                    "summary": f"What {who}{in_protocol}.",
                    **({"description": protocol.description} if protocol.description else {}),
                    "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message}"} for message in names],
                }
        channel["messages"] = messages
        subprotocols = [protocol.subprotocol for protocol in protocols if protocol.subprotocol]
        if subprotocols:
            header = {
                "type": "string",
                "enum": subprotocols,
                "description": "The subprotocols, in order of preference.",
            }
            channel["bindings"] = {
                "ws": {
                    "method": "GET",
                    "headers": {"type": "object", "properties": {"Sec-WebSocket-Protocol": header}},
                    "bindingVersion": "0.1.0",
                }
            }
        self.channels[channel_id] = channel

    def _add_messages(self, codec: Described, mode: SchemaMode, fallback: str) -> list[str]:
        """Add the codec's schemas and one message per member of its type; the messages' names."""
        schema, components = codec.json_schema(_SCHEMAS, mode)
        for name, component in components.items():
            self._add_schema(name, _for_asyncapi(component))
        members = schema.get("anyOf", schema.get("oneOf"))
        refs = (
            [member.get("$ref") if isinstance(member, dict) else None for member in members]
            if isinstance(members, list)
            else [schema.get("$ref")]
        )
        prefix = _SCHEMAS.format(name="")
        if all(isinstance(ref, str) and ref.startswith(prefix) for ref in refs):
            named = [(str(ref).removeprefix(prefix), str(ref)) for ref in refs]
            return [self._add_message(name, {"$ref": ref}, codec, components.get(name)) for name, ref in named]
        # Not made of named types only: one message, the whole schema its payload.
        return [self._add_message(_identifier(fallback, {}), _for_asyncapi(schema), codec, None)]

    def _add_message(self, name: str, payload: JSONSchema, codec: Described, component: JSONSchema | None) -> str:
        message: dict[str, object] = {
            "name": name,
            "title": name,
            "contentType": codec.content_type,
            "payload": payload,
        }
        summary = component.get("description") if component is not None else None
        if isinstance(summary, str) and summary:
            message["summary"] = summary.split("\n", 1)[0]
        known = self.messages.get(name)
        if known is not None and known != message:
            raise InvalidArgument(f"two different messages are named {name!r}: rename one of their types")
        self.messages[name] = message
        return name

    def _add_schema(self, name: str, schema: JSONSchema) -> None:
        known = self.schemas.get(name)
        if known is not None and known != schema:
            raise InvalidArgument(f"two different schemas are named {name!r}: rename one of their types")
        self.schemas[name] = schema


def _for_asyncapi(schema: object) -> JSONSchema:
    """``schema`` with every OpenAPI-style ``discriminator`` object written as AsyncAPI's: the
    property's name (the official parser refuses the object)."""
    converted = _converted(schema)
    return converted if isinstance(converted, dict) else {}


def _converted(node: object) -> object:
    if isinstance(node, dict):
        result = {key: _converted(value) for key, value in node.items()}
        discriminator = result.get("discriminator")
        if isinstance(discriminator, dict) and isinstance(discriminator.get("propertyName"), str):
            result["discriminator"] = discriminator["propertyName"]
        return result
    if isinstance(node, list):
        return [_converted(item) for item in node]
    return node


def _identifier(text: str, taken: Mapping[str, object]) -> str:
    """``text`` as an id AsyncAPI accepts, made unique among ``taken``."""
    base = _NOT_AN_ID.sub("_", text).strip("_") or "root"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate
