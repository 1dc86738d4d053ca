"""What the fan-out layer logs: a warning for what an operator must act on, naming the topic."""

from __future__ import annotations

import logging

import anyio
import pytest

from simple_websocket import SlowSubscriber
from simple_websocket.fanout import Broker

from .conftest import CutOff

pytestmark = pytest.mark.anyio

LIMIT = 10.0


def warnings_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


async def test_a_subscriber_ended_as_too_slow_is_a_warning_naming_its_topic(caplog: pytest.LogCaptureFixture) -> None:
    with anyio.fail_after(LIMIT):
        async with (
            Broker() as broker,
            broker.subscribe("feed", max_backlog=3) as slow,
            broker.subscribe("feed", max_backlog=10) as witness,
        ):
            for i in range(5):
                await broker.publish("feed", str(i))
            for _ in range(5):  # every message has been offered to both now
                await witness.receive()
            with pytest.raises(SlowSubscriber):
                await slow.receive()  # overflowed: it raises before anything it still holds
    assert warnings_of(caplog, "simple_websocket.fanout._subscription") == [
        "a subscriber of feed fell 3 events behind: its subscription ends (SlowSubscriber)"
    ]


async def test_an_unreachable_broker_is_one_warning_and_its_return_another(caplog: pytest.LogCaptureFixture) -> None:
    backend = CutOff()
    with anyio.fail_after(LIMIT):
        async with Broker(backend) as broker, broker.subscribe("room") as sub:
            await broker.publish("room", "before")
            assert (await sub.receive()).position.seq == 1
            backend.cut = True
            broker._restart_read()  # the reader's wait is cut short, as a dropped connection does
            while len(warnings_of(caplog, "simple_websocket.fanout._broker")) < 1:
                await anyio.sleep(0.05)
            await anyio.sleep(0.3)  # several failed reads meanwhile: still one warning
            backend.cut = False
            await broker.publish("room", "after")
            assert (await sub.receive()).position.seq == 2
    assert warnings_of(caplog, "simple_websocket.fanout._broker") == [
        "the broker is unreachable: reading room stopped until it answers (connection refused)",
        "the broker answers again: reading room resumed",
    ]


async def test_nothing_is_logged_on_the_way_of_a_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="simple_websocket")
    with anyio.fail_after(LIMIT):
        async with Broker() as broker, broker.subscribe("room") as sub:
            for i in range(10):
                await broker.publish("room", str(i))
            for _ in range(10):
                await sub.receive()
    assert [r for r in caplog.records if r.name.startswith("simple_websocket")] == []
