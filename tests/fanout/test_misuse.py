"""Arguments out of range, calls at the wrong time, and what the fan-out layer says about them."""

from __future__ import annotations

import anyio
import pytest

import simple_websocket.fanout
from simple_websocket import BrokerUnavailable, InvalidArgument, InvalidState, SlowSubscriber
from simple_websocket.fanout import Broker, Kind, Left, MemoryBackend, Position, RedisBackend

from ..support.redis_server import free_port
from .conftest import FAILED_CONNECTIONS

pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]

LIMIT = 10.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: Broker(publish_timeout=0),
        lambda: Broker(presence_ttl=-1),
        lambda: MemoryBackend(retention=0),
        lambda: RedisBackend(retention=0),
        lambda: RedisBackend(timeout=0),
        lambda: RedisBackend(dedup_window=0),
    ],
)
def test_options_out_of_range_are_refused(make: object) -> None:
    assert callable(make)
    with pytest.raises(InvalidArgument):
        make()


async def test_a_broker_runs_once_at_a_time_and_stops_once() -> None:
    broker = Broker()
    await broker.__aexit__(None, None, None)  # never started: nothing to do
    with anyio.fail_after(LIMIT):
        async with broker:
            with pytest.raises(InvalidState):
                await broker.__aenter__()
            with pytest.raises(InvalidArgument):
                broker.subscribe("room", overflow="drop_newest")  # type: ignore[call-overload]  # the point of the test
            assert not await broker.leave("room", "nobody")  # never joined here
        with pytest.raises(InvalidState):
            await broker.join("room", "ann")


async def test_an_unknown_name_of_the_module_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        simple_websocket.fanout.NoSuchThing  # noqa: B018 - the lookup is the test


async def test_a_subscription_that_ended_takes_nothing_more_and_tells_why() -> None:
    async with Broker() as broker, broker.subscribe("feed", max_backlog=1) as sub:
        waiting = anyio.Event()

        async def watch() -> None:
            waiting.set()
            await sub.wait_overflowed()

        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as group:
                group.start_soon(watch)
                await waiting.wait()
                await broker.publish("feed", "one")
                await broker.publish("feed", "two")  # over the backlog: the subscription ends
        assert sub.overflowed
        await sub.wait_overflowed()  # returns at once now
        with pytest.raises(SlowSubscriber):
            await sub.receive()
        event = Left("feed", "x", Position(1, "e"))
        assert sub.offer((event, frozenset())) == -1


async def test_the_memory_backend_history_and_presence_edges() -> None:
    backend = MemoryBackend(retention=5)
    assert await backend.history("nothing yet", 3) == ()
    await backend.append("t", Kind.TEXT, "a", key="k1")
    assert await backend.history("t", 0) == ()
    assert await backend.join("t", "ann", owner="one")
    assert not await backend.leave("t", "ann", owner="two")  # not two's
    await backend.heartbeat("one", ttl=1.0)
    await backend.reap({"t"})  # every owner of a MemoryBackend lives in this process
    assert (await backend.head("t")).members == frozenset({"ann"})


async def test_a_redis_backend_used_before_it_is_connected_is_unavailable() -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(BrokerUnavailable):
        await backend.head("room")
    await backend.__aexit__(None, None, None)  # never connected: nothing to close
    assert await backend.history("room", 0) == ()


async def test_subscribing_while_the_broker_cannot_be_reached_fails_in_time() -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    with anyio.fail_after(LIMIT):
        async with Broker(backend, publish_timeout=0.5) as broker:
            with pytest.raises(BrokerUnavailable):
                async with broker.subscribe("room"):
                    pass
            assert broker._topics == {}  # nothing left registered
            with pytest.raises(BrokerUnavailable):
                await broker.join("room", "ann")
            assert not await broker.leave("room", "ann")  # the failed join left nothing behind
