"""simple_websocket.metrics: each fan-out metric counts what it says, on asyncio and trio."""

from __future__ import annotations

import anyio
import anyio.to_thread
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from simple_websocket import SlowSubscriber, metrics
from simple_websocket._telemetry import LAG_SAMPLE
from simple_websocket.fanout import Broker, Gap, MemoryBackend, Message, Position, Subscription

from .. import test_metrics
from ..support.memory import opened
from ..test_metrics import points, total
from .conftest import FAILED_CONNECTIONS, BackendFactory, CutOff

pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]

LIMIT = 10.0

reader = test_metrics.reader  # the fixture: metrics on, into an InMemoryMetricReader, off after the test


async def receive_all(sub: Subscription[object], count: int) -> list[object]:
    return [await sub.receive() for _ in range(count)]


def lag_seconds(reader: InMemoryMetricReader) -> float:
    """The lag histogram's sum."""
    data = reader.get_metrics_data()
    assert data is not None
    return sum(
        point.sum
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "websocket.fanout.lag"
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    )


async def test_publishes_and_deliveries_are_counted_with_their_lag(
    reader: InMemoryMetricReader, make_backend: BackendFactory
) -> None:
    with anyio.fail_after(LIMIT):
        async with Broker(make_backend()) as broker, broker.subscribe("room") as a, broker.subscribe("room") as b:
            sent = [str(i) for i in range(LAG_SAMPLE)]
            for data in sent:
                await broker.publish("room", data)
            for sub in (a, b):
                assert [event.data for event in await receive_all(sub, LAG_SAMPLE)] == sent  # type: ignore[attr-defined]
            async with broker.subscribe("other") as other:
                await broker.publish("other", "one reader")
                await other.receive()
    assert total(reader, "websocket.fanout.published") == LAG_SAMPLE + 1
    # Each entry counts once per subscription it reached: 16 * 2 in room, 1 in other.
    assert total(reader, "websocket.fanout.delivered") == LAG_SAMPLE * 2 + 1
    assert total(reader, "websocket.fanout.lag") == 1  # one entry in LAG_SAMPLE: room's seq 16
    assert 0 <= lag_seconds(reader) < 4 * LIMIT
    assert points(reader, "websocket.fanout.gaps") == {}


async def test_a_subscriber_ended_as_too_slow_is_counted_and_its_connection_closes_with_1013(
    reader: InMemoryMetricReader,
) -> None:
    with anyio.fail_after(LIMIT):
        async with (
            opened() as pair,
            Broker() as broker,
            broker.subscribe("feed", max_backlog=3) as slow,
            broker.subscribe("feed", max_backlog=10) as witness,
        ):
            for i in range(5):
                await broker.publish("feed", str(i))
            await receive_all(witness, 5)  # every message has been offered to both now
            try:
                await slow.receive()
            except SlowSubscriber:
                await pair.ws.close(1013, "try again later")
            assert await pair.client.receive() is not None
    assert total(reader, "websocket.fanout.slow_subscribers") == 1
    assert points(reader, "websocket.server.closes") == {
        frozenset({("websocket.close.code", 1013), ("websocket.close.by", "server")}): 1
    }
    assert points(reader, "websocket.fanout.gaps") == {}


async def test_events_dropped_under_drop_oldest_are_gaps_caused_by_overflow(reader: InMemoryMetricReader) -> None:
    with anyio.fail_after(LIMIT):
        async with (
            Broker() as broker,
            broker.subscribe("feed", max_backlog=2, overflow="drop_oldest") as behind,
            broker.subscribe("feed", max_backlog=10) as witness,
        ):
            for i in range(5):
                await broker.publish("feed", str(i))
            await receive_all(witness, 5)
            gap, *rest = await receive_all(behind, 3)
            assert isinstance(gap, Gap)
            assert gap.missed == 3
            assert [event.data for event in rest] == ["3", "4"]  # type: ignore[attr-defined]
    assert points(reader, "websocket.fanout.gaps") == {frozenset({("websocket.fanout.gap.cause", "overflow")}): 1}
    assert total(reader, "websocket.fanout.slow_subscribers") == 0
    assert total(reader, "websocket.fanout.delivered") == 10  # offered to both, dropped or not


async def test_an_outage_makes_the_broker_unreachable_until_it_answers_again(reader: InMemoryMetricReader) -> None:
    backend = CutOff()
    with anyio.fail_after(LIMIT):
        async with Broker(backend) as broker, broker.subscribe("room") as sub:
            await broker.publish("room", "before")
            assert (await sub.receive()).position.seq == 1
            assert points(reader, "websocket.fanout.broker.reachable") == {frozenset(): 1}
            backend.cut = True
            broker._restart_read()  # the reader's wait is cut short, as a dropped connection does
            while points(reader, "websocket.fanout.broker.reachable") != {frozenset(): 0}:
                await anyio.sleep(0.02)
            assert total(reader, "websocket.fanout.broker.reconnects") == 0
            backend.cut = False
            await broker.publish("room", "after")
            assert (await sub.receive()).position.seq == 2
            assert points(reader, "websocket.fanout.broker.reachable") == {frozenset(): 1}
    assert total(reader, "websocket.fanout.broker.reconnects") == 1


def outcomes(reader: InMemoryMetricReader) -> dict[object, float]:
    return {
        dict(key)["websocket.fanout.resume.outcome"]: value
        for key, value in points(reader, "websocket.fanout.resumes").items()
    }


def causes(reader: InMemoryMetricReader) -> dict[object, float]:
    return {
        dict(key)["websocket.fanout.gap.cause"]: value for key, value in points(reader, "websocket.fanout.gaps").items()
    }


async def leave_behind(broker: Broker, missed: int) -> Position:
    """Where a subscriber of "room" left, ``missed`` messages ago."""
    async with broker.subscribe("room") as first:
        await broker.publish("room", "seen")
        await first.receive()
        left_at = first.position("room")
    for i in range(missed):
        await broker.publish("room", f"missed {i}")
    return left_at


async def test_resumes_that_got_everything_they_missed_are_recovered(reader: InMemoryMetricReader) -> None:
    with anyio.fail_after(LIMIT):
        async with Broker() as broker:
            left_at = await leave_behind(broker, 3)
            async with broker.subscribe("room", since=left_at) as back:
                assert back.recovered is True
                assert len(await receive_all(back, 3)) == 3
            async with broker.subscribe("room", "lobby", since={"room": left_at}) as again:
                assert again.recovered is True
    assert outcomes(reader) == {"recovered": 2}
    assert causes(reader) == {}


async def test_resumes_that_got_a_gap_instead_are_not_recovered(reader: InMemoryMetricReader) -> None:
    with anyio.fail_after(LIMIT):
        async with Broker(MemoryBackend(retention=2)) as broker:
            left_at = await leave_behind(broker, 5)
            async with broker.subscribe("room", since=left_at) as late:
                assert late.recovered is False
                gap = await late.receive()
                assert isinstance(gap, Gap)
                assert gap.cause == "retention"
        async with Broker() as elsewhere, elsewhere.subscribe("room", since=left_at) as reset:
            # Another backend: another epoch, whose numbering is not this position's.
            assert reset.recovered is False
            gap = await reset.receive()
            assert isinstance(gap, Gap)
            assert gap.cause == "reset"
    assert outcomes(reader) == {"not_recovered": 2}
    assert causes(reader) == {"retention": 1, "reset": 1}


async def test_the_backlog_gauge_shows_the_deepest_backlog_and_all_of_them(reader: InMemoryMetricReader) -> None:
    deepest = {("websocket.fanout.backlog.measure", "max")}
    together = {("websocket.fanout.backlog.measure", "sum")}
    with anyio.fail_after(LIMIT):
        async with (
            Broker() as broker,
            broker.subscribe("a") as idle_a,
            broker.subscribe("a", "b") as idle_both,
            broker.subscribe("a") as reading,
        ):
            for i in range(4):
                await broker.publish("a", str(i))
            await broker.publish("b", "x")
            await receive_all(reading, 4)
            assert isinstance(await idle_a.receive(), Message)
            assert points(reader, "websocket.fanout.backlog") == {frozenset(deepest): 5, frozenset(together): 8}
            # As a reader on its own thread calls it, while the event loop goes on.
            assert await anyio.to_thread.run_sync(broker.backlogs) == (5, 8)
            assert idle_both.waiting == 5
    assert points(reader, "websocket.fanout.backlog") == {frozenset(deepest): 0, frozenset(together): 0}


async def test_nothing_is_counted_while_metrics_are_off() -> None:
    off = InMemoryMetricReader()
    metrics.enable(MeterProvider(metric_readers=[off]))
    metrics.disable()
    with anyio.fail_after(LIMIT):
        async with (
            Broker() as broker,
            broker.subscribe("room", max_backlog=1, overflow="drop_oldest") as behind,
            broker.subscribe("room") as witness,
        ):
            for i in range(3):
                await broker.publish("room", str(i))
            await receive_all(witness, 3)
            assert isinstance(await behind.receive(), Gap)
    for name in ("published", "delivered", "lag", "gaps"):
        assert points(off, f"websocket.fanout.{name}") == {}
