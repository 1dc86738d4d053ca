"""A disconnect at every step of the lifecycle, and random ASGI message sequences.

The scripted server behaves like the strictest real ones: after it has delivered a
disconnect, another receive() blocks forever (hypercorn, daphne, uvicorn's wsproto), so a
wrapper that asks again hangs and fails the test's deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simple_websocket import ConnectionClosed, PeerError, WebSocketASGI

pytestmark = pytest.mark.anyio

CONNECT = {"type": "websocket.connect"}
DISCONNECT = {"type": "websocket.disconnect", "code": 1001}


class ScriptEnd(BaseException):
    """The scripted server has nothing more to say (a BaseException, so no wrapper catches it)."""


class StrictServer:
    """Replays inbound messages; fails the chosen send; records everything."""

    def __init__(self, inbound: Sequence[object], *, failing_send: str | None = None, silent: bool = False) -> None:
        self.inbound = list(inbound)
        self.failing_send = failing_send
        self.silent = silent
        self.sent: list[dict[str, object]] = []
        self.disconnected = False
        self.receives_after_disconnect = 0

    async def receive(self) -> Mapping[str, object]:
        if self.disconnected:
            self.receives_after_disconnect += 1
            await anyio.sleep_forever()
        if not self.inbound:
            raise ScriptEnd
        message = self.inbound.pop(0)
        if isinstance(message, Mapping) and message.get("type") == "websocket.disconnect":
            self.disconnected = True
        return message  # type: ignore[return-value]  # malformed items are the point of some tests

    async def send(self, message: dict[str, object]) -> None:
        if message["type"] == self.failing_send or (self.disconnected and not self.silent):
            raise OSError("client disconnected")
        self.sent.append(message)


async def echo_app(server: StrictServer) -> str:
    """Accept, echo until the connection ends, close; say how it ended."""
    try:
        ws = await WebSocketASGI.accept({"type": "websocket"}, server.receive, server.send)
        async for message in ws:
            await ws.send(message)
        await ws.close()
    except ConnectionClosed as closed:
        return f"closed {closed.reason}"
    return "done"


TEXT = {"type": "websocket.receive", "text": "x"}
# step: (what the server delivers, which send fails, how the app ends)
LIFECYCLE: dict[str, tuple[list[object], str | None, str]] = {
    "before connect": ([DISCONNECT], None, "closed 1001"),
    "during accept": ([CONNECT, DISCONNECT], "websocket.accept", "closed 1006"),
    "during receive": ([CONNECT, {"type": "websocket.disconnect", "code": 4000}], None, "closed 4000"),
    "during send": ([CONNECT, TEXT, DISCONNECT], "websocket.send", "closed 1006"),
    "during close": ([CONNECT, TEXT], "websocket.close", "script end"),
}


@pytest.mark.parametrize("step", LIFECYCLE)
@pytest.mark.parametrize("silent", [False, True], ids=["send-raises", "send-silent"])
async def test_a_disconnect_at_any_step_ends_cleanly(step: str, silent: bool) -> None:
    inbound, failing, expected = LIFECYCLE[step]
    server = StrictServer(inbound, failing_send=failing, silent=silent)
    with anyio.fail_after(2):
        try:
            outcome = await echo_app(server)
        except ScriptEnd:
            outcome = "script end"
    assert outcome == expected
    assert server.receives_after_disconnect == 0


async def test_close_swallows_a_failing_close_send() -> None:
    server = StrictServer([CONNECT], failing_send="websocket.close")
    ws = await WebSocketASGI.accept({"type": "websocket"}, server.receive, server.send)
    await ws.close(4000, "bye")
    assert ws.close_info is not None
    assert (ws.close_info.reason, ws.close_info.by_peer) == (4000, False)


async def test_a_blocked_receive_is_released_by_cancellation_without_losing_state() -> None:
    gate = anyio.Event()
    inbound: list[Mapping[str, object]] = [CONNECT, TEXT]

    async def slow_receive() -> Mapping[str, object]:
        if len(inbound) == 1:  # the peer is silent until the gate opens
            await gate.wait()
        return inbound.pop(0)

    server = StrictServer([])
    ws = await WebSocketASGI.accept({"type": "websocket"}, slow_receive, server.send)
    assert await ws.receive(timeout=0.05) is None
    gate.set()
    assert await ws.receive() == "x"


# -- random sequences --------------------------------------------------------------------

codes = st.one_of(st.none(), st.integers(-5, 70000), st.sampled_from(["1000", 1000.0, True]))
valid_messages = st.one_of(
    st.just(CONNECT),
    st.builds(lambda t: {"type": "websocket.receive", "text": t}, st.text(max_size=20)),
    st.builds(lambda b: {"type": "websocket.receive", "bytes": b}, st.binary(max_size=20)),
    st.builds(lambda b: {"type": "websocket.receive", "text": None, "bytes": b}, st.binary(max_size=20)),
    st.builds(lambda c, r: {"type": "websocket.disconnect", "code": c, "reason": r}, codes, st.none() | st.text()),
)
junk_values = st.one_of(st.none(), st.integers(), st.text(max_size=10), st.binary(max_size=10), st.lists(st.integers()))
malformed_messages = st.one_of(
    junk_values,
    st.dictionaries(st.sampled_from(["type", "text", "bytes", "code", "reason"]), junk_values),
    st.builds(
        lambda t, k, v: {"type": t, k: v},
        st.sampled_from(["websocket.receive", "websocket.disconnect", "websocket.connect", "http.request", "x"]),
        st.sampled_from(["text", "bytes", "code", "reason"]),
        junk_values,
    ),
)
sequences = st.lists(st.one_of(valid_messages, malformed_messages), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inbound=sequences, max_size=st.none() | st.integers(0, 10))
async def test_random_asgi_sequences_raise_only_documented_errors(inbound: list[object], max_size: int | None) -> None:
    server = StrictServer(inbound)
    received: list[str | bytes] = []
    with anyio.fail_after(2):
        try:
            ws = await WebSocketASGI.accept(
                {"type": "websocket"}, server.receive, server.send, max_message_size=max_size
            )
            for _ in range(len(inbound) + 1):
                try:
                    received.append(await ws.receive())
                except PeerError:
                    continue
        except (ConnectionClosed, PeerError):
            pass
        except ScriptEnd:
            pass
    assert server.receives_after_disconnect == 0
    assert all(type(message) in (str, bytes) for message in received)
    if max_size is not None:
        assert all(len(message) <= max_size for message in received)
