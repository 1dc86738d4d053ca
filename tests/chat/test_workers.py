"""One room across processes: chat processes sharing a real redis-server, clients on each of them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from ..support.chat_clients import Chatter, Event, is_message, join
from ..support.chat_processes import chat_process
from ..support.redis_cluster import RedisCluster
from ..support.redis_server import RedisServer, redis_server

pytestmark = [pytest.mark.anyio, pytest.mark.server]

LIMIT = 30.0
#: How long a chat process answers for its members in these tests (the demo's default is 6 s).
PRESENCE_TTL = 1.5


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


def room_env(name: str) -> dict[str, str]:
    """A room of its own for each test (keys under their own prefix in the shared Redis)."""
    return {"CHAT_NAMESPACE": name, "CHAT_PRESENCE_TTL": str(PRESENCE_TTL)}


async def close_all(clients: list[Chatter]) -> None:
    for client in clients:
        await client.close()


async def test_clients_on_two_processes_see_one_room_in_one_order(redis: RedisServer) -> None:
    env = room_env("one-order")
    with chat_process(redis=redis.url, env=env) as first, chat_process(redis=redis.url, env=env) as second:
        clients: list[Chatter] = []
        try:
            with anyio.fail_after(LIMIT):
                for index in range(6):
                    client, welcome = await join((first, second)[index % 2].url, f"p{index}")
                    assert welcome["nick"] == f"p{index}"
                    clients.append(client)
                taken, welcome = await join(second.url, "p0")  # taken on the other process
                clients.append(taken)
                assert welcome["nick"] == "p0-2"
                everyone = [f"p{index}" for index in range(6)] + ["p0-2"]

                async def say_all(client: Chatter, index: int) -> None:
                    for number in range(5):
                        await client.say(f"{index}:{number}")

                async with anyio.create_task_group() as group:
                    for index, client in enumerate(clients):
                        group.start_soon(say_all, client, index)
                seen: list[list[tuple[object, object]]] = []
                last_users: list[object] = []
                for client in clients:
                    messages: list[Event] = []
                    while len(messages) < 5 * len(clients):
                        messages.append(await client.until(is_message))
                    seen.append([(event["nick"], event["text"]) for event in messages])
                    last_users.append(messages[-1]["users"])
        finally:
            await close_all(clients)
    assert all(order == seen[0] for order in seen), "clients on different processes saw different orders"
    assert sorted(seen[0]) == sorted((nick, f"{i}:{n}") for i, nick in enumerate(everyone) for n in range(5))
    assert all(users == sorted(everyone) for users in last_users)


async def test_a_killed_process_takes_its_members_out_of_the_list_in_time(redis: RedisServer) -> None:
    env = room_env("killed")
    with chat_process(redis=redis.url, env=env) as survivor, chat_process(redis=redis.url, env=env) as doomed:
        ann, _ = await join(survivor.url, "ann")
        bob, _ = await join(doomed.url, "bob")
        cid, _ = await join(doomed.url, "cid")
        try:
            with anyio.fail_after(LIMIT):
                await ann.until(lambda event: event["type"] == "join" and event["nick"] == "cid")
                doomed.kill()
                killed = time.monotonic()
                left: dict[object, Event] = {}
                while len(left) < 2:
                    event = await ann.until(lambda event: event["type"] == "leave")
                    left[event["nick"]] = event
                took = time.monotonic() - killed
        finally:
            with anyio.move_on_after(LIMIT):
                await close_all([ann, bob, cid])  # bob's and cid's process is gone: their sockets just close
    assert {nick: event["reason"] for nick, event in left.items()} == {"bob": "lost", "cid": "lost"}
    assert left["cid"]["users"] == ["ann"] or left["bob"]["users"] == ["ann"]
    assert took <= PRESENCE_TTL * 4 / 3 + 1.0, f"members of a killed process left after {took:.1f} s"


async def test_several_workers_of_one_server_are_one_room(redis: RedisServer) -> None:
    with chat_process(redis=redis.url, workers=2, env=room_env("workers")) as chat:
        clients: list[Chatter] = []
        try:
            with anyio.fail_after(LIMIT):
                for index in range(6):  # the kernel spreads the connections over both workers
                    client, _ = await join(chat.url, f"w{index}")
                    clients.append(client)
                await clients[0].say("hello all")
                for client in clients:
                    heard = await client.until(is_message)
                    assert (heard["text"], heard["users"]) == ("hello all", sorted(f"w{i}" for i in range(6)))
        finally:
            await close_all(clients)


def test_several_workers_need_redis(tmp_path: Path) -> None:
    import subprocess
    import sys

    from ..support.servers import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "examples.chat", "0", "--workers", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "--redis" in result.stderr


async def test_two_processes_on_a_redis_cluster_are_one_room(redis_cluster: RedisCluster) -> None:
    """``--redis-cluster``: processes given any node of the cluster serve one room."""
    env = room_env("on-a-cluster")
    first_node, second_node = (f"redis://127.0.0.1:{node.port}" for node in redis_cluster.nodes[:2])
    with (
        chat_process(redis_cluster=first_node, env=env) as first,
        chat_process(redis_cluster=second_node, env=env) as second,
    ):
        clients: list[Chatter] = []
        try:
            with anyio.fail_after(LIMIT):
                for index in range(4):
                    client, _ = await join((first, second)[index % 2].url, f"c{index}")
                    clients.append(client)
                await clients[0].say("hello cluster")  # through the first process
                await clients[1].say("and back")  # through the second, maybe first
                seen: list[list[tuple[object, object]]] = []
                for client in clients:
                    heard = [await client.until(is_message), await client.until(is_message)]
                    seen.append([(event["nick"], event["text"]) for event in heard])
                    assert heard[-1]["users"] == [f"c{index}" for index in range(4)]
        finally:
            await close_all(clients)
    assert all(order == seen[0] for order in seen), "pages on different processes saw different orders"
    assert sorted(seen[0]) == [("c0", "hello cluster"), ("c1", "and back")]


def test_redis_and_redis_cluster_exclude_each_other() -> None:
    import subprocess
    import sys

    from ..support.servers import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "examples.chat", "0", "--redis", "redis://x", "--redis-cluster", "redis://y"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "not allowed with" in result.stderr
