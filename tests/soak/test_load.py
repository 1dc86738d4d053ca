"""Many connections at once, many connections one after another, and many that drop mid-message.

On every server set-up: every echo arrives, in order; connections leave no handler, no
connection object and no memory behind; a client that vanishes mid-message ends its handler
with ConnectionClosed and disturbs nobody else.
"""

from __future__ import annotations

import asyncio
import random
from functools import partial

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import WebSocketException

from ..support.soak_figures import record
from ..support.soak_peers import bounded_gather, drop, frame, opening, outcomes, settled, stats
from ..support.ws_client import LIMIT
from ..test_servers import QUIRKS, has

__all__ = ["QUIRKS"]  # the compatibility table reads each test module's QUIRKS (tests/support/compat.py)

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.soak]

CONNECTIONS = 1_000
MESSAGES = 100
CYCLES = 10_000
DROPPED = 200
BYSTANDERS = 50
WINDOW = 10
"""Messages a connection has in flight at most: the servers see 10,000 at once, not 100,000."""
OPENING_AT_ONCE = 50
"""Handshakes in flight at a time (servers' listen backlogs are as small as 100)."""
CYCLES_AT_ONCE = 16
RSS_GROWTH_LIMIT = 2**20
RSS_NOISY = "its RSS moves by a few MiB from one idle moment to the next"
"""daphne's quirk: idle after every 2,500 of 20,000 cycles it held 70.5, 78.0, 75.3, 74.4, 74.7, 76.2,
74.1 and 72.0 MiB, with no handler or connection object left and no trend (7.5 MiB from lowest to
highest; a CI run once read 84.3, 83.7, then 92.5 MiB). One 1 MiB comparison there is a coin toss,
so it gets 12 MiB; a leak in the wrapper would still show in the object count and on the six other
servers."""
RSS_NOISY_LIMIT = 12 * 2**20


def messages_for(seed: int, route: str) -> list[str | bytes]:
    """Text and binary messages mixed (objects for /json), each naming its connection and place."""
    rng = random.Random(seed)
    if route == "/json":
        return [orjson.dumps({"c": seed, "i": i, "pad": "é" * rng.randrange(100)}).decode() for i in range(MESSAGES)]
    return [
        f"{seed}:{i}:" + "é" * rng.randrange(100)
        if rng.random() < 0.5
        else seed.to_bytes(4, "big") + i.to_bytes(4, "big") + rng.randbytes(rng.randrange(200))
        for i in range(MESSAGES)
    ]


async def exchange(client: ClientConnection, messages: list[str | bytes]) -> tuple[int, int]:
    """Send ``messages``, WINDOW at most awaiting their echo, while reading the echoes; return (lost, misordered).

    A message counts as lost when its echo has not come LIMIT seconds after the one before.
    """
    window = asyncio.Semaphore(WINDOW)

    async def write() -> None:
        for message in messages:
            await window.acquire()
            await client.send(message)

    writer = asyncio.create_task(write())
    echoed: list[str | bytes] = []
    try:
        while len(echoed) < len(messages):
            echoed.append(await asyncio.wait_for(client.recv(), LIMIT))
            window.release()
    except (asyncio.TimeoutError, OSError, WebSocketException):
        pass  # counted below as lost
    finally:
        writer.cancel()
    lost = len(messages) - len(echoed)
    misordered = sum(1 for got, sent in zip(echoed, messages, strict=False) if got != sent)
    return lost, misordered


@pytest.mark.parametrize("route", ["/echo", "/json"])
async def test_a_thousand_connections_at_once_lose_and_reorder_nothing(soak: tuple[str, str], route: str) -> None:
    name, base = soak
    tag = f"load{route.replace('/', '-')}"
    before = await stats(base)
    clients: list[ClientConnection] = await asyncio.wait_for(
        bounded_gather(
            OPENING_AT_ONCE, [lambda: opening(f"{base}{route}?tag={tag}", max_queue=None) for _ in range(CONNECTIONS)]
        ),
        120,
    )
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(exchange(client, messages_for(seed, route)) for seed, client in enumerate(clients))), 300
        )
    finally:
        await asyncio.wait_for(bounded_gather(200, [client.close for client in clients]), 120)
    after = await settled(base, tag, CONNECTIONS)
    lost = sum(lost for lost, _ in results)
    misordered = sum(misordered for _, misordered in results)
    record(
        name,
        f"load{route.replace('/', '-')}",
        connections=CONNECTIONS,
        messages=CONNECTIONS * MESSAGES,
        lost=lost,
        misordered=misordered,
    )
    assert (lost, misordered) == (0, 0)
    assert outcomes(after, tag) == {"ConnectionClosed": CONNECTIONS}
    assert after["running"] == before["running"] == 0


async def test_ten_thousand_connections_one_after_another_leave_nothing_behind(soak: tuple[str, str]) -> None:
    """Connect, echo, close, CYCLES times (CYCLES_AT_ONCE at a time); sample the app's memory as it goes."""
    name, base = soak
    rss: list[int] = []

    async def cycle(number: int) -> None:
        route = ("/echo", "/json", "/echo")[number % 3]  # text, JSON text, binary
        message = (f"{number}", orjson.dumps({"n": number}).decode(), number.to_bytes(4, "big"))[number % 3]
        async with opening(f"{base}{route}?tag=cycle") as client:
            await client.send(message)
            assert await asyncio.wait_for(client.recv(), LIMIT) == message

    for half in range(2):
        await settled(base, "cycle", half * CYCLES // 2)
        rss.append(await _idle_rss(base))
        numbers = range(half * CYCLES // 2, (half + 1) * CYCLES // 2)
        await asyncio.wait_for(bounded_gather(CYCLES_AT_ONCE, [partial(cycle, number) for number in numbers]), 300)
    after = await settled(base, "cycle", CYCLES)
    rss.append(await _idle_rss(base))
    growth = rss[2] - rss[1]
    running, alive = after["running"], after["alive"]
    assert isinstance(running, int) and isinstance(alive, int)
    record(
        name,
        "cycles",
        cycles=CYCLES,
        rss_start=rss[0],
        rss_half=rss[1],
        rss_end=rss[2],
        growth=growth,
        running=running,
        alive=alive,
    )
    assert outcomes(after, "cycle") == {"ConnectionClosed": CYCLES}
    assert (after["running"], after["alive"]) == (0, 0)
    limit = RSS_NOISY_LIMIT if has(name, RSS_NOISY) else RSS_GROWTH_LIMIT
    assert growth <= limit, f"{name}: RSS {rss} grew by {growth} bytes over the second half"


async def _idle_rss(base: str, samples: int = 3) -> int:
    """The server's RSS once every handler so far has ended: the least of a few samples, so that
    what the server is still tearing down (closed transports, timers) is not counted as kept."""
    values: list[int] = []
    for sample in range(samples):
        if sample:
            await asyncio.sleep(0.3)
        value = (await stats(base))["rss"]
        assert isinstance(value, int)
        values.append(value)
    return min(values)


@pytest.mark.parametrize("route", ["/echo", "/json"])
async def test_clients_dropping_mid_message_end_their_handlers_and_disturb_nobody(
    soak: tuple[str, str], route: str
) -> None:
    """DROPPED clients send the start of a message and reset the TCP connection (no close frame).

    Meanwhile BYSTANDERS connections echo MESSAGES messages each, and must get every one.
    """
    name, base = soak
    tag = f"drop{route.replace('/', '-')}"
    start = b'{"text": "' + b"x" * 90 if route == "/json" else b"y" * 100

    async def dropper() -> None:
        client = await opening(f"{base}{route}?tag={tag}")
        assert client.transport is not None
        client.transport.write(frame(start, length=1_000))  # says 1,000 bytes, sends 100
        await asyncio.sleep(0.05)
        drop(client)

    async def bystander(seed: int) -> tuple[int, int]:
        async with opening(f"{base}{route}?tag={tag}-bystander", max_queue=None) as client:
            return await exchange(client, messages_for(seed, route))

    bystanders = [asyncio.create_task(bystander(seed)) for seed in range(BYSTANDERS)]
    await asyncio.wait_for(bounded_gather(OPENING_AT_ONCE, [dropper] * DROPPED), 120)
    results = await asyncio.wait_for(asyncio.gather(*bystanders), 120)
    after = await settled(base, tag, DROPPED)
    ended = outcomes(after, tag)
    record(
        name,
        tag,
        dropped=DROPPED,
        ended=ended.get("ConnectionClosed", 0),
        bystanders=BYSTANDERS,
        lost=sum(lost for lost, _ in results),
        misordered=sum(misordered for _, misordered in results),
    )
    assert ended == {"ConnectionClosed": DROPPED}, f"{name}: handlers of dropped clients ended {ended}"
    assert results == [(0, 0)] * BYSTANDERS
    after = await settled(base, f"{tag}-bystander", BYSTANDERS)
    assert outcomes(after, f"{tag}-bystander") == {"ConnectionClosed": BYSTANDERS}
    assert after["running"] == 0
