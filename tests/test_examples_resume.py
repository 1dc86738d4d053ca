"""examples/resume.py as the README shows it: a client resumes on another process, missing nothing."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .support.servers import two_sharing_redis

pytestmark = [pytest.mark.anyio, pytest.mark.server]

LIMIT = 10.0


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with two_sharing_redis("examples.resume:app", tmp_path_factory.mktemp("redis")) as urls:
        yield urls


async def receive(client: ClientConnection) -> dict[str, object]:
    with anyio.fail_after(LIMIT):
        frame = orjson.loads(await client.recv())
    assert isinstance(frame, dict)
    return frame


async def test_a_client_resumes_on_another_process_with_nothing_lost_or_repeated(
    two_processes: tuple[str, str],
) -> None:
    first, second = two_processes
    async with connect(first + "/feed/news", open_timeout=LIMIT) as ann:
        start = await receive(ann)
        assert start["recovered"] is None
        for i in range(3):
            await ann.send(orjson.dumps({"n": i}).decode())
        got = [await receive(ann) for _ in range(3)]
    left_at = got[-1]["pos"]
    async with connect(second + "/feed/news", open_timeout=LIMIT) as bob:
        await receive(bob)
        for i in range(3, 7):
            await bob.send(orjson.dumps({"n": i}).decode())
        assert [(await receive(bob))["data"] for _ in range(4)] == [{"n": i} for i in range(3, 7)]
        async with connect(f"{second}/feed/news?since={left_at}", open_timeout=LIMIT) as back:
            assert (await receive(back))["recovered"] is True
            missed = [await receive(back) for _ in range(4)]
            await bob.send('{"n": 7}')
            live = await receive(back)
    assert [frame["data"] for frame in got + missed + [live]] == [{"n": i} for i in range(8)]
    assert len({frame["pos"] for frame in got + missed + [live]}) == 8


async def test_a_position_of_another_epoch_is_one_gap(two_processes: tuple[str, str]) -> None:
    first, _ = two_processes
    async with connect(first + "/feed/other?since=5.not-this-redis", open_timeout=LIMIT) as client:
        assert (await receive(client))["recovered"] is False
        gap = await receive(client)
        assert (gap["gap"], gap["missed"]) == ("reset", None)


@pytest.mark.parametrize("since", ["nonsense", "1." + "e" * 200, "99999999999999999999.e", "-1.e"])
async def test_a_hostile_since_is_refused_with_1008(two_processes: tuple[str, str], since: str) -> None:
    first, _ = two_processes
    async with connect(f"{first}/feed/news?since={since}", open_timeout=LIMIT) as client:
        with anyio.fail_after(LIMIT), pytest.raises(ConnectionClosed) as closed:
            await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
