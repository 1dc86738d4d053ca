"""CodecSocket's own message path over a WebSocketASGI against the general one, for any input.

``CodecSocket(ws, codec)`` over a WebSocketASGI runs the connection's per-message path itself
with the codec's C functions inside (``codecs/_asgi.py``); over any other socket it calls
``socket.receive()``/``send()`` and the codec's ``decode()``/``encode()``. Both must give the
same objects, frames and errors, message by message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import anyio
import msgpack
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simple_websocket import ConcurrencyError, ConnectionClosed, DecodeError, WebSocketASGI
from simple_websocket.codecs import (
    Codec,
    CodecSocket,
    JSONBinaryCodec,
    JSONCodec,
    MessageProtocol,
    MsgpackCodec,
    MsgspecJSONCodec,
    MsgspecMsgpackCodec,
    PydanticJSONCodec,
)
from simple_websocket.codecs._asgi import ASGICodecSocket
from simple_websocket.typing import Data

from ..support import memory
from ..support.memory import LIMIT, opened
from ..test_websocket_fast_path import messages
from .test_json import json_values
from .test_msgpack import msgpack_values
from .test_msgspec import Client as StructClient
from .test_msgspec import Item, Join, Order, clients
from .test_pydantic import Client as ModelClient
from .test_pydantic import Join as JoinModel
from .test_pydantic import Post

AnyCodec = Codec[object, str] | Codec[object, bytes] | Codec[object, Data]


class Plain(WebSocketASGI):
    """A WebSocketASGI with receive/send of its own: CodecSocket takes the general path over it."""

    __slots__ = ()

    async def receive(self, timeout: float | None = None) -> Data | None:  # type: ignore[override]  # same overloads
        return await super().receive(timeout)

    async def send(self, data: Data | bytearray | memoryview) -> None:
        await super().send(data)


def _positive(obj: object) -> int:
    if type(obj) is not int or obj < 0:
        raise ValueError(f"not a count: {obj!r}")
    return obj


def _refuse(obj: object) -> object:
    raise TypeError(f"no JSON for {type(obj).__name__}")


CODECS: dict[str, Callable[[], AnyCodec]] = {
    "json": JSONCodec,
    "json-binary": JSONBinaryCodec,
    "json-convert": lambda: JSONCodec(_positive),
    "json-options": lambda: JSONCodec(default=_refuse, sort_keys=True),
    "msgpack": MsgpackCodec,
    "msgpack-default": lambda: MsgpackCodec(default=_refuse),
    # The typed codecs: the fast path calls their raw C functions (or validate_json) instead.
    "msgspec-json": lambda: MsgspecJSONCodec[object](StructClient),
    "msgspec-json-lax": lambda: MsgspecJSONCodec[object](StructClient, strict=False),
    "msgspec-msgpack": lambda: MsgspecMsgpackCodec[object](StructClient),
    "pydantic": lambda: PydanticJSONCodec[object](ModelClient),
    "pydantic-strict": lambda: PydanticJSONCodec[object](ModelClient, strict=True),  # no raw function
    "protocol": lambda: MessageProtocol[object, object](
        MsgspecMsgpackCodec(StructClient), MsgspecJSONCodec(StructClient)
    ),
    "protocol-pydantic": lambda: MessageProtocol[object, object](
        PydanticJSONCodec(ModelClient, strict=True), MsgspecMsgpackCodec(StructClient)
    ),
}

# Messages close to the typed codecs' types: some fit, most miss by a field, a tag or a type.
typed_messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["join", "order", "post", "nope"])},
    optional={
        "nick": st.text(max_size=4) | st.integers(0, 9),
        "items": st.lists(
            st.fixed_dictionaries(
                {"name": st.text(max_size=3) | st.integers(0, 9), "qty": st.integers(-2, 2) | st.just("1")}
            ),
            max_size=3,
        ),
        "tags": st.lists(st.text(max_size=3) | st.integers(0, 9), max_size=3),
        "note": st.none() | st.text(max_size=3),
    },
)
json_frames = (json_values | typed_messages).map(lambda value: orjson.dumps(value).decode())
frames = st.one_of(
    json_frames,
    json_frames.map(str.encode),
    (msgpack_values | typed_messages).map(lambda value: msgpack.packb(value)),
    st.text(max_size=6),
    st.binary(max_size=6),
)
receive_items = st.one_of(
    messages(),
    frames.map(lambda frame: {"type": "websocket.receive", "text" if isinstance(frame, str) else "bytes": frame}),
)
unencodable = st.one_of(st.just({1, 2}), st.just(object()), st.just(2**70), st.just({"k": float("nan")}))
models = st.one_of(
    st.builds(JoinModel, type=st.just("join"), nick=st.text(max_size=4)),
    st.builds(Post, type=st.just("post"), tags=st.lists(st.text(max_size=3), max_size=3)),
)
objects = st.one_of(json_values, msgpack_values, unencodable, clients, models)

Outcome = tuple[str, object]


def outcome_of(error: Exception) -> Outcome:
    if isinstance(error, ConnectionClosed):
        return ("closed", (error.reason, error.message))
    if isinstance(error, DecodeError):
        return ("DecodeError", (str(error), error.data, error.path))
    return (type(error).__name__, str(error))


def scripted(items: list[object]) -> Callable[[], Awaitable[Mapping[str, object]]]:
    replay = iter([{"type": "websocket.connect"}, *items]).__next__

    async def receive() -> Mapping[str, object]:
        return replay()  # type: ignore[return-value]  # ill-formed items are the point of this test

    return receive


async def received(
    kind: type[WebSocketASGI], codec: str, items: list[object], limit: int | None
) -> tuple[list[Outcome], list[dict[str, object]]]:
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    ws = await kind.accept({"type": "websocket"}, scripted(items), send, max_message_size=limit)
    sock = CodecSocket(ws, CODECS[codec]())
    assert isinstance(sock, ASGICodecSocket) is (kind is WebSocketASGI)
    seen: list[Outcome] = []
    for _ in items:
        try:
            obj = await sock.receive()
        except Exception as error:  # every error is compared, whatever its type
            seen.append(outcome_of(error))
            if isinstance(error, ConnectionClosed):
                break
        else:
            seen.append(("object", obj))
    return seen, sent


async def sent(kind: type[WebSocketASGI], codec: str, values: list[object]) -> tuple[list[Outcome], list[object]]:
    messages_out: list[object] = []

    async def send(message: dict[str, object]) -> None:
        messages_out.append(message)

    ws = await kind.accept({"type": "websocket"}, scripted([]), send)
    sock = CodecSocket(ws, CODECS[codec]())
    seen: list[Outcome] = []
    for value in values:
        try:
            await sock.send(value)
        except Exception as error:  # every error is compared, whatever its type
            seen.append(outcome_of(error))
        else:
            seen.append(("sent", None))
    return seen, messages_out


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("codec", sorted(CODECS))
@settings(max_examples=100, deadline=None)
@given(items=st.lists(receive_items, max_size=5), limit=st.sampled_from([None, None, 4]))
def test_receive_gives_the_same_objects_and_errors(
    backend: str, codec: str, items: list[object], limit: int | None
) -> None:
    own = anyio.run(received, WebSocketASGI, codec, items, limit, backend=backend)
    general = anyio.run(received, Plain, codec, items, limit, backend=backend)
    assert own == general


@pytest.mark.parametrize("codec", sorted(CODECS))
@settings(max_examples=100, deadline=None)
@given(values=st.lists(objects, max_size=4))
def test_send_gives_the_same_frames_and_errors(codec: str, values: list[object]) -> None:
    own = anyio.run(sent, WebSocketASGI, codec, values)
    general = anyio.run(sent, Plain, codec, values)
    assert own == general


@pytest.mark.anyio
async def test_a_receive_through_the_socket_and_one_through_the_adapter_cannot_overlap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "MESSAGE_PATH", "asgi")
    async with opened() as pair:
        sock = CodecSocket(pair.ws, JSONCodec())
        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(pair.ws.receive)
                await anyio.wait_all_tasks_blocked()
                with pytest.raises(ConcurrencyError):
                    await sock.receive()
                await pair.client.send("1")


@pytest.mark.anyio
async def test_objects_and_strs_sent_at_once_take_turns_as_whole_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "MESSAGE_PATH", "asgi")
    async with opened(max_buffer=1) as pair:
        sock = CodecSocket(pair.ws, JSONCodec())
        assert isinstance(sock, ASGICodecSocket)
        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                for index in range(6):
                    if index % 2:
                        group.start_soon(sock.send, {"n": index})
                    else:
                        group.start_soon(pair.ws.send, f"s{index}")
                await anyio.wait_all_tasks_blocked()
                frames = [await pair.client.receive() for _ in range(6)]
        assert sorted(map(str, frames)) == sorted(['{"n":1}', '{"n":3}', '{"n":5}', "s0", "s2", "s4"])


FITS = '{"type": "join", "nick": "ann"}'
RECEIVED: list[object] = [
    {"type": "websocket.receive", "text": FITS},
    {"type": "websocket.receive", "text": '{"type": "join", "nick": 1}'},
    {
        "type": "websocket.receive",
        "text": '{"type": "order", "items": [{"name": "a", "qty": 1}, {"name": 2, "qty": 1}]}',
    },
    {"type": "websocket.receive", "text": '{"type": "post", "tags": ["a", 2]}'},
    {"type": "websocket.receive", "bytes": FITS.encode()},
    {"type": "websocket.receive", "text": "{bad"},
    {"type": "websocket.receive", "bytes": msgpack.packb({"type": "join", "nick": "ann"})},
    {"type": "websocket.receive", "bytes": msgpack.packb({"type": "join", "nick": 1})},
    {"type": "websocket.receive", "text": msgpack.packb({"type": "join", "nick": "ann"}).decode("latin-1")},
    {"type": "websocket.disconnect", "code": 1000},
]
# What each receive gives: the object, or the DecodeError's path (None: no path), then the close.
MSGSPEC_JSON = [Join("ann"), "$.nick", "$.items[1].name", "$.type", Join("ann"), None, None, None, None, "closed"]
MSGPACK = [None, None, None, None, "$", None, Join("ann"), "$.nick", None, "closed"]
PYDANTIC = [JoinModel(type="join", nick="ann"), "$.nick", "$", "$.tags[1]", JoinModel(type="join", nick="ann")]
PYDANTIC += [None, None, None, None, "closed"]
EXPECTED_RECEIVED = {
    "msgspec-json": MSGSPEC_JSON,
    "msgspec-json-lax": MSGSPEC_JSON,
    "msgspec-msgpack": MSGPACK,
    "protocol": MSGPACK,
    "pydantic": PYDANTIC,
    "pydantic-strict": PYDANTIC,
    "protocol-pydantic": PYDANTIC,
}


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("codec", sorted(EXPECTED_RECEIVED))
def test_typed_codecs_give_the_same_objects_and_paths_on_both_paths(backend: str, codec: str) -> None:
    own = anyio.run(received, WebSocketASGI, codec, RECEIVED, None, backend=backend)
    general = anyio.run(received, Plain, codec, RECEIVED, None, backend=backend)
    assert own == general
    summary: list[object] = []
    for kind, detail in own[0]:
        if kind == "DecodeError":
            assert isinstance(detail, tuple)
            message, _, path = detail
            assert isinstance(message, str) and (path is None or f" at {path}: " in message)
            summary.append(path)
        else:
            summary.append(detail if kind == "object" else kind)
    assert summary == EXPECTED_RECEIVED[codec]


SENT_VALUES: list[object] = [Order([Item("tea", 2)]), JoinModel(type="join", nick="ann"), {object()}, object()]
TEXT = {"type": "websocket.send", "text": '{"type":"order","items":[{"name":"tea","qty":2}],"note":null}'}
BINARY = {
    "type": "websocket.send",
    "bytes": msgpack.packb({"type": "order", "items": [{"name": "tea", "qty": 2}], "note": None}),
}
EXPECTED_SENT: dict[str, list[object]] = {
    "msgspec-json": [TEXT],
    "protocol": [TEXT],
    "msgspec-msgpack": [BINARY],
    "protocol-pydantic": [BINARY],
    "pydantic": [{"type": "websocket.send", "text": '{"type":"join","nick":"ann"}'}],
}


@pytest.mark.parametrize("codec", sorted(EXPECTED_SENT))
def test_typed_codecs_send_the_same_frames_and_encode_errors_on_both_paths(codec: str) -> None:
    own = anyio.run(sent, WebSocketASGI, codec, SENT_VALUES)
    general = anyio.run(sent, Plain, codec, SENT_VALUES)
    assert own == general
    outcomes, messages_out = own
    assert messages_out[1:] == EXPECTED_SENT[codec]
    assert [kind for kind, _ in outcomes].count("EncodeError") == len(SENT_VALUES) - 1
