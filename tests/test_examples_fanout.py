"""examples/fanout.py as the README shows it: rooms shared by two server processes through one Redis."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from .support.servers import two_sharing_redis

pytestmark = [pytest.mark.anyio, pytest.mark.server]

LIMIT = 10.0


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with two_sharing_redis("examples.fanout:app", tmp_path_factory.mktemp("redis")) as urls:
        yield urls


async def receive(client: ClientConnection) -> object:
    with anyio.fail_after(LIMIT):
        return orjson.loads(await client.recv())


async def test_a_room_spans_both_processes_and_newcomers_get_its_history(two_processes: tuple[str, str]) -> None:
    first, second = two_processes
    async with (
        connect(first + "/rooms/blue", open_timeout=LIMIT) as ann,
        connect(second + "/rooms/blue", open_timeout=LIMIT) as bob,
        connect(second + "/rooms/green", open_timeout=LIMIT) as elsewhere,
    ):
        await anyio.sleep(0.2)  # every subscription has started
        await ann.send(orjson.dumps({"from": "ann"}).decode())
        await bob.send(orjson.dumps({"from": "bob"}).decode())
        heard = [[await receive(client) for _ in range(2)] for client in (ann, bob)]
        assert heard[0] == heard[1]  # one order, whichever process a client is on
        assert sorted(str(obj) for obj in heard[0]) == ["{'from': 'ann'}", "{'from': 'bob'}"]
        async with connect(first + "/rooms/blue", open_timeout=LIMIT) as late:
            assert [await receive(late) for _ in range(2)] == heard[0]  # the room's history first
        await elsewhere.send('{"from": "green"}')
        assert await receive(elsewhere) == {"from": "green"}  # another room: nothing of blue's
