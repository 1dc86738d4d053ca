"""The same scenarios on every ASGI server, each a real process, with the websockets client.

Where a server cannot do something, ``QUIRKS`` names it and the test asserts what that server
does instead, so a server that changes its behaviour fails here rather than going unnoticed.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.typing import Origin

from .support import e2e_app
from .support.servers import SERVERS, output_of, running
from .support.ws_client import LIMIT, closed_by_app, opening, recv

pytestmark = [pytest.mark.anyio, pytest.mark.server]

QUIRKS: dict[str, set[str]] = {
    "daphne": {
        "accepts sends to a gone client silently",
        "drops accept headers",
        "drops empty outgoing messages",
        "drops the app's close reason",
        "drops the client's close reason",
        "no denial response",
        "sends close codes 1000 and 3000-4999 only",
        "buffers without limit what a client does not read: send never blocks",  # tests/soak/test_hostile.py
        "its RSS moves by a few MiB from one idle moment to the next",  # tests/soak/test_load.py
    },
    "granian": {
        "accepts sends to a gone client silently",
        "drops accept headers",
        "drops the client's close reason",
    },
    "hypercorn-asyncio": {"accepts sends to a gone client silently", "reports a client's close as 1006"},
    "hypercorn-trio": {
        "accepts sends to a gone client silently",
        "its worker may die when a client's close crosses the app's close",
        "reports a client's close as 1006",
        "a send blocked on a client that does not read cannot be cancelled",  # tests/soak/test_hostile.py
    },
}
"""What each server is known not to do; a server missing here does everything."""

_ids = itertools.count()


def has(server: str, quirk: str) -> bool:
    return quirk in QUIRKS.get(server, set())


SERVER_PARAMS = [pytest.param(name, marks=pytest.mark.compat("server", name)) for name in SERVERS]


@pytest.fixture(scope="module", params=SERVER_PARAMS)
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with running(request.param, "tests.support.e2e_app:app") as base:
        yield request.param, base


async def read_report(base: str, key: str) -> str:
    async with opening(f"{base}/report?id={key}") as client:
        report = await recv(client)
        assert await closed_by_app(client) == (1000, "")  # see test_a_client_close_crossing_the_apps_close
    assert isinstance(report, str)
    return report


async def test_text_and_binary_echo_keeps_kinds_and_empty_messages(server: tuple[str, str]) -> None:
    name, base = server
    sent: list[str | bytes] = ["hello", "", "ünïcødé ✓", b"\x00\x01\xff", b"", "x" * 1000]
    async with opening(base + "/echo") as client:
        for data in sent:
            await client.send(data)
        await client.send("end")
        expected = [d for d in [*sent, "end"] if d or not has(name, "drops empty outgoing messages")]
        echoed = [await recv(client) for _ in expected]
    assert echoed == expected, f"{name} quirks: {QUIRKS.get(name)}"
    assert [type(d) for d in echoed] == [type(d) for d in expected]


async def test_subprotocol_is_the_first_offered_that_the_app_speaks(server: tuple[str, str]) -> None:
    _, base = server
    for offered, agreed in ((("a",), "a"), (("c", "a", "b"), "a"), (("c",), None), ((), None)):
        async with opening(base + "/echo", *offered) as client:
            assert client.subprotocol == agreed, offered


async def test_accept_headers_reach_the_client_where_the_server_sends_them(server: tuple[str, str]) -> None:
    name, base = server
    async with opening(base + "/echo") as client:
        assert client.response is not None
        header = client.response.headers.get("x-app")
    if has(name, "drops accept headers"):
        assert header is None, f"{name} now sends accept headers: drop the quirk"
    else:
        assert header == "simple_websocket"


async def test_app_close_reaches_the_client_with_code_and_reason(server: tuple[str, str]) -> None:
    name, base = server
    async with opening(base + "/close") as client:
        code, reason = await closed_by_app(client)
    assert code == 4001
    assert reason == ("" if has(name, "drops the app's close reason") else "bye")


async def test_client_close_reaches_the_app_with_code_and_reason(server: tuple[str, str]) -> None:
    name, base = server
    key = f"close-{next(_ids)}"
    async with opening(base + f"/watch?id={key}") as client:
        await client.send("x")
        assert await recv(client) == "x"
        await client.close(4002, "cya")
    if has(name, "reports a client's close as 1006"):
        seen = "ConnectionClosed 1006 '' by_peer=True"
    elif has(name, "drops the client's close reason"):
        seen = "ConnectionClosed 4002 '' by_peer=True"
    else:
        seen = "ConnectionClosed 4002 'cya' by_peer=True"
    assert await read_report(base, key) == f"{seen}; again: {seen}"


async def test_an_abrupt_drop_is_a_1006_and_receiving_again_does_not_hang(server: tuple[str, str]) -> None:
    _, base = server
    key = f"drop-{next(_ids)}"
    client = await opening(base + f"/watch?id={key}")
    await client.send("x")
    assert await recv(client) == "x"
    assert client.transport is not None
    client.transport.abort()  # no close frame: the TCP connection just ends
    report = await read_report(base, key)
    seen, again = report.split("; again: ")
    assert seen.startswith("ConnectionClosed 100") and seen.split()[1] in ("1005", "1006"), report
    assert again == seen


async def test_sending_after_the_client_left_raises_connection_closed(server: tuple[str, str]) -> None:
    name, base = server
    key = f"late-{next(_ids)}"
    async with opening(base + f"/send-after-leaving?id={key}") as client:
        await client.send("go")
        assert await recv(client) == "tick"
    # Where the server swallows sends to a gone client, the next receive raises ConnectionClosed.
    expected = "receive" if has(name, "accepts sends to a gone client silently") else "send"
    assert await read_report(base, key) == expected


async def test_rejection_is_a_denial_response_or_403(server: tuple[str, str]) -> None:
    name, base = server
    with pytest.raises(InvalidStatus) as caught:
        async with opening(base + "/deny"):
            pass
    response = caught.value.response
    if has(name, "no denial response"):
        assert response.status_code == 403
    else:
        assert (response.status_code, response.headers.get("x-why"), response.body) == (401, "no token", b"no token")


async def test_a_message_over_max_message_size_closes_with_1009(server: tuple[str, str]) -> None:
    name, base = server
    async with opening(base + "/too-big") as client:
        await client.send(b"x" * e2e_app.MAX_MESSAGE_SIZE)
        assert await recv(client) == b"x" * e2e_app.MAX_MESSAGE_SIZE
        await client.send(b"x" * (e2e_app.MAX_MESSAGE_SIZE + 1))
        code, _ = await closed_by_app(client)
    assert code == (1000 if has(name, "sends close codes 1000 and 3000-4999 only") else 1009)


async def test_receive_timeout_returns_none_and_the_connection_stays_usable(server: tuple[str, str]) -> None:
    _, base = server
    async with opening(base + "/timeout") as client:
        assert await recv(client) == "none"
        await client.send("still here")
        assert await recv(client) == "still here"
        assert await closed_by_app(client) == (1000, "")


async def test_concurrent_senders_never_interleave(server: tuple[str, str]) -> None:
    _, base = server
    async with opening(base + "/concurrent") as client:
        got = [await recv(client) for _ in range(e2e_app.SENDERS * e2e_app.PER_SENDER)]
        await client.send("done")
        assert await closed_by_app(client) == (1000, "")
    per_sender: dict[str, list[int]] = {}
    for message in got:
        assert isinstance(message, str)
        number, index, padding = message.split(":")
        assert padding == "x" * (int(index) % 50)
        per_sender.setdefault(number, []).append(int(index))
    assert per_sender == {str(n): list(range(e2e_app.PER_SENDER)) for n in range(e2e_app.SENDERS)}


async def test_many_connections_lose_and_reorder_nothing(server: tuple[str, str]) -> None:
    name, base = server
    connections, per_connection = 25, 120

    async def one(seed: int) -> None:
        rng = random.Random(seed)
        messages: list[str | bytes] = [
            rng.randbytes(rng.randrange(1, 3000)) if rng.random() < 0.5 else f"{seed}:{i}:" + "é" * rng.randrange(200)
            for i in range(per_connection)
        ]
        async with opening(base + "/echo") as client:

            async def write() -> None:
                for message in messages:
                    await client.send(message)

            writer = asyncio.create_task(write())
            echoed = [await recv(client) for _ in messages]
            await writer
        assert echoed == messages, f"connection {seed} on {name}"

    await asyncio.wait_for(asyncio.gather(*(one(seed) for seed in range(connections))), 60)


async def handler_ran(base: str, key: str) -> bool:
    async with opening(f"{base}/ran?id={key}") as client:
        answer = await recv(client)
    return answer == "ran"


@pytest.mark.parametrize("path", ["/origin", "/same-origin"])
async def test_a_foreign_origin_is_refused_before_the_handler_runs(server: tuple[str, str], path: str) -> None:
    name, base = server
    key = f"foreign-{next(_ids)}"
    with pytest.raises(InvalidStatus) as caught:
        async with connect(f"{base}{path}?id={key}", origin=Origin("http://evil.example"), open_timeout=LIMIT):
            pass
    response = caught.value.response
    assert response.status_code == 403
    if not has(name, "no denial response"):
        assert response.body == b"Origin not allowed\n"
    assert not await handler_ran(base, key)


@pytest.mark.parametrize(
    ("path", "origin"),
    [("/origin", e2e_app.LISTED_ORIGIN), ("/origin", None), ("/same-origin", "page's own"), ("/same-origin", None)],
)
async def test_a_listed_or_own_origin_and_a_client_without_origin_are_accepted(
    server: tuple[str, str], path: str, origin: str | None
) -> None:
    _, base = server
    key = f"allowed-{next(_ids)}"
    sent = base.replace("ws://", "http://") if origin == "page's own" else origin
    async with connect(
        f"{base}{path}?id={key}", origin=None if sent is None else Origin(sent), open_timeout=LIMIT
    ) as client:
        await client.send("hi")
        assert await recv(client) == "hi"
    assert await handler_ran(base, key)


CROSSINGS = 200


@pytest.mark.parametrize("name", SERVER_PARAMS)
async def test_a_client_close_crossing_the_apps_close(name: str) -> None:
    """The client says "bye" and closes at once; the app returns on "bye", so websocket_app closes too.

    hypercorn's trio worker may send the answer to the client's close while it shuts the socket
    down for the app's ending; trio then raises BusyResourceError and the whole server process
    exits (a raw ASGI app does the same). It is a race: some runs see it within a few crossings,
    some never. So a crossing may fail only there, and only with that error in the server's log.
    The other scenarios wait for the app's close before closing, so that one server process
    serves them all; this one runs its own.
    """
    crossed = 0
    with running(name, "tests.support.e2e_app:app") as base:
        try:
            for _ in range(CROSSINGS):
                async with opening(base + "/bye") as client:
                    await client.send("bye")
                crossed += 1
        except (OSError, WebSocketException, asyncio.TimeoutError):
            pass  # checked below
        log = output_of(base)
    if crossed < CROSSINGS and has(name, "its worker may die when a client's close crosses the app's close"):
        assert "BusyResourceError" in log, log[-2000:]
    else:
        assert crossed == CROSSINGS, log[-2000:]
