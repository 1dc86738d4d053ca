"""RespConnection: the plain Redis connection of appends and reads, against a real redis-server."""

from __future__ import annotations

import anyio
import pytest

from simple_websocket import BrokerUnavailable
from simple_websocket.fanout import RedisBackend
from simple_websocket.fanout._resp import RespAddress, RespConnection, RespError, _command, _Incomplete, _parse, _Scan

from ..support.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6390/0", RespAddress(port=6390)),
        ("redis://localhost", RespAddress(host="localhost")),
        ("redis://:s%40cret@127.0.0.1/3", RespAddress(password="s@cret", db=3)),
        ("redis://ann:pw@127.0.0.1:7000", RespAddress(port=7000, username="ann", password="pw")),
        ("rediss://cache.internal:6380/1", RespAddress(host="cache.internal", port=6380, tls=True, db=1)),
        ("unix:///run/redis.sock", RespAddress(path="/run/redis.sock")),
    ],
)
def test_urls_it_connects_to(url: str, address: RespAddress) -> None:
    assert RespAddress.parse(url) == address


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1/0?protocol_version=2", "redis://127.0.0.1/zero", "redis://127.0.0.1:port", "http://x"],
)
def test_urls_left_to_coredis(url: str) -> None:
    assert RespAddress.parse(url) is None


def test_replies_are_parsed_whole_or_not_at_all() -> None:
    reply = b"*3\r\n$5\r\nhello\r\n:42\r\n*2\r\n$-1\r\n+OK\r\n-ERR wrong\r\n"
    value, end = _parse(reply, 0)
    assert value == [b"hello", 42, [None, b"OK"]]
    error, end = _parse(reply, end)
    assert isinstance(error, RespError)
    assert str(error) == "ERR wrong"
    assert end == len(reply)
    for cut in range(1, len(reply) - len(b"-ERR wrong\r\n")):
        with pytest.raises(_Incomplete):
            _parse(reply[:cut], 0)
    assert _parse(b"*-1\r\n", 0) == (None, 5)
    with pytest.raises(RespError, match="not a RESP2 reply"):
        _parse(b"%1\r\n", 0)


@pytest.mark.parametrize("step", [1, 3, 7, 1000])
def test_a_reply_is_known_whole_as_soon_as_it_is_and_scanned_once(step: int) -> None:
    reply = b"*4\r\n$5\r\nhel\r\n\r\n:42\r\n*2\r\n$-1\r\n*0\r\n*-1\r\n+OK\r\n"
    whole = reply.index(b"+OK")
    scan = _Scan()
    for cut in range(step, len(reply) + step, step):
        buffer = reply[:cut]
        assert scan.complete(buffer) == (len(buffer) >= whole), cut
        assert scan.position <= len(buffer)
        if len(buffer) >= whole:
            assert _parse(buffer, 0) == ([b"hel\r\n", 42, [None, []], None], whole)
            break


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert _command(["SET", b"k\r\n", 7]) == b"*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$1\r\n7\r\n"


async def test_commands_from_many_tasks_each_get_their_own_reply(redis: RedisServer) -> None:
    connection = await RespConnection.open(RespAddress(port=redis.port))
    replies: dict[int, object] = {}

    async def echo(number: int) -> None:
        replies[number] = await connection.call("ECHO", str(number) * 1000)

    try:
        async with anyio.create_task_group() as group:
            for number in range(50):
                group.start_soon(echo, number)
        assert replies == {number: str(number).encode() * 1000 for number in range(50)}
        error = await connection.call("NO-SUCH-COMMAND")
        assert isinstance(error, RespError)
        assert await connection.pipeline([["SET", "resp:k", "v"], ["GET", "resp:k"]]) == [b"OK", b"v"]
        big = b"x" * 8_000_000  # more than the socket takes at once: the send waits for it to drain
        assert await connection.pipeline([["SET", "resp:big", big], ["STRLEN", "resp:big"]]) == [b"OK", len(big)]
    finally:
        await connection.aclose()
    with pytest.raises(anyio.ClosedResourceError):
        await connection.call("PING")


async def test_a_call_cancelled_before_its_reply_closes_the_connection(redis: RedisServer) -> None:
    connection = await RespConnection.open(RespAddress(port=redis.port))
    waiting: list[object] = []

    async def queued() -> None:
        waiting.append(await connection.call("PING"))

    with anyio.move_on_after(0.2):
        async with anyio.create_task_group() as group:
            group.start_soon(connection.call, "BLPOP", "resp:nothing", 5)
            await anyio.sleep(0.05)
            group.start_soon(queued)  # waits for its turn behind the BLPOP
            await anyio.sleep(0.05)
            group.cancel_scope.cancel()
    assert connection.closed  # the BLPOP's reply would have reached the next caller
    assert waiting == []
    with pytest.raises(anyio.ClosedResourceError):
        await connection.call("PING")


async def test_a_refused_password_is_an_error(redis: RedisServer) -> None:
    with pytest.raises(RespError, match="AUTH"):
        await RespConnection.open(RespAddress(port=redis.port, password="wrong"))
    backend = RedisBackend(f"redis://:wrong@127.0.0.1:{redis.port}/0")
    async with backend:
        with pytest.raises(BrokerUnavailable, match="refused the connection"):
            await backend.read({}, timeout=0.1)


async def test_appends_survive_a_flushed_script_cache(redis: RedisServer) -> None:
    from simple_websocket.fanout import Broker

    async with Broker(RedisBackend(redis.url, namespace="resp-flush")) as broker:
        first = await broker.publish("feed", "one")
        connection = await RespConnection.open(RespAddress(port=redis.port))
        try:
            assert await connection.call("SCRIPT", "FLUSH") == b"OK"
        finally:
            await connection.aclose()
        second = await broker.publish("feed", "two")  # EVALSHA answers NOSCRIPT: sent again as EVAL
        assert second.seq == first.seq + 1


async def test_a_connection_redis_drops_fails_its_next_call_and_stays_closed(redis: RedisServer) -> None:
    dropped = await RespConnection.open(RespAddress(port=redis.port))
    killer = await RespConnection.open(RespAddress(port=redis.port))
    try:
        number = await dropped.call("CLIENT", "ID")
        assert isinstance(number, int)
        assert await killer.call("CLIENT", "KILL", "ID", number) == 1
        with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
            await dropped.call("PING")
        assert dropped.closed
        with pytest.raises(anyio.ClosedResourceError):
            await dropped.call("PING")
    finally:
        await dropped.aclose()
        await killer.aclose()


def test_it_runs_on_uvloop_too(redis: RedisServer) -> None:
    """uvloop's transports do not subclass asyncio's: the connection must not care."""
    pytest.importorskip("uvloop")

    async def ping() -> object:
        with anyio.fail_after(5):
            connection = await RespConnection.open(RespAddress(port=redis.port))
            try:
                return await connection.call("PING")
            finally:
                await connection.aclose()

    assert anyio.run(ping, backend="asyncio", backend_options={"use_uvloop": True}) == b"PONG"


async def test_a_url_with_coredis_options_appends_and_reads_through_coredis(redis: RedisServer) -> None:
    from simple_websocket.fanout import Broker, Message

    backend = RedisBackend(f"{redis.url}?client_name=fallback", namespace="resp-fallback")
    assert backend._address is None  # coredis's option: no plain connection for this URL
    async with Broker(backend) as broker, broker.subscribe("feed") as sub:
        first = await broker.publish("feed", "one")
        second = await broker.publish("feed", b"two")
        with anyio.fail_after(5):
            events = [await sub.receive(), await sub.receive()]
    assert [(type(event), event.position) for event in events] == [(Message, first), (Message, second)]
    assert [event.data for event in events if isinstance(event, Message)] == ["one", b"two"]
    assert not backend._connections
