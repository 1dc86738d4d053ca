"""Small tools shared by the in-process tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio

from simple_websocket import Accept, ConnectionClosed, WebSocketASGI
from simple_websocket.testing import MemoryClient, MemoryTransport, memory_pair

#: Upper bound for any single test's wait on the other side.
LIMIT = 5.0


@dataclass
class Pair:
    """An in-memory connection: the application's WebSocketASGI and the test's client."""

    ws: WebSocketASGI
    client: MemoryClient
    transport: MemoryTransport


@asynccontextmanager
async def connection(
    *,
    subprotocols: Sequence[str] = (),
    server_subprotocols: str | Sequence[str] | None = None,
    scope: Mapping[str, object] | None = None,
    max_message_size: int | None = None,
    max_buffer: float = float("inf"),
    silent_after_disconnect: bool = False,
) -> AsyncIterator[Pair]:
    """A not yet accepted connection over the in-memory transport, bounded by LIMIT seconds."""
    transport, client = memory_pair(
        scope, subprotocols=subprotocols, max_buffer=max_buffer, silent_after_disconnect=silent_after_disconnect
    )
    with client, anyio.fail_after(LIMIT):
        ws = WebSocketASGI.from_transport(transport, server_subprotocols, max_message_size=max_message_size)
        yield Pair(ws, client, transport)


@asynccontextmanager
async def opened(
    *, max_message_size: int | None = None, max_buffer: float = float("inf"), silent_after_disconnect: bool = False
) -> AsyncIterator[Pair]:
    """An accepted connection (the client connected and saw the Accept)."""
    async with connection(
        max_message_size=max_message_size, max_buffer=max_buffer, silent_after_disconnect=silent_after_disconnect
    ) as pair:
        await pair.client.connect()
        await pair.ws.open()
        assert isinstance(await pair.client.receive(), Accept)
        yield pair


@dataclass
class Outcome:
    """What a background coroutine ended with."""

    value: object = None
    error: BaseException | None = None
    done: anyio.Event = field(default_factory=anyio.Event)


async def run_to_outcome(call: Callable[[], Awaitable[object]], outcome: Outcome) -> None:
    """Run ``call`` and store its result or error in ``outcome`` (for tasks started with start_soon)."""
    try:
        outcome.value = await call()
    except (ConnectionClosed, Exception) as error:
        outcome.error = error
    finally:
        outcome.done.set()
