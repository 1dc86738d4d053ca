"""websocket_app: every scope answered, every connection ended, on asyncio and trio."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import msgspec
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from simple_websocket import (
    SAME_ORIGIN,
    Origins,
    OriginsLike,
    Scope,
    UnsupportedMessage,
    WebSocketApp,
    WebSocketASGI,
    websocket_app,
)
from simple_websocket._app import _reason
from simple_websocket.codecs import CodecSocket, JSONCodec, MessageProtocol, MsgspecJSONCodec
from simple_websocket.typing import ASGIApp

from .support.memory import LIMIT

pytestmark = pytest.mark.anyio

Message = Mapping[str, object]


@dataclass
class Peer:
    """The server's side of one ASGI call: what the app will receive, and what it sent."""

    incoming: MemoryObjectSendStream[Message]
    outgoing: MemoryObjectReceiveStream[Message]
    outcome: list[BaseException] = field(default_factory=list)

    async def put(self, message: Message) -> None:
        await self.incoming.send(message)

    async def next(self) -> Message:
        with anyio.fail_after(LIMIT):
            return await self.outgoing.receive()

    async def rest(self) -> list[Message]:
        """Everything else the app sends before it returns."""
        with anyio.fail_after(LIMIT):
            return [message async for message in self.outgoing]


@asynccontextmanager
async def calling(app: ASGIApp, scope: Scope) -> AsyncIterator[Peer]:
    """Run ``app(scope, receive, send)`` in a task; the block plays the server, then waits for the app."""
    to_app, app_inbox = anyio.create_memory_object_stream[Message](16)
    app_outbox, from_app = anyio.create_memory_object_stream[Message](16)
    peer = Peer(to_app, from_app)

    async def send(message: Message) -> None:
        await app_outbox.send(dict(message))

    async def run() -> None:
        try:
            await app(scope, app_inbox.receive, send)
        except Exception as exc:  # kept for the test to look at
            peer.outcome.append(exc)
        finally:
            app_outbox.close()

    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as group, to_app, app_inbox, app_outbox, from_app:
            group.start_soon(run)
            yield peer


def ws_scope(*offered: str, extensions: Mapping[str, object] | None = None) -> Scope:
    scope: dict[str, object] = {"type": "websocket", "path": "/", "subprotocols": list(offered)}
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


async def echo_once(ws: WebSocketASGI) -> None:
    await ws.send(await ws.receive())


async def test_accepts_with_the_subprotocol_runs_the_handler_and_closes_after_it() -> None:
    app = websocket_app(echo_once, subprotocols=["chat.v2", "chat.v1"], headers={"x-app": "1"})
    async with calling(app, ws_scope("chat.v1", "chat.v2")) as peer:
        await peer.put({"type": "websocket.connect"})
        assert await peer.next() == {
            "type": "websocket.accept",
            "subprotocol": "chat.v1",
            "headers": [(b"x-app", b"1")],
        }
        await peer.put({"type": "websocket.receive", "text": "hi"})
        assert await peer.next() == {"type": "websocket.send", "text": "hi"}
        assert await peer.next() == {"type": "websocket.close", "code": 1000, "reason": ""}
    assert peer.outcome == []


async def test_a_handler_that_raises_closes_with_1011_and_the_error_reaches_the_server() -> None:
    async def broken(ws: WebSocketASGI) -> None:
        await ws.receive()
        raise LookupError("bug")

    async with calling(websocket_app(broken), ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        await peer.put({"type": "websocket.receive", "bytes": b"x"})
        assert await peer.next() == {"type": "websocket.close", "code": 1011, "reason": "internal error"}
    assert [type(exc) for exc in peer.outcome] == [LookupError]


async def test_a_handler_that_closes_itself_is_not_closed_again() -> None:
    async def bye(ws: WebSocketASGI) -> None:
        await ws.close(4000, "done")

    async with calling(websocket_app(bye), ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        assert await peer.next() == {"type": "websocket.close", "code": 4000, "reason": "done"}
        assert await peer.rest() == []
    assert peer.outcome == []


async def test_connection_closed_escaping_the_handler_ends_the_call_quietly() -> None:
    async def reader(ws: WebSocketASGI) -> None:
        while True:
            await ws.receive()

    async with calling(websocket_app(reader), ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        await peer.put({"type": "websocket.disconnect", "code": 1001})
        assert await peer.rest() == []
    assert peer.outcome == []


async def test_a_peer_gone_under_a_handlers_task_group_ends_the_call_quietly_too() -> None:
    async def relay(ws: WebSocketASGI) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(ws.receive)  # raises ConnectionClosed: the group raises a group of it
            await anyio.sleep_forever()

    async with calling(websocket_app(relay), ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        await peer.put({"type": "websocket.disconnect", "code": 1006})
        assert await peer.rest() == []
    assert peer.outcome == []


async def test_a_task_group_with_any_other_error_in_it_still_fails_the_call() -> None:
    async def relay(ws: WebSocketASGI) -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(ws.receive)
            await anyio.sleep(0.01)
            raise LookupError("bug")

    async with calling(websocket_app(relay), ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        assert await peer.next() == {"type": "websocket.close", "code": 1011, "reason": "internal error"}
    assert len(peer.outcome) == 1
    assert not isinstance(peer.outcome[0], LookupError)  # the group, as the handler raised it


async def test_a_peer_that_leaves_before_connecting_never_reaches_the_handler() -> None:
    called = []

    async def handler(ws: WebSocketASGI) -> None:
        called.append(ws)

    async with calling(websocket_app(handler), ws_scope()) as peer:
        await peer.put({"type": "websocket.disconnect", "code": 1006})
        assert await peer.rest() == []
    assert called == [] and peer.outcome == []


@pytest.mark.parametrize(
    ("extensions", "refusal"),
    [
        (None, {"type": "websocket.close", "code": 1008, "reason": ""}),
        ({"websocket.http.response": {}}, {"type": "websocket.http.response.start", "status": 403, "headers": []}),
    ],
    ids=["close-before-accept", "denial-response"],
)
async def test_without_auto_accept_a_handler_that_decides_nothing_refuses(
    extensions: Mapping[str, object] | None, refusal: Message
) -> None:
    async def undecided(ws: WebSocketASGI) -> None:
        assert ws.request.path == "/"

    async with calling(websocket_app(undecided, accept=False), ws_scope(extensions=extensions)) as peer:
        await peer.put({"type": "websocket.connect"})
        assert await peer.next() == refusal
    assert peer.outcome == []


async def test_without_auto_accept_a_failing_handler_refuses_with_500() -> None:
    async def broken(ws: WebSocketASGI) -> None:
        raise LookupError("bug")

    scope = ws_scope(extensions={"websocket.http.response": {}})
    async with calling(websocket_app(broken, accept=False), scope) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["status"] == 500
        assert (await peer.next())["type"] == "websocket.http.response.body"
    assert [type(exc) for exc in peer.outcome] == [LookupError]


async def test_without_auto_accept_the_handler_opens_itself() -> None:
    async def picky(ws: WebSocketASGI) -> None:
        if ws.request.header("x-token") == "yes":
            await ws.open()
            await ws.send("welcome")
        else:
            await ws.reject(status=401)

    scope = {**ws_scope(), "headers": [(b"x-token", b"yes")]}
    async with calling(websocket_app(picky, accept=False), scope) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        assert await peer.next() == {"type": "websocket.send", "text": "welcome"}
        assert (await peer.next())["code"] == 1000


async def test_http_gets_426_and_lifespan_is_acknowledged() -> None:
    app = websocket_app(echo_once)
    async with calling(app, {"type": "http", "method": "GET", "path": "/"}) as peer:
        start = await peer.next()
        assert start["status"] == 426 and (b"upgrade", b"websocket") in start["headers"]  # type: ignore[operator]  # a list
        assert b"WebSocket" in (await peer.next())["body"]  # type: ignore[operator]  # bytes
    async with calling(app, {"type": "lifespan"}) as peer:
        await peer.put({"type": "lifespan.startup"})
        assert await peer.next() == {"type": "lifespan.startup.complete"}
        await peer.put({"type": "lifespan.something_new"})  # a later ASGI version's: ignored
        await peer.put({"type": "lifespan.shutdown"})
        assert await peer.next() == {"type": "lifespan.shutdown.complete"}
    assert peer.outcome == []


async def test_other_scopes_go_to_the_fallback_when_there_is_one() -> None:
    seen: list[object] = []

    async def fallback(scope: Scope, receive: object, send: object) -> None:
        seen.append(scope["type"])

    app = websocket_app(echo_once, fallback=fallback)
    for kind in ("http", "lifespan", "custom"):
        async with calling(app, {"type": kind}) as peer:
            pass
        assert peer.outcome == []
    assert seen == ["http", "lifespan", "custom"]


async def test_an_unknown_scope_type_without_fallback_is_an_error() -> None:
    async with calling(websocket_app(echo_once), {"type": "webtransport"}) as peer:
        pass
    assert [type(exc) for exc in peer.outcome] == [UnsupportedMessage]
    assert isinstance(peer.outcome[0], OSError)


async def test_closing_is_bounded_when_the_server_stops_taking_messages() -> None:
    async def broken(ws: WebSocketASGI) -> None:
        raise LookupError("bug")

    blocked = anyio.Event()

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        if message["type"] == "websocket.close":
            blocked.set()
            await anyio.sleep_forever()

    app = websocket_app(broken, close_timeout=0.05)
    with anyio.fail_after(LIMIT), pytest.raises(LookupError):
        await app(ws_scope(), receive, send)
    assert blocked.is_set()


async def test_it_works_as_a_decorator_too() -> None:
    @websocket_app
    async def hello(ws: WebSocketASGI) -> None:
        await ws.send("hi")

    assert isinstance(hello, WebSocketApp)
    async with calling(hello, ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        assert await peer.next() == {"type": "websocket.send", "text": "hi"}


def browser_scope(origin: str, *, extensions: Mapping[str, object] | None = None) -> Scope:
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", origin.encode())]
    return {**ws_scope(extensions=extensions), "headers": headers}


@pytest.mark.parametrize("accept", [True, False])
@pytest.mark.parametrize(
    ("extensions", "refusal"),
    [
        (None, {"type": "websocket.close", "code": 1008, "reason": ""}),
        (
            {"websocket.http.response": {}},
            {
                "type": "websocket.http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")],
            },
        ),
    ],
    ids=["close-before-accept", "denial-response"],
)
async def test_by_default_a_page_from_another_site_is_refused_before_the_handler_runs(
    accept: bool, extensions: Mapping[str, object] | None, refusal: Message
) -> None:
    called = []

    async def handler(ws: WebSocketASGI) -> None:
        called.append(ws)

    scope = browser_scope("http://evil.example", extensions=extensions)
    async with calling(websocket_app(handler, accept=accept), scope) as peer:
        await peer.put({"type": "websocket.connect"})
        assert await peer.next() == refusal
        rest = await peer.rest()
    assert rest == (
        [{"type": "websocket.http.response.body", "body": b"Origin not allowed\n", "more_body": False}]
        if extensions
        else []
    )
    assert called == [] and peer.outcome == []


@pytest.mark.parametrize(
    ("origins", "origin", "accepted"),
    [
        (SAME_ORIGIN, "http://127.0.0.1:8000", True),
        (None, "http://evil.example", True),
        (["https://app.example"], "https://app.example", True),
        (["https://app.example"], "http://127.0.0.1:8000", False),
        (Origins("https://app.example", same_host=True), "http://127.0.0.1:8000", True),
    ],
)
async def test_origins_opens_the_app_up_explicitly(origins: OriginsLike | None, origin: str, accepted: bool) -> None:
    async with calling(websocket_app(echo_once, origins=origins), browser_scope(origin)) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == ("websocket.accept" if accepted else "websocket.close")
        if accepted:
            await peer.put({"type": "websocket.receive", "text": "hi"})
            assert await peer.next() == {"type": "websocket.send", "text": "hi"}


def test_websocket_app_is_the_class_itself() -> None:
    assert websocket_app is WebSocketApp
    assert websocket_app(echo_once).origins is SAME_ORIGIN
    opened_up = websocket_app(echo_once, origins="https://a.example").origins
    assert opened_up is not None and repr(opened_up) == repr(Origins("https://a.example"))


@dataclass
class Ping:
    n: int


def ping(obj: object) -> Ping:
    if not (isinstance(obj, dict) and isinstance(obj.get("n"), int)):
        raise ValueError("not a ping")
    return Ping(obj["n"])


async def test_a_decode_error_escaping_the_handler_closes_with_1007_and_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="simple_websocket")

    async def strict(ws: WebSocketASGI) -> None:
        sock = CodecSocket(ws, JSONCodec(ping))
        while True:
            await sock.send({"n": (await sock.receive()).n + 1})

    async with calling(websocket_app(strict), ws_scope()) as peer:
        await peer.put({"type": "websocket.connect"})
        assert (await peer.next())["type"] == "websocket.accept"
        await peer.put({"type": "websocket.receive", "text": '{"n": 1}'})
        assert await peer.next() == {"type": "websocket.send", "text": '{"n":2}'}
        await peer.put({"type": "websocket.receive", "text": '{"n": "x' + "y" * 300 + '"}'})
        close = await peer.next()
        assert close["type"] == "websocket.close" and close["code"] == 1007
        reason = close["reason"]
        assert isinstance(reason, str) and reason.startswith("JSON does not convert: not a ping")
        assert await peer.rest() == []
    assert peer.outcome == []
    [record] = [r for r in caplog.records if r.name.startswith("simple_websocket")]
    assert record.levelno == logging.DEBUG and record.getMessage().startswith("closing / from None with 1007: JSON")


def test_a_close_reason_is_cut_to_123_bytes_of_utf8() -> None:
    assert _reason("short") == "short"
    cut = _reason("é" * 100)  # 200 bytes
    assert len(cut.encode()) <= 123 and cut.endswith("...") and cut.startswith("é" * 60)


async def test_with_a_protocol_the_handler_gets_a_socket_in_it_and_its_subprotocol_is_offered() -> None:
    class Add(msgspec.Struct, tag=True):
        amount: int

    class Total(msgspec.Struct, tag=True):
        value: int

    adding = MessageProtocol(MsgspecJSONCodec(Add), MsgspecJSONCodec(Total), subprotocol="add.v1")

    async def handler(sock: CodecSocket[Add, Total]) -> None:
        total = 0
        async for add in sock:
            total += add.amount
            await sock.send(Total(total))

    app = websocket_app(handler, protocol=adding)
    assert app.protocol is adding and app.subprotocols == "add.v1"
    async with calling(app, ws_scope("other", "add.v1")) as peer:
        await peer.put({"type": "websocket.connect"})
        assert await peer.next() == {"type": "websocket.accept", "subprotocol": "add.v1"}
        await peer.put({"type": "websocket.receive", "text": '{"type": "Add", "amount": 2}'})
        assert await peer.next() == {"type": "websocket.send", "text": '{"type":"Total","value":2}'}
        await peer.put({"type": "websocket.receive", "bytes": b'{"type": "Add", "amount": 3}'})
        assert await peer.next() == {"type": "websocket.send", "text": '{"type":"Total","value":5}'}
        await peer.put({"type": "websocket.receive", "text": '{"type": "Add", "amount": "3"}'})
        assert await peer.next() == {
            "type": "websocket.close",
            "code": 1007,
            "reason": "JSON does not fit at $.amount: Expected `int`, got `str`",
        }
    assert peer.outcome == []
    assert websocket_app(handler, protocol=adding, subprotocols=["x"]).subprotocols == ["x"]
