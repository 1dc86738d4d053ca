"""The chat's messages, both ways, in both subprotocols: what the page and the server may say.

Every message is a JSON object whose `type` names it. A client says the same in `chat.v1` and
`chat.v2`; the server's messages differ only in `message`, which carries a timestamp (`ts`)
in `chat.v2`. These classes are the only place the wire format is written down: the server
decodes and encodes through them, ``/asyncapi.json`` publishes them, and the page's TypeScript
types (``static/protocol.d.ts``) are generated from the same schemas.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from simple_websocket.asyncapi import asyncapi_document
from simple_websocket.codecs import MessageProtocol, MsgspecJSONCodec

#: The limits a client's message must keep (also in the published schemas).
MAX_NICK = 20
MIN_SESSION, MAX_SESSION = 16, 128
MAX_TEXT = 2000

Nick = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NICK, pattern=r"\S")]
Secret = Annotated[str, msgspec.Meta(min_length=MIN_SESSION, max_length=MAX_SESSION)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class _Client(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    pass


class Join(_Client, tag="join"):
    """The first message: join the room as `nick`; coming back, with `session` and `since`."""

    nick: Nick
    session: Secret | None = None
    """The page's own secret that holds its nickname (never shown to anyone)."""
    since: str | None = None
    """The `pos` of the last room event the page got, to get every event after it."""


class Say(_Client, tag="message"):
    """Say `text` to the room."""

    text: Text


class Ack(_Client, tag="ack"):
    """How many events the page received on this connection so far: at least every `ack` events."""

    received: Count


ClientMessage = Join | Say | Ack
"""What a page may send, in `chat.v1` and `chat.v2`."""


class Stats(msgspec.Struct):
    users: Count
    """How many people are in the room, on any worker."""


class _Server(msgspec.Struct, tag_field="type", omit_defaults=True):
    pass


class Welcome(_Server, tag="welcome"):
    """The first event: the nickname the member has, and where in the room it starts."""

    nick: str
    protocol: Literal["chat.v1", "chat.v2"]
    ack: int
    """How often (in events) the page must acknowledge."""
    pos: str
    resumed: bool
    """Whether the member came back after a `since` rather than joining afresh."""
    recovered: bool | None
    """Coming back: whether every event after `since` is on its way (false: a `gap` comes
    first); null for a member joining afresh."""
    users: list[str]
    stats: Stats


class Joined(_Server, tag="join"):
    """Someone joined the room."""

    nick: str
    pos: str
    users: list[str]
    stats: Stats


class Left(_Server, tag="leave"):
    """Someone left the room: `left`, `lost` (their worker died) or `too slow`."""

    nick: str
    reason: str
    pos: str
    users: list[str]
    stats: Stats


class Said(_Server, tag="message"):
    """Someone said something (`chat.v2`: with the time it was said, in seconds since 1970)."""

    nick: str
    text: str
    ts: float
    pos: str
    users: list[str]
    stats: Stats


class SaidV1(_Server, tag="message"):
    """Someone said something (`chat.v1`: no timestamp)."""

    nick: str
    text: str
    pos: str
    users: list[str]
    stats: Stats


class Gap(_Server, tag="gap"):
    """Events this page will not get: `missed` of them (null when nobody can tell)."""

    missed: int | None
    cause: Literal["retention", "reset", "ahead", "overflow"]
    pos: str
    users: list[str]
    stats: Stats


class Resumed(_Server, tag="resumed"):
    """Every event the page missed came, `missed` of them messages: live ones follow."""

    missed: Count


class Error(_Server, tag="error"):
    """The page's last message was not taken: why."""

    error: str


ServerMessageV2 = Welcome | Joined | Left | Said | Gap | Resumed | Error
"""What the server sends in `chat.v2`."""
ServerMessageV1 = Welcome | Joined | Left | SaidV1 | Gap | Resumed | Error
"""What the server sends in `chat.v1`."""


#: The codecs of each direction (the room encodes the server's messages once for every page).
CLIENT = MsgspecJSONCodec(ClientMessage)
SERVER_V2 = MsgspecJSONCodec(ServerMessageV2)
SERVER_V1 = MsgspecJSONCodec(ServerMessageV1)

CHAT_V2 = MessageProtocol(
    CLIENT,
    SERVER_V2,
    subprotocol="chat.v2",
    description="Room messages carry the time they were said (`ts`).",
)
CHAT_V1 = MessageProtocol(
    CLIENT,
    SERVER_V1,
    subprotocol="chat.v1",
    description="As chat.v2, without timestamps.",
)
#: The subprotocols the chat speaks, in order of preference.
SUBPROTOCOLS = ["chat.v2", "chat.v1"]


def asyncapi() -> dict[str, object]:
    """The chat's AsyncAPI document, as ``/asyncapi.json`` serves it."""
    return asyncapi_document(
        {"/ws": [CHAT_V2, CHAT_V1]},
        title="simple_websocket chat",
        version="2.0.0",
        description=(
            "A room in a browser: join with a nickname, then talk, and acknowledge what you read "
            "(at least every `ack` events, as the welcome says). A page that comes back joins again "
            "with its `session` and the `pos` of the last event it got (`since`), and gets what it missed."
        ),
    )


def typescript_schema() -> dict[str, object]:
    """One JSON Schema with every message type and the three unions under ``$defs``, each with a
    title: what ``web/schema-to-ts.mjs`` turns into ``static/protocol.d.ts``."""
    unions = {
        "ClientMessage": CHAT_V2.receive.json_schema("#/$defs/{name}", "validation"),
        "ServerMessageV2": CHAT_V2.send.json_schema("#/$defs/{name}", "serialization"),
        "ServerMessageV1": CHAT_V1.send.json_schema("#/$defs/{name}", "serialization"),
    }
    definitions: dict[str, object] = {}
    for title, (schema, components) in unions.items():
        schema.pop("discriminator", None)  # an OpenAPI keyword: the TypeScript union needs only anyOf
        definitions.update(components)
        definitions[title] = {"title": title, **schema}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": dict(sorted(definitions.items()))}


if __name__ == "__main__":
    import sys

    what = sys.argv[1] if len(sys.argv) == 2 else ""
    documents = {"asyncapi": asyncapi, "schema": typescript_schema}
    if what not in documents:
        sys.exit("usage: python -m examples.chat.protocol asyncapi | schema")
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(documents[what]()), indent=2).decode() + "\n")
