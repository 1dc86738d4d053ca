"""The ASGI fast path of WebSocketASGI.receive() against ASGITransport.parse(), for any message sequence.

Over an ASGI server the connection reads the common ``websocket.receive`` dict in place (in
receive() itself, or in its general path when a size limit applies); over any other Transport
everything goes through ``parse()``. All must give the same messages and the same errors,
message by message.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable, Mapping

import anyio
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simple_websocket import ConnectionClosed, WebSocketASGI
from simple_websocket._asgi import ASGITransport

MISSING = object()


class Text(str):
    """A str subclass: a payload the connection must hand over as a plain str."""


payloads = st.one_of(
    st.just(MISSING), st.none(), st.text(max_size=8), st.binary(max_size=8),
    st.binary(max_size=8).map(bytearray), st.text(max_size=8).map(Text), st.integers(), st.booleans(),
)  # fmt: skip
kinds = st.sampled_from(["websocket.receive", "websocket.disconnect", "websocket.connect", "http.request", 7, MISSING])


class Indexable:
    """Answers ``item["type"]`` and ``in`` like a dict, yet is no Mapping: malformed on both paths."""

    def __init__(self, message: dict[str, object]) -> None:
        self._message = message

    def __getitem__(self, key: str) -> object:
        return self._message[key]

    def __contains__(self, key: object) -> bool:
        return key in self._message

    def __repr__(self) -> str:
        return f"Indexable({self._message!r})"


@st.composite
def messages(draw: st.DrawFn) -> object:
    """An ASGI item, well-formed or not: dicts with any mix of keys, other mappings, non-mappings."""
    message: dict[str, object] = {}
    for key, strategy in (("type", kinds), ("text", payloads), ("bytes", payloads), ("code", payloads)):
        value = draw(strategy)
        if value is not MISSING:
            message[key] = value
    shape = draw(st.sampled_from(["dict", "dict", "dict", "mapping", "indexable", "list", "none"]))
    if shape == "mapping":
        return types.MappingProxyType(message)
    if shape == "indexable":
        return Indexable(message)
    if shape == "list":
        return list(message.items())
    return None if shape == "none" else message


Outcome = tuple[str, object]


async def outcomes(ws: WebSocketASGI, count: int) -> list[Outcome]:
    """What each receive() gives: the message, or the error's type and text; stops at a close."""
    seen: list[Outcome] = []
    for _ in range(count):
        try:
            data = await ws.receive()
        except ConnectionClosed as closed:
            seen.append(("closed", (closed.reason, closed.message)))
            break
        except Exception as error:  # every error is compared, whatever its type
            seen.append((type(error).__name__, str(error)))
        else:
            seen.append((type(data).__name__, data))
    return seen


def scripted(items: list[object]) -> Callable[[], Awaitable[Mapping[str, object]]]:
    """A server's receive that replays a connect, then ``items``."""
    replay = iter([{"type": "websocket.connect"}, *items]).__next__

    async def receive() -> Mapping[str, object]:
        return replay()  # type: ignore[return-value]  # ill-formed items are the point of this test

    return receive


async def every_path(items: list[object]) -> tuple[list[Outcome], list[Outcome], list[Outcome]]:
    """The outcomes over ASGI without and with a size limit (never reached), and through parse()."""

    async def send(message: dict[str, object]) -> None:
        pass

    fast = await WebSocketASGI.accept({"type": "websocket"}, scripted(items), send)
    limited = await WebSocketASGI.accept({"type": "websocket"}, scripted(items), send, max_message_size=1 << 20)
    general = WebSocketASGI.from_transport(ASGITransport({"type": "websocket"}, scripted(items), send))
    await general.open()
    count = len(items)
    return await outcomes(fast, count), await outcomes(limited, count), await outcomes(general, count)


#: Messages each path must hand over converted, whatever hypothesis draws.
CONVERTED = [
    {"type": "websocket.receive", "bytes": bytearray(b"ab")},
    {"type": "websocket.receive", "text": None, "bytes": bytearray(b"cd")},
    {"type": "websocket.receive", "text": Text("ef")},
    {"type": "websocket.receive", "text": 7, "bytes": b"gh"},
]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@settings(max_examples=300, deadline=None)
@given(items=st.lists(messages(), max_size=6))
@example(items=CONVERTED)
def test_fast_path_and_parse_give_the_same_messages_and_errors(backend: str, items: list[object]) -> None:
    fast, limited, general = anyio.run(every_path, items, backend=backend)
    assert fast == general
    assert limited == general
