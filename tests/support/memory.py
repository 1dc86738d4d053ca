"""Small tools shared by the in-process tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import anyio

from simple_websocket import Accept, Close, Connect, ConnectionClosed, Deny, Disconnect, WebSocketASGI
from simple_websocket.testing import MemoryClient, MemoryTransport, memory_pair

#: Upper bound for any single test's wait on the other side.
LIMIT = 5.0

#: The message path connection() drives: "transport" (WebSocketASGI.from_transport() over the
#: MemoryTransport), "asgi" (WebSocketASGI over ASGI callables bridged to that transport: the
#: path that reads and writes ASGI dicts in place) or "asgi-limited" (the same with a size
#: limit no test message reaches: receive()'s branch for size-limited connections). The
#: ``message_path`` fixture of a test module sets it, to run each test over each of them.
MESSAGE_PATH = "transport"

#: "asgi-metered" is "asgi" with metrics on (simple_websocket.metrics): the metered copy of the
#: per-message path.

#: The max_message_size "asgi-limited" gives a connection that does not ask for one.
GENEROUS_LIMIT = 1 << 20


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
    with client, anyio.fail_after(LIMIT), _metrics_if_metered():
        if MESSAGE_PATH.startswith("asgi"):
            if MESSAGE_PATH == "asgi-limited" and max_message_size is None:
                max_message_size = GENEROUS_LIMIT
            receive, send = asgi_bridge(transport)
            # The bridge answers a Deny as the HTTP response extension does.
            asgi_scope = {"extensions": {"websocket.http.response": {}}, **transport.scope}
            ws = WebSocketASGI(asgi_scope, receive, send, server_subprotocols, max_message_size=max_message_size)
        else:
            ws = WebSocketASGI.from_transport(transport, server_subprotocols, max_message_size=max_message_size)
        yield Pair(ws, client, transport)


@contextmanager
def _metrics_if_metered() -> Iterator[None]:
    """Metrics on, into an in-memory reader, for the block if MESSAGE_PATH asks for them."""
    if not MESSAGE_PATH.endswith("-metered"):
        yield
        return
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from simple_websocket import metrics

    metrics.enable(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    try:
        yield
    finally:
        metrics.disable()


def asgi_bridge(
    transport: MemoryTransport,
) -> tuple[Callable[[], Awaitable[Mapping[str, object]]], Callable[[dict[str, object]], Awaitable[None]]]:
    """An ASGI server's receive and send over ``transport``: events become ASGI dicts and back.

    Items that are not events (``MemoryClient.send_raw``) are handed over as they are.
    """
    start: dict[str, object] = {}

    async def receive() -> Mapping[str, object]:
        item = await transport.receive()
        if not isinstance(item, (Connect, Disconnect, str, bytes)):
            return item  # type: ignore[return-value]  # ill-formed on purpose: the test's choice
        event = transport.parse(item)  # also marks a Disconnect as seen
        if isinstance(event, Connect):
            return {"type": "websocket.connect"}
        if isinstance(event, Disconnect):
            return {"type": "websocket.disconnect", "code": event.code, "reason": event.reason}
        return {"type": "websocket.receive", "text" if isinstance(event, str) else "bytes": event}

    async def send(message: dict[str, object]) -> None:
        kind = message["type"]
        if kind == "websocket.http.response.start":
            start.update(message)
            return
        if kind == "websocket.accept":
            headers = message.get("headers", [])
            assert isinstance(headers, list)
            subprotocol = message.get("subprotocol")
            assert subprotocol is None or isinstance(subprotocol, str)
            event: object = Accept(subprotocol, tuple(headers))
        elif kind == "websocket.send":
            event = message["text"] if "text" in message else message["bytes"]
        elif kind == "websocket.close":
            code, reason = message["code"], message["reason"]
            assert isinstance(code, int) and isinstance(reason, str)
            event = Close(code, reason)
        else:
            assert kind == "websocket.http.response.body", message
            status, headers, body = start["status"], start["headers"], message["body"]
            assert isinstance(status, int) and isinstance(headers, list) and isinstance(body, bytes)
            event = Deny(status, tuple(headers), body)
        assert isinstance(event, (Accept, Close, Deny, str, bytes))
        await transport.send(event)

    return receive, send


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
