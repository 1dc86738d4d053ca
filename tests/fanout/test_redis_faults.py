"""A real redis-server killed with SIGKILL mid-stream and started again on its data directory."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from simple_websocket.fanout import Broker, Left, Message, RedisBackend

from .conftest import FAILED_CONNECTIONS
from .redis_server import redis_server


pytestmark = [pytest.mark.anyio, FAILED_CONNECTIONS]

MESSAGES = 300
KILL_AT = 100
LIMIT = 60.0


async def test_nothing_lost_or_duplicated_across_a_redis_crash(tmp_path: Path) -> None:
    with redis_server(tmp_path) as server:
        received: list[Message[object]] = []
        async with Broker(RedisBackend(server.url, retention=10_000), publish_timeout=15) as publisher:
            async with Broker(RedisBackend(server.url, retention=10_000)) as subscriber:
                async with subscriber.subscribe("feed", max_backlog=MESSAGES + 10) as sub:

                    async def publish_all() -> None:
                        for i in range(MESSAGES):
                            if i == KILL_AT:
                                server.kill()
                                await anyio.sleep(0.5)
                                server.start()
                            await publisher.publish("feed", f"m{i}")
                            await anyio.sleep(0.002)

                    with anyio.fail_after(LIMIT):
                        async with anyio.create_task_group() as group:
                            group.start_soon(publish_all)
                            async for event in sub:
                                assert isinstance(event, Message), event  # no gap: all within the window
                                received.append(event)
                                if len(received) == MESSAGES:
                                    break
    assert [m.data for m in received] == [f"m{i}" for i in range(MESSAGES)]
    assert [m.seq for m in received] == list(range(1, MESSAGES + 1))


async def test_a_dead_process_members_are_reaped(tmp_path: Path) -> None:
    ttl = 1.5
    with redis_server(tmp_path) as server:
        async with Broker(RedisBackend(server.url), presence_ttl=ttl) as broker, broker.subscribe("chat") as sub:
            # A process that joined and then died: its owner never sends a heartbeat.
            assert await broker.backend.join("chat", "ghost", owner="a-dead-process")
            with anyio.fail_after(ttl * 4 / 3 + 2):
                events = [await sub.receive(), await sub.receive()]
            assert isinstance(events[1], Left) and events[1].member == "ghost" and events[1].lost
            assert await broker.members("chat") == frozenset()
