"""WebSocketASGI behaviour, driven through the in-memory transport on asyncio and trio."""

from __future__ import annotations

import anyio
import pytest

from simple_websocket import (
    Accept,
    Close,
    ConcurrencyError,
    Connect,
    ConnectionClosed,
    ConnectionState,
    Deny,
    HandshakeTimeout,
    InvalidArgument,
    InvalidData,
    InvalidState,
    MalformedMessage,
    MessageTooBig,
    UsageError,
    WebSocketASGI,
)

from .support import memory
from .support.memory import LIMIT, Outcome, connection, opened, run_to_outcome

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["transport", "asgi", "asgi-limited", "asgi-metered"], autouse=True)
def message_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test over the general Transport path and the ASGI per-message path: plain, size-limited, metered."""
    monkeypatch.setattr(memory, "MESSAGE_PATH", request.param)


# -- handshake ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "supported", "chosen"),
    [
        (["b", "a"], ["a", "b"], "b"),  # the client's order wins
        (["x", "a"], ["a", "b"], "a"),
        (["chat.v2"], "chat", None),  # a str is one name, never a substring
        (["chat"], "chat", "chat"),
        ([" a ", "b"], ["a"], "a"),  # stray spaces are stripped
        (["a, b"], ["b"], "b"),  # a header value that was not split
        ([], ["a"], None),
        (["a"], None, None),
    ],
)
async def test_accept_negotiates_the_clients_first_supported_subprotocol(
    offered: list[str], supported: str | list[str] | None, chosen: str | None
) -> None:
    async with connection(subprotocols=offered, server_subprotocols=supported) as pair:
        await pair.client.connect()
        await pair.ws.open()
        assert await pair.client.receive() == Accept(chosen)
        assert pair.ws.subprotocol == chosen
        assert pair.ws.connected
        assert pair.ws.state is ConnectionState.OPEN


async def test_scope_without_subprotocols_offers_none() -> None:
    async with connection(scope={"type": "websocket"}, server_subprotocols=["a"]) as pair:
        await pair.client.connect()
        await pair.ws.open()
        assert pair.ws.subprotocol is None


async def test_accept_sends_extra_headers_lower_cased() -> None:
    async with connection() as pair:
        await pair.client.connect()
        await pair.ws.open(headers={"X-Server": "demo", "Set-Cookie": "a=1"})
        assert await pair.client.receive() == Accept(None, ((b"x-server", b"demo"), (b"set-cookie", b"a=1")))


async def test_accept_rejects_headers_that_would_split_the_response() -> None:
    async with connection() as pair:
        with pytest.raises(InvalidArgument):
            await pair.ws.open(headers=[("x-bad", "a\r\nb: c")])
        assert pair.ws.state is ConnectionState.CONNECTING


async def test_client_leaving_before_connect_ends_accept_with_connection_closed() -> None:
    async with connection() as pair:
        await pair.client.disconnect(1001, "bye")
        with pytest.raises(ConnectionClosed) as caught:
            await pair.ws.open()
        assert (caught.value.reason, caught.value.message, caught.value.by_peer) == (1001, "bye", True)
        assert pair.ws.state is ConnectionState.CLOSED


async def test_handshake_timeout_leaves_the_connection_usable() -> None:
    async with connection() as pair:
        with pytest.raises(HandshakeTimeout) as caught:
            await pair.ws.open(timeout=0.05)
        assert isinstance(caught.value, TimeoutError)
        assert pair.ws.state is ConnectionState.CONNECTING
        await pair.client.connect()
        await pair.ws.open()
        assert isinstance(await pair.client.receive(), Accept)


async def test_open_twice_is_a_usage_error() -> None:
    async with opened() as pair:
        with pytest.raises(InvalidState):
            await pair.ws.open()


async def test_a_message_before_connect_is_malformed() -> None:
    async with connection() as pair:
        await pair.client.send("too early")
        with pytest.raises(MalformedMessage):
            await pair.ws.open()


async def test_reject_sends_a_denial_and_closes() -> None:
    async with connection() as pair:
        await pair.client.connect()
        await pair.ws.reject(status=401, headers=[(b"www-authenticate", b"Bearer")], body=b"who are you?")
        assert await pair.client.receive() == Deny(401, ((b"www-authenticate", b"Bearer"),), b"who are you?")
        assert pair.ws.state is ConnectionState.CLOSED
        with pytest.raises(ConnectionClosed):
            await pair.ws.receive()
        with pytest.raises(InvalidState):
            await pair.ws.open()


@pytest.mark.parametrize("status", [0, 99, 600])
async def test_reject_with_an_impossible_status_is_refused(status: int) -> None:
    async with connection() as pair:
        with pytest.raises(InvalidArgument):
            await pair.ws.reject(status=status)


async def test_close_before_accept_refuses_the_connection() -> None:
    async with connection() as pair:
        await pair.client.connect()
        await pair.ws.close(1008, "no")
        assert await pair.client.receive() == Close(1008, "no")
        assert pair.ws.state is ConnectionState.CLOSED


async def test_receive_and_send_before_accept_are_usage_errors() -> None:
    async with connection() as pair:
        with pytest.raises(InvalidState):
            await pair.ws.receive()
        with pytest.raises(InvalidState) as caught:
            await pair.ws.send("x")
        assert isinstance(caught.value, UsageError)
        assert isinstance(caught.value, RuntimeError)


# -- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["hello", "", "ünïcødé ✓", b"\x00\xff", b""])
async def test_messages_round_trip_with_their_frame_kind(data: str | bytes) -> None:
    async with opened() as pair:
        await pair.client.send(data)
        received = await pair.ws.receive()
        assert received == data
        assert type(received) is type(data)
        await pair.ws.send(received)
        echoed = await pair.client.receive()
        assert echoed == data
        assert type(echoed) is type(data)


@pytest.mark.parametrize("data", [bytearray(b"ab"), memoryview(b"ab")])
async def test_bytes_like_data_is_sent_as_binary(data: bytearray | memoryview) -> None:
    async with opened() as pair:
        await pair.ws.send(data)
        assert await pair.client.receive() == b"ab"


@pytest.mark.parametrize("data", [1, None, ["x"], {"a": 1}])
async def test_sending_anything_else_is_a_type_error(data: object) -> None:
    async with opened() as pair:
        with pytest.raises(InvalidData) as caught:
            await pair.ws.send(data)  # type: ignore[arg-type]  # the point of the test
        assert isinstance(caught.value, TypeError)
        await pair.ws.send("still usable")
        assert await pair.client.receive() == "still usable"


async def test_receive_timeout_returns_none_and_keeps_the_connection() -> None:
    async with opened() as pair:
        assert await pair.ws.receive(timeout=0.02) is None
        assert pair.ws.connected
        await pair.client.send("later")
        assert await pair.ws.receive(timeout=LIMIT) == "later"


async def test_two_receivers_at_once_get_a_concurrency_error() -> None:
    async with opened() as pair:
        first = Outcome()
        async with anyio.create_task_group() as group:
            group.start_soon(run_to_outcome, pair.ws.receive, first)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(ConcurrencyError):
                await pair.ws.receive()
            await pair.client.send("for the first")
        assert first.value == "for the first"


async def test_a_receive_in_flight_when_the_connection_closes_ends_it_for_later_receives() -> None:
    async with opened() as pair:
        first = Outcome()
        async with anyio.create_task_group() as group:
            group.start_soon(run_to_outcome, pair.ws.receive, first)
            await anyio.wait_all_tasks_blocked()
            await pair.ws.close(1001, "going away")
            assert await pair.client.receive() == Close(1001, "going away")
            await pair.client.send("sent before the client saw the close")
        assert first.value == "sent before the client saw the close"
        with pytest.raises(ConnectionClosed) as caught:
            await pair.ws.receive()  # without asking the server: several would wait forever
        assert (caught.value.reason, caught.value.by_peer) == (1001, False)
        with pytest.raises(ConnectionClosed):
            await pair.ws.send("after the close")


async def test_concurrent_senders_take_turns_with_whole_messages() -> None:
    async with opened(max_buffer=1) as pair:
        count = 200

        async def sender(name: str) -> None:
            for index in range(count):
                await pair.ws.send(f"{name}{index}")

        received: list[object] = []
        async with anyio.create_task_group() as group:
            group.start_soon(sender, "a")
            group.start_soon(sender, "b")
            for _ in range(2 * count):
                received.append(await pair.client.receive())
        for name in "ab":
            assert [item for item in received if str(item).startswith(name)] == [f"{name}{i}" for i in range(count)]


async def test_a_cancelled_waiting_sender_does_not_block_the_others() -> None:
    async with opened(max_buffer=1) as pair:
        await pair.ws.send("buffered")
        async with anyio.create_task_group() as group:
            group.start_soon(pair.ws.send, "first")  # blocks: the buffer is full
            await anyio.wait_all_tasks_blocked()
            with anyio.move_on_after(0.05):
                await pair.ws.send("cancelled while waiting for its turn")
            group.start_soon(pair.ws.send, "third")
            await anyio.wait_all_tasks_blocked()
            assert [await pair.client.receive() for _ in range(3)] == ["buffered", "first", "third"]


@pytest.mark.parametrize(("fits", "too_big"), [("1234", b"12345"), (b"1234", "12345")])
async def test_message_over_the_limit_closes_with_1009(fits: str | bytes, too_big: str | bytes) -> None:
    async with opened(max_message_size=4) as pair:
        await pair.client.send(fits)
        assert await pair.ws.receive() == fits
        await pair.client.send(too_big)
        with pytest.raises(MessageTooBig) as caught:
            await pair.ws.receive()
        assert (caught.value.reason, caught.value.size, caught.value.limit) == (1009, 5, 4)
        assert isinstance(caught.value, ConnectionClosed)
        assert await pair.client.receive() == Close(1009, "message too big")
        assert pair.ws.state is ConnectionState.CLOSED


async def test_negative_message_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        async with connection(max_message_size=-1):
            pass


@pytest.mark.parametrize("code", [1000, 1001])
async def test_iteration_ends_quietly_on_a_normal_close(code: int) -> None:
    async with opened() as pair:
        for data in ("a", b"b"):
            await pair.client.send(data)
        await pair.client.disconnect(code)
        assert [message async for message in pair.ws] == ["a", b"b"]


@pytest.mark.parametrize("code", [1005, 1006, 1011, 4000])
async def test_iteration_raises_on_an_abnormal_close(code: int) -> None:
    async with opened() as pair:
        await pair.client.send("a")
        await pair.client.disconnect(code)
        seen: list[object] = []

        async def iterate() -> None:
            async for message in pair.ws:
                seen.append(message)

        with pytest.raises(ConnectionClosed) as caught:
            await iterate()
        assert seen == ["a"]
        assert caught.value.reason == code


async def test_iteration_ends_after_our_own_normal_close() -> None:
    async with opened() as pair:
        await pair.ws.close()
        assert [message async for message in pair.ws] == []


# -- closing -----------------------------------------------------------------------------


async def test_close_sends_code_and_reason_once_and_remembers_them() -> None:
    async with opened() as pair:
        await pair.ws.close(4001, "bye")
        await pair.ws.close(4002, "again")  # idempotent
        assert await pair.client.receive() == Close(4001, "bye")
        with pytest.raises(anyio.WouldBlock):
            pair.client.receive_nowait()
        info = pair.ws.close_info
        assert info is not None
        assert (info.reason, info.message, info.by_peer) == (4001, "bye", False)
        for call in (pair.ws.receive, lambda: pair.ws.send("x")):
            with pytest.raises(ConnectionClosed) as caught:
                await call()
            assert (caught.value.reason, caught.value.message, caught.value.by_peer) == (4001, "bye", False)
        assert not pair.ws.connected


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2999, 5000])
async def test_close_codes_that_cannot_be_sent_are_refused(code: int) -> None:
    async with opened() as pair:
        with pytest.raises(InvalidArgument) as caught:
            await pair.ws.close(code)
        assert isinstance(caught.value, ValueError)
        assert pair.ws.connected


async def test_close_reason_longer_than_123_bytes_is_refused() -> None:
    async with opened() as pair:
        with pytest.raises(InvalidArgument):
            await pair.ws.close(1000, "é" * 62)
        await pair.ws.close(1000, "é" * 61)


async def test_peer_close_is_reported_with_code_reason_and_side() -> None:
    async with opened() as pair:
        await pair.client.disconnect(4002, "cya")
        with pytest.raises(ConnectionClosed) as caught:
            await pair.ws.receive()
        assert (caught.value.reason, caught.value.message, caught.value.by_peer) == (4002, "cya", True)
        assert pair.ws.close_info is not None
        assert pair.ws.close_info.reason == 4002
        # A second receive raises again without asking the transport (which would fail loudly).
        with pytest.raises(ConnectionClosed):
            await pair.ws.receive()
        await pair.ws.close()  # nothing to do any more


async def test_send_after_the_peer_left_raises_connection_closed() -> None:
    async with opened() as pair:
        await pair.client.disconnect(1001)
        with pytest.raises(ConnectionClosed) as caught:
            await pair.ws.send("anyone?")  # the transport's stream is broken
        assert (caught.value.reason, caught.value.by_peer) == (1006, True)
        assert pair.ws.state is ConnectionState.CLOSED


async def test_send_after_a_seen_disconnect_raises_even_where_the_transport_would_not() -> None:
    async with opened(silent_after_disconnect=True) as pair:
        await pair.client.disconnect(1000)
        with pytest.raises(ConnectionClosed):
            await pair.ws.receive()
        with pytest.raises(ConnectionClosed) as caught:
            await pair.ws.send("anyone?")
        assert caught.value.reason == 1000


async def test_closing_while_another_task_sends_waits_for_its_message() -> None:
    async with opened(max_buffer=1) as pair:
        await pair.ws.send("buffered")
        async with anyio.create_task_group() as group:
            group.start_soon(pair.ws.send, "in flight")  # blocks: the buffer is full
            await anyio.wait_all_tasks_blocked()
            group.start_soon(pair.ws.close, 1000, "")
            await anyio.wait_all_tasks_blocked()
            assert not pair.ws.connected
            assert [await pair.client.receive() for _ in range(3)] == ["buffered", "in flight", Close(1000, "")]


async def test_connect_on_an_open_connection_is_malformed() -> None:
    async with opened() as pair:
        await pair.client.send_raw(Connect())
        with pytest.raises(MalformedMessage):
            await pair.ws.receive()
        assert pair.ws.connected


async def test_repr_shows_state_and_subprotocol() -> None:
    async with opened() as pair:
        name = "MeteredWebSocketASGI" if memory.MESSAGE_PATH == "asgi-metered" else "WebSocketASGI"
        assert repr(pair.ws) == f"<{name} open subprotocol=None>"


# -- a server whose receive is not cancellation-safe --------------------------------------


class SlowHandover:
    """An ASGI server whose receive takes a "slow" message first and hands it over 0.2 s later."""

    def __init__(self) -> None:
        self.inbox: list[dict[str, object]] = [{"type": "websocket.connect"}]
        self.arrived = anyio.Event()
        self.sent: list[object] = []

    async def receive(self) -> dict[str, object]:
        while not self.inbox:
            await self.arrived.wait()
        message = self.inbox.pop(0)
        await anyio.sleep(0.2 if message.get("text") == "slow" else 0)  # taken, not yet handed over
        return message

    async def send(self, message: object) -> None:
        self.sent.append(message)

    def connection(self, max_message_size: int | None) -> WebSocketASGI:
        scope = {"type": "websocket", "path": "/", "headers": []}
        return WebSocketASGI(scope, self.receive, self.send, max_message_size=max_message_size)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("max_message_size", [None, 100])
async def test_a_receive_timeout_loses_no_message_a_server_was_handing_over(max_message_size: int | None) -> None:
    """granian's receive takes the message first and hands it over later: cancelled in between,
    it loses it. receive(timeout) leaves such a receive running and the next receive() takes it."""
    server = SlowHandover()
    inbox, arrived, sent = server.inbox, server.arrived, server.sent
    ws = server.connection(max_message_size)
    with anyio.fail_after(LIMIT):
        await ws.open()
        inbox.append({"type": "websocket.receive", "text": "slow"})
        arrived.set()
        assert await ws.receive(timeout=0.05) is None  # the server holds "slow" right now
        assert await ws.receive() == "slow"
        inbox.append({"type": "websocket.receive", "text": "next"})
        assert await ws.receive(timeout=LIMIT) == "next"
        assert await ws.receive(timeout=0.05) is None
        await ws.close()  # the receive held by that timeout is dropped with the connection
    assert sent[-1] == {"type": "websocket.close", "code": 1000, "reason": ""}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_held_message_over_the_limit_closes_with_1009() -> None:
    server = SlowHandover()
    ws = server.connection(max_message_size=3)
    with anyio.fail_after(LIMIT):
        await ws.open()
        server.inbox.append({"type": "websocket.receive", "text": "slow"})
        server.arrived.set()
        assert await ws.receive(timeout=0.05) is None
        with pytest.raises(MessageTooBig):
            await ws.receive(timeout=LIMIT)
    assert server.sent[-1] == {"type": "websocket.close", "code": 1009, "reason": "message too big"}
    assert not ws.connected


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("max_message_size", [None, 100])
async def test_a_receive_while_a_timed_one_waits_is_a_concurrency_error(max_message_size: int | None) -> None:
    server = SlowHandover()
    ws = server.connection(max_message_size)
    first = Outcome()
    with anyio.fail_after(LIMIT):
        await ws.open()
        async with anyio.create_task_group() as group:
            group.start_soon(run_to_outcome, lambda: ws.receive(timeout=LIMIT), first)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(ConcurrencyError):
                await ws.receive()
            with pytest.raises(ConcurrencyError):
                await ws.receive(timeout=0.01)
            server.inbox.append({"type": "websocket.receive", "text": "for the first"})
            server.arrived.set()
    assert first.value == "for the first"
