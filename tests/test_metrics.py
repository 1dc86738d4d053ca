"""simple_websocket.metrics: each connection and message metric counts what it says, on asyncio and trio."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, NumberDataPoint

from simple_websocket import (
    Accept,
    ConnectionClosed,
    Deny,
    HandshakeTimeout,
    MessageTooBig,
    OriginRefused,
    WebSocketASGI,
    metrics,
)
from simple_websocket._metered import MeteredWebSocketASGI
from simple_websocket.testing import memory_pair

from .support import memory
from .support.memory import LIMIT, connection, opened

pytestmark = pytest.mark.anyio

Attributes = frozenset[tuple[str, object]]


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    metrics.enable(MeterProvider(metric_readers=[reader]))
    try:
        yield reader
    finally:
        metrics.disable()


@pytest.fixture(params=["asgi", "transport"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Over ASGI (the metered copy of the per-message path) and over a Transport (the general one)."""
    monkeypatch.setattr(memory, "MESSAGE_PATH", request.param)
    path: str = request.param
    return path


def points(reader: InMemoryMetricReader, name: str) -> dict[Attributes, float]:
    """The metric's value per attribute set (a histogram's count), as of a collection now."""
    found: dict[Attributes, float] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != name:
                    continue
                for point in metric.data.data_points:
                    key = frozenset((point.attributes or {}).items())
                    if isinstance(point, HistogramDataPoint):
                        found[key] = point.count
                    else:
                        assert isinstance(point, NumberDataPoint)
                        found[key] = point.value
    return found


def total(reader: InMemoryMetricReader, name: str, **attributes: object) -> float:
    """The sum over the attribute sets that have ``attributes``."""
    wanted = set(attributes.items())
    return sum(value for key, value in points(reader, name).items() if wanted <= set(key))


TEXT = {"websocket.frame.type": "text"}
BINARY = {"websocket.frame.type": "binary"}


async def test_messages_and_their_sizes_are_counted_by_kind_both_ways(reader: InMemoryMetricReader, path: str) -> None:
    async with opened() as pair:
        assert isinstance(pair.ws, MeteredWebSocketASGI)
        for data in ("hi", "héllo", b"\x00\x01\x02"):
            await pair.client.send(data)
            await pair.ws.send(await pair.ws.receive())
            assert await pair.client.receive() == data
        await pair.ws.send(bytearray(b"1234"))  # bytes-like: the general path
        assert await pair.client.receive() == b"1234"
        # Read while the connection is open, then again after it ended: the same totals.
        for _ in range(2):
            assert total(reader, "websocket.server.received.messages", **TEXT) == 2
            assert total(reader, "websocket.server.received.messages", **BINARY) == 1
            assert total(reader, "websocket.server.received.size", **TEXT) == 2 + 6  # UTF-8: é is 2 bytes
            assert total(reader, "websocket.server.sent.size", **TEXT) == 2 + 6
            assert total(reader, "websocket.server.received.size", **BINARY) == 3
            assert total(reader, "websocket.server.sent.messages", **TEXT) == 2
            assert total(reader, "websocket.server.sent.messages", **BINARY) == 2
            assert total(reader, "websocket.server.sent.size", **BINARY) == 3 + 4
            await pair.client.disconnect(1000)
            with pytest.raises(ConnectionClosed):
                await pair.ws.receive()


async def test_an_accepted_connection_is_active_until_it_closes(reader: InMemoryMetricReader, path: str) -> None:
    async with opened() as pair:
        assert total(reader, "websocket.server.active_connections") == 1
        assert total(reader, "websocket.server.handshakes", **{"websocket.handshake.outcome": "accepted"}) == 1
        await pair.client.disconnect(1001)
        with pytest.raises(ConnectionClosed):
            await pair.ws.receive()
    assert total(reader, "websocket.server.active_connections") == 0
    assert points(reader, "websocket.server.closes") == {
        frozenset({("websocket.close.code", 1001), ("websocket.close.by", "client")}): 1
    }
    assert points(reader, "websocket.server.connection.duration") == {frozenset({("websocket.close.by", "client")}): 1}


@pytest.mark.parametrize(("code", "why"), [(1000, "done"), (1013, "try again later"), (4000, "app")])
async def test_closes_by_the_server_count_by_code(reader: InMemoryMetricReader, path: str, code: int, why: str) -> None:
    async with opened() as pair:
        await pair.ws.close(code, why)
        assert await pair.client.receive() is not None
    assert points(reader, "websocket.server.closes") == {
        frozenset({("websocket.close.code", code), ("websocket.close.by", "server")}): 1
    }
    assert total(reader, "websocket.server.active_connections") == 0


async def test_a_message_too_big_closes_with_1009_and_is_not_counted(reader: InMemoryMetricReader, path: str) -> None:
    async with opened(max_message_size=4) as pair:
        await pair.client.send("fits")
        assert await pair.ws.receive() == "fits"
        await pair.client.send("too long")
        with pytest.raises(MessageTooBig):
            await pair.ws.receive()
    assert total(reader, "websocket.server.received.messages") == 1
    assert points(reader, "websocket.server.closes") == {
        frozenset({("websocket.close.code", 1009), ("websocket.close.by", "server")}): 1
    }


def outcomes(reader: InMemoryMetricReader) -> dict[object, float]:
    found = points(reader, "websocket.server.handshakes")
    return {dict(key)["websocket.handshake.outcome"]: value for key, value in found.items()}


async def test_a_refused_origin_is_its_own_outcome(reader: InMemoryMetricReader, path: str) -> None:
    scope = {"headers": [(b"host", b"example.com"), (b"origin", b"https://evil.example")]}
    async with connection(scope=scope) as pair:
        await pair.client.connect()
        with pytest.raises(OriginRefused):
            await pair.ws.open(origins=["https://example.com"])
        assert isinstance(await pair.client.receive(), (Deny, type(None)))
    assert outcomes(reader) == {"origin_refused": 1}
    assert total(reader, "websocket.server.active_connections") == 0
    assert points(reader, "websocket.server.closes") == {}


async def test_a_refusal_by_the_application(reader: InMemoryMetricReader, path: str) -> None:
    async with connection() as pair:
        await pair.client.connect()
        await pair.ws.reject(status=401)
    assert outcomes(reader) == {"refused": 1}


async def test_a_handshake_that_times_out(reader: InMemoryMetricReader, path: str) -> None:
    async with connection() as pair:
        with pytest.raises(HandshakeTimeout):
            await pair.ws.open(timeout=0.01)
    assert outcomes(reader) == {"timeout": 1}


async def test_a_client_that_leaves_before_the_answer(reader: InMemoryMetricReader, path: str) -> None:
    async with connection() as pair:
        await pair.client.disconnect(1001)
        with pytest.raises(ConnectionClosed):
            await pair.ws.open()
    assert outcomes(reader) == {"client_left": 1}
    assert points(reader, "websocket.server.closes") == {}


async def test_a_send_queued_behind_another_is_timed(reader: InMemoryMetricReader, path: str) -> None:
    async with opened() as pair, anyio.create_task_group() as group:
        for index in range(3):
            group.start_soon(pair.ws.send, f"m{index}")
    assert total(reader, "websocket.server.sent.messages") == 3
    assert total(reader, "websocket.server.send.duration") >= (3 if path == "transport" else 2)


async def test_a_subclass_keeps_its_overrides_and_is_counted_once(reader: InMemoryMetricReader) -> None:
    seen: list[object] = []

    class Recording(WebSocketASGI):
        __slots__ = ()

        async def receive(self, timeout: float | None = None) -> str | bytes:
            data = await super().receive()
            seen.append(data)
            return data

    transport, client = memory_pair()
    with client, anyio.fail_after(LIMIT):
        ws = Recording.from_transport(transport)
        assert isinstance(ws, MeteredWebSocketASGI)
        assert type(ws).__name__ == "Recording"
        await client.connect()
        await ws.open()
        assert isinstance(await client.receive(), Accept)
        await client.send("x")
        assert await ws.receive() == "x"
    assert seen == ["x"]
    assert total(reader, "websocket.server.received.messages") == 1


async def test_off_by_default_and_after_disable() -> None:
    assert not metrics.enabled()
    async with opened() as pair:
        assert type(pair.ws) is WebSocketASGI
    reader = InMemoryMetricReader()
    metrics.enable(MeterProvider(metric_readers=[reader]))
    metrics.disable()
    async with opened() as pair:
        assert type(pair.ws) is WebSocketASGI
        await pair.client.send("not counted")
        assert await pair.ws.receive() == "not counted"
    assert points(reader, "websocket.server.handshakes") == {}


async def test_disable_while_a_metered_connection_is_open_stops_its_reports() -> None:
    reader = InMemoryMetricReader()
    metrics.enable(MeterProvider(metric_readers=[reader]))
    try:
        async with opened() as pair:
            metrics.disable()
            await pair.client.send("still works")
            assert await pair.ws.receive() == "still works"
            await pair.client.disconnect(1000)
            with pytest.raises(ConnectionClosed):
                await pair.ws.receive()
    finally:
        metrics.disable()
    assert total(reader, "websocket.server.active_connections") == 1  # its close came after disable()


def test_every_instrument_is_documented() -> None:
    names = [each.name for each in metrics.INSTRUMENTS]
    assert len(names) == len(set(names))
    for each in metrics.INSTRUMENTS:
        assert each.name.startswith(("websocket.server.", "websocket.fanout."))
        assert each.unit and each.answers.endswith("?")
