"""Send turns: SendTurns on its own, then every cancellation path through a connection.

In each case no other waiting sender is left wedged and the connection ends in a defined state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from anyio.abc import TaskGroup

from simple_websocket import Close, ConnectionClosed, ConnectionState
from simple_websocket._send_turns import SendTurns

from .support import memory
from .support.memory import LIMIT, Pair, opened

Send = Callable[[str], Awaitable[None]]

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["transport", "asgi", "asgi-metered"], autouse=True)
def message_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test over the general Transport path over the ASGI per-message path, and over it with metrics on."""
    monkeypatch.setattr(memory, "MESSAGE_PATH", request.param)


async def _hold_then_release(turns: SendTurns, log: list[str], name: str) -> None:
    await turns._turn_wait()
    try:
        log.append(name)
    finally:
        turns._turn_release()


async def test_a_free_turn_is_taken_at_once_and_release_frees_it() -> None:
    turns = SendTurns()
    with anyio.fail_after(LIMIT):
        await turns._turn_wait()
    assert turns._turn_busy
    turns._turn_release()
    assert not turns._turn_busy


async def test_waiters_get_the_turn_in_the_order_they_came() -> None:
    turns = SendTurns()
    log: list[str] = []
    with anyio.fail_after(LIMIT):
        await turns._turn_wait()
        async with anyio.create_task_group() as group:
            for name in "abc":
                group.start_soon(_hold_then_release, turns, log, name)
                await anyio.wait_all_tasks_blocked()
            turns._turn_release()
    assert log == ["a", "b", "c"]
    assert not turns._turn_busy


@pytest.mark.parametrize("handed_the_turn", [False, True], ids=["before its turn", "once handed the turn"])
async def test_a_cancelled_waiter_never_wedges_the_next_one(handed_the_turn: bool) -> None:
    turns = SendTurns()
    log: list[str] = []
    with anyio.fail_after(LIMIT):
        await turns._turn_wait()
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()
            group.start_soon(_cancelled_waiter, turns, scope)
            await anyio.wait_all_tasks_blocked()
            group.start_soon(_hold_then_release, turns, log, "next")
            await anyio.wait_all_tasks_blocked()
            if handed_the_turn:
                turns._turn_release()  # hands the turn to the first waiter ...
                scope.cancel()  # ... which is cancelled before it runs
            else:
                scope.cancel()
                await anyio.wait_all_tasks_blocked()
                turns._turn_release()
    assert log == ["next"]
    assert not turns._turn_busy


def _parking(turns: SendTurns) -> tuple[bool, object, object]:
    return turns._turn_busy, turns._tx, turns._retx


async def test_a_parked_turn_is_taken_and_given_back_with_one_store() -> None:
    turns: SendTurns = SendTurns()
    turns._turn_park("token")
    assert _parking(turns) == (True, "token", "token")
    turns._tx = None  # taken, as a connection's per-message path does
    assert turns._retx == "token"  # nobody queued: the taker parks it again itself
    turns._tx = "token"
    with anyio.fail_after(LIMIT):
        await turns._turn_wait()  # wait() takes a parked turn at once
    assert _parking(turns)[:2] == (True, None)
    turns._turn_release()  # nobody waits: parked again
    assert _parking(turns) == (True, "token", "token")


async def test_a_sender_queued_behind_a_taken_parked_turn_gets_it_through_release() -> None:
    turns: SendTurns = SendTurns()
    turns._turn_park("token")
    turns._tx = None
    log: list[str] = []
    with anyio.fail_after(LIMIT):
        async with anyio.create_task_group() as group:
            group.start_soon(_hold_then_release, turns, log, "queued")
            await anyio.wait_all_tasks_blocked()
            assert turns._retx is None  # so the taker must call release() ...
            turns._turn_release()  # ... which hands the turn on
    assert log == ["queued"]
    assert _parking(turns) == (True, "token", "token")  # parked again after the queue


async def test_stop_parking_frees_a_parked_turn_and_parks_no_more() -> None:
    turns: SendTurns = SendTurns()
    turns._turn_park("token")
    turns._turn_stop_parking()
    assert _parking(turns) == (False, None, None)
    with anyio.fail_after(LIMIT):
        await turns._turn_wait()
    turns._turn_release()
    assert _parking(turns)[:2] == (False, None)


async def test_stop_parking_while_a_parked_turn_is_taken_makes_its_taker_release() -> None:
    turns: SendTurns = SendTurns()
    turns._turn_park("token")
    turns._tx = None
    turns._turn_stop_parking()
    assert turns._retx is None
    turns._turn_release()
    assert _parking(turns)[:2] == (False, None)


async def _cancelled_waiter(turns: SendTurns, scope: anyio.CancelScope) -> None:
    with scope:
        await turns._turn_wait()
        try:
            await anyio.sleep(LIMIT)
        finally:
            turns._turn_release()


async def _start_in_flight(pair: Pair, group: TaskGroup, data: str, scope: anyio.CancelScope) -> None:
    """Fill the client's one-message buffer, then start a send of ``data`` that blocks in flight."""
    await pair.ws.send("buffered")
    group.start_soon(_send_within, pair.ws.send, data, scope)
    await anyio.wait_all_tasks_blocked()


async def test_a_sender_cancelled_mid_send_lets_the_next_one_send() -> None:
    async with opened(max_buffer=1) as pair:
        async with anyio.create_task_group() as group:
            in_flight = anyio.CancelScope()
            await _start_in_flight(pair, group, "cancelled in flight", in_flight)
            group.start_soon(pair.ws.send, "next")
            await anyio.wait_all_tasks_blocked()
            in_flight.cancel()
            received = [await pair.client.receive() for _ in range(2)]
            if received[1] == "cancelled in flight":  # trio's stream may deliver a send as it is cancelled
                received.append(await pair.client.receive())
            assert received in (["buffered", "next"], ["buffered", "cancelled in flight", "next"])
        assert pair.ws.state is ConnectionState.OPEN
        await pair.ws.send("still open")
        assert await pair.client.receive() == "still open"


async def _send_within(send: Send, data: str, scope: anyio.CancelScope) -> None:
    with scope:
        await send(data)


async def test_a_sender_cancelled_as_it_is_handed_the_turn_does_not_wedge_the_next() -> None:
    async with opened(max_buffer=1) as pair:
        async with anyio.create_task_group() as group:
            await _start_in_flight(pair, group, "in flight", anyio.CancelScope())
            waiting = anyio.CancelScope()
            group.start_soon(_send_within, pair.ws.send, "cancelled", waiting)
            await anyio.wait_all_tasks_blocked()
            group.start_soon(pair.ws.send, "third")
            await anyio.wait_all_tasks_blocked()
            assert pair.client.receive_nowait() == "buffered"  # lets "in flight" finish and hand the turn on
            waiting.cancel()
            assert [await pair.client.receive() for _ in range(2)] == ["in flight", "third"]
        assert pair.ws.state is ConnectionState.OPEN


async def test_close_cancelled_while_waiting_for_the_turn_leaves_a_closed_connection() -> None:
    async with opened(max_buffer=1) as pair:
        async with anyio.create_task_group() as group:
            await _start_in_flight(pair, group, "in flight", anyio.CancelScope())
            closing = anyio.CancelScope()
            group.start_soon(_close_within, pair.ws.close, closing)
            await anyio.wait_all_tasks_blocked()
            late = anyio.Event()
            group.start_soon(_send_expecting_closed, pair.ws.send, late)
            await anyio.wait_all_tasks_blocked()
            closing.cancel()
            assert [await pair.client.receive() for _ in range(2)] == ["buffered", "in flight"]
            await late.wait()
        assert pair.ws.state is ConnectionState.CLOSED
        assert pair.ws.close_info is not None and not pair.ws.close_info.by_peer
        with pytest.raises(ConnectionClosed):
            await pair.ws.send("after the close")
        await pair.ws.close()  # closing again does nothing


async def test_close_waits_its_turn_and_sends_the_close_after_the_message_in_flight() -> None:
    async with opened(max_buffer=1) as pair:
        async with anyio.create_task_group() as group:
            await _start_in_flight(pair, group, "in flight", anyio.CancelScope())
            group.start_soon(pair.ws.close, 1001, "bye")
            await anyio.wait_all_tasks_blocked()
            received = [await pair.client.receive() for _ in range(3)]
        assert received == ["buffered", "in flight", Close(1001, "bye")]


async def _close_within(close: Callable[[], Awaitable[None]], scope: anyio.CancelScope) -> None:
    with scope:
        await close()


async def _send_expecting_closed(send: Send, done: anyio.Event) -> None:
    try:
        with pytest.raises(ConnectionClosed):
            await send("queued behind the close")
    finally:
        done.set()
