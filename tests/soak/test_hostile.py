"""Broken and hostile peers through every server set-up: each test also checks that others are served.

Where a server behaves differently, ``QUIRKS`` (tests/test_servers.py) names it and the test
asserts what that server does instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from functools import partial

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ..support import soak_app as app
from ..support.soak_figures import record
from ..support.soak_peers import (
    RawPeer,
    bounded_gather,
    drop,
    frame,
    notes,
    opening,
    outcomes,
    settled,
    slow_reader,
    stats,
)
from ..support.ws_client import LIMIT
from ..test_servers import QUIRKS, has
from .test_load import exchange, messages_for

__all__ = ["QUIRKS"]  # the compatibility table reads each test module's QUIRKS (tests/support/compat.py)

pytestmark = [pytest.mark.anyio, pytest.mark.server, pytest.mark.soak]

SILENT = 100
HALF_HANDSHAKES = 100
BYSTANDERS = 20
FLOODERS = 100
FLOOD = 5
# Known limits of some servers (tests/test_servers.py QUIRKS), asserted here:
UNBOUNDED_SEND = "buffers without limit what a client does not read: send never blocks"
SHIELDED_SEND = "a send blocked on a client that does not read cannot be cancelled"
LOSES_CANCELLED_RECEIVE = "loses the message a cancelled receive was taking: receive(timeout=...) can lose messages"


async def bystanders(base: str, tag: str, count: int = BYSTANDERS) -> list[tuple[int, int]]:
    """``count`` connections echoing a hundred messages each: (lost, misordered) for each."""

    async def one(seed: int) -> tuple[int, int]:
        async with opening(f"{base}/echo?tag={tag}", max_queue=None) as client:
            return await exchange(client, messages_for(seed, "/echo"))

    return await asyncio.wait_for(asyncio.gather(*(one(seed) for seed in range(count))), 120)


async def test_connections_that_never_finish_the_handshake_hold_up_nobody(soak: tuple[str, str]) -> None:
    """Silent TCP connections and handshakes cut off half way never reach the app; others are served.

    An ASGI server calls the app only once the HTTP handshake is complete, so ``accept(timeout=...)``
    never sees these: ending them is the server's job. The test records which servers did.
    """
    name, base = soak
    silent = await bounded_gather(50, [partial(RawPeer.connect, base)] * SILENT)
    half = await bounded_gather(50, [partial(RawPeer.connect, base)] * HALF_HANDSHAKES)
    host_port = base.removeprefix("ws://")
    try:
        for peer in half:
            await peer.send(f"GET /echo?tag=half HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n".encode())
        results = await bystanders(base, "beside-half")
        report = await settled(base, "beside-half", BYSTANDERS)
        answered = sum(peer.answered() for peer in [*silent, *half])
    finally:
        for peer in [*silent, *half]:
            peer.close()
    record(name, "half-handshakes", silent=SILENT, half=HALF_HANDSHAKES, answered_or_ended=answered)
    assert results == [(0, 0)] * BYSTANDERS
    assert "half" not in report["outcomes"]  # type: ignore[operator]  # a dict from the app
    assert report["running"] == 0


@pytest.mark.parametrize("fill", [False, True], ids=["idle", "buffers full"])
async def test_closing_a_client_that_never_answers_takes_at_most_close_timeout(
    soak: tuple[str, str], fill: bool
) -> None:
    """The handler returns; websocket_app closes; the client neither answers nor (with fill) reads."""
    name, base = soak
    count = 3 if fill else 20
    tag = f"unanswered-{'fill' if fill else 'idle'}"
    peers = await bounded_gather(50, [partial(RawPeer.connect, base, small_buffer=True)] * count)
    stuck = fill and has(name, SHIELDED_SEND)
    try:
        for peer in peers:
            head = await peer.handshake(base, f"/close-unanswered?tag={tag}{'&fill=1' if fill else ''}")
            assert head.startswith(b"HTTP/1.1 101"), head
        for peer in peers:
            await peer.send(frame(b"go"))
        within = app.UNREAD_STALL + app.CLOSE_TIMEOUT + (2 if stuck else LIMIT)
        report = await settled(base, tag, count, within=within, noted=count)
        results = await bystanders(base, f"{tag}-bystander", 5)
    finally:
        for peer in peers:
            peer.close(abort=True)
    assert results == [(0, 0)] * 5
    if stuck:  # the handlers' sends could not be cancelled: they end when the clients go
        assert outcomes(report, tag) == {}, f"{name} now cancels a blocked send: drop the quirk"
        after = await settled(base, tag, count)
        assert sum(outcomes(after, tag).values()) == count and after["running"] == 0
        record(name, tag, clients=count, slowest="blocked until the client left")
        return
    durations = notes(report, tag)
    record(name, tag, clients=count, slowest=max(durations, default=-1.0))
    assert outcomes(report, tag) == {"returned": count}
    assert len(durations) == count
    assert max(durations) <= app.CLOSE_TIMEOUT + 1.0, f"{name}: closing took {max(durations):.2f} s"


async def test_floods_of_messages_over_max_message_size_are_closed_with_1009(soak: tuple[str, str]) -> None:
    """FLOODERS clients at once send frames over the limit while others echo.

    Half send one frame and wait: each gets the close frame with 1009. The other half send FLOOD
    frames back to back: a server that closes the TCP connection while such frames are still
    arriving resets it, and the client may never see the close frame (TCP discards it), so
    there only the end of the connection is required.
    """
    name, base = soak
    too_big = b"x" * (app.MAX_MESSAGE_SIZE * 4)

    async def flooder(frames: int) -> int | None:
        async with opening(f"{base}/limited?tag=flood") as client:
            try:
                for _ in range(frames):
                    await client.send(too_big)
            except ConnectionClosed:
                pass
            await asyncio.wait_for(client.wait_closed(), LIMIT)
            close = client.protocol.close_rcvd
            return None if close is None else close.code

    single = [partial(flooder, 1)] * (FLOODERS // 2)
    bursts = [partial(flooder, FLOOD)] * (FLOODERS // 2)
    alternating = [job for pair in zip(single, bursts, strict=True) for job in pair]
    flooding = asyncio.create_task(bounded_gather(50, alternating))
    results = await bystanders(base, "beside-flood")
    codes = await asyncio.wait_for(flooding, 120)
    report = await settled(base, "flood", FLOODERS)
    expected = 1000 if has(name, "sends close codes 1000 and 3000-4999 only") else 1009
    record(
        name, "flood", flooders=FLOODERS, closed_with=f"{codes.count(expected)} x {expected}", reset=codes.count(None)
    )
    assert codes[0::2] == [expected] * (FLOODERS // 2)
    assert set(codes[1::2]) <= {expected, None}
    assert outcomes(report, "flood") == {"MessageTooBig": FLOODERS}
    assert results == [(0, 0)] * BYSTANDERS


async def test_a_sender_cancelled_on_a_slow_client_wedges_no_other_sender(soak: tuple[str, str]) -> None:
    """``move_on_after`` ends one sender while others wait for their turn (see app.cancel_send).

    The client reads nothing for a while, so sends block (except where the server buffers
    without limit), then reads everything: no message cut, lost or reordered, the cancelled
    one whole or absent, and every sender that waited got through.
    """
    name, base = soak
    client = await slow_reader(f"{base}/cancel-send?tag=cancel-send", max_size=None)
    try:
        await asyncio.sleep(app.CANCEL_AFTER + 0.5)
        received: list[str] = []
        while not received or not received[-1].startswith("end "):
            message = await asyncio.wait_for(client.recv(), LIMIT)
            assert isinstance(message, str)
            received.append(message)
        await client.send("done")
        await asyncio.wait_for(client.wait_closed(), LIMIT)
    finally:
        drop(client)
    _, state, sent, cancelled = received.pop().split()
    senders: dict[str, list[int]] = {}
    for message in received:
        sender, index, padding = message.split(":")
        assert len(padding) == app.PADDING, f"{sender}:{index} was cut"
        senders.setdefault(sender, []).append(int(index))
    victim = senders.pop("V", [])
    assert state == "open"
    assert victim == list(range(len(victim))) and len(victim) in (int(sent), int(sent) + 1)
    assert senders == {f"S{n}": list(range(app.FAIR_MESSAGES)) for n in range(app.FAIR_SENDERS)}
    if has(name, UNBOUNDED_SEND):
        assert (cancelled, int(sent)) == ("False", app.VICTIM_MESSAGES)
    else:
        assert cancelled == "True" and int(sent) < app.VICTIM_MESSAGES
    record(name, "cancel-send", victim_sent=int(sent), cancelled=cancelled)


async def test_receives_cancelled_by_a_timeout_lose_no_message(soak: tuple[str, str]) -> None:
    """The handler receives with a 1 ms timeout, so most receives are cancelled, some as a message comes.

    The client sends four messages at a time, waits (100 ms at most) for the echo of the last one,
    pauses 0-2 ms and goes on: the handler's queue runs dry between bursts on every server, so its
    receives time out, and messages arrive at every moment of a timeout.
    """
    name, base = soak
    messages = [message for seed in range(10) for message in messages_for(seed, "/echo")]
    places = {message: place for place, message in enumerate(messages)}
    echoed: list[str | bytes] = []
    arrived = asyncio.Event()

    async def read(client: ClientConnection) -> None:
        try:
            while len(echoed) < len(messages):  # until all came, or none came for a second
                echoed.append(await asyncio.wait_for(client.recv(), 1.0))
                arrived.set()
        except asyncio.TimeoutError:
            pass

    async def echo_of(message: str | bytes) -> None:
        while not echoed or places[echoed[-1]] < places[message]:
            arrived.clear()
            await arrived.wait()

    async with opening(f"{base}/receive-timeouts?tag=receive-timeouts", max_queue=None) as client:
        reader = asyncio.create_task(read(client))
        for start in range(0, len(messages), 4):
            for message in messages[start : start + 4]:
                await client.send(message)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(echo_of(messages[min(start + 4, len(messages)) - 1]), 0.1)
            await asyncio.sleep(0.001 * (start % 3))
        await asyncio.wait_for(reader, LIMIT)
    report = await settled(base, "receive-timeouts", 1, noted=1)
    timeouts = notes(report, "receive-timeouts")
    order = [places[message] for message in echoed]
    lost = len(messages) - len(echoed)
    misordered = sum(1 for before, after in itertools.pairwise(order) if after <= before)
    record(
        name, "receive-timeouts", messages=len(messages), lost=lost, misordered=misordered, timeouts=int(sum(timeouts))
    )
    assert timeouts and timeouts[0] > 0
    assert misordered == 0
    if has(name, LOSES_CANCELLED_RECEIVE):
        assert lost > 0, f"{name} no longer loses messages to cancelled receives: drop the quirk"
    else:
        assert lost == 0


async def test_a_client_that_never_reads_blocks_sends_except_on_daphne(soak: tuple[str, str]) -> None:
    """How much a server accepts for a client that does not read before send() blocks (app.unread)."""
    name, base = soak
    before = await stats(base)
    client: ClientConnection = await slow_reader(f"{base}/unread?tag=unread")
    stuck = has(name, SHIELDED_SEND)
    try:
        await client.send("go")
        report = await settled(base, "unread", 1, within=app.UNREAD_STALL + (2 if stuck else 30), noted=1)
    finally:
        drop(client)
    if stuck:  # the send that blocked could not be cancelled: it ends when the client goes
        assert notes(report, "unread") == [], f"{name} now cancels a blocked send: drop the quirk"
        after = await settled(base, "unread", 1)
        assert after["running"] == 0
        record(name, "unread", sent="blocked until the client left")
        return
    (sent,) = notes(report, "unread")
    rss_before, rss_after = before["rss"], report["rss"]
    assert isinstance(rss_before, int) and isinstance(rss_after, int) and isinstance(sent, int)
    record(name, "unread", sent=sent, rss_growth=rss_after - rss_before)
    if has(name, UNBOUNDED_SEND):
        assert sent == app.UNREAD_LIMIT
    else:
        assert sent < app.UNREAD_LIMIT // 4, f"{name} accepted {sent} bytes for a client that does not read"
