"""The app every server in the matrix runs (tests/test_servers.py): the path picks the scenario.

What the app saw of a connection that has ended is kept under the ``?id=`` the client chose and
read back over ``/report?id=...``, so tests can check the server's side of closes and drops.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio

from simple_websocket import ASGIReceive, ASGISend, ConnectionClosed, Scope, WebSocketASGI, websocket_app

SUBPROTOCOLS = ["b", "a"]
MAX_MESSAGE_SIZE = 1024
SENDERS = 4
PER_SENDER = 200

reports: dict[str, str] = {}
ran: set[str] = set()
"""The ids of the connections whose handler ran (see ``/origin``)."""
LISTED_ORIGIN = "https://app.example"


def report_id(ws: WebSocketASGI) -> str:
    return parse_qs(ws.request.query_string.decode()).get("id", [""])[0]


def describe(closed: ConnectionClosed) -> str:
    return f"{type(closed).__name__} {closed.reason} {closed.message!r} by_peer={closed.by_peer}"


async def echo(ws: WebSocketASGI) -> None:
    async for message in ws:
        await ws.send(message)


async def close(ws: WebSocketASGI) -> None:
    await ws.close(4001, "bye")


async def watch(ws: WebSocketASGI) -> None:
    """Echo until the peer leaves; record how it left and what receiving once more does."""
    key = report_id(ws)
    seen = "no close"
    try:
        while True:
            await ws.send(await ws.receive())
    except ConnectionClosed as closed:
        seen = describe(closed)
    try:
        with anyio.fail_after(2):
            await ws.receive()
        again = "returned"
    except ConnectionClosed as closed_again:
        again = describe(closed_again)
    except TimeoutError:
        again = "hung"
    reports[key] = f"{seen}; again: {again}"


async def send_after_leaving(ws: WebSocketASGI) -> None:
    """After "go", wait for the client to leave without looking, then send: does send notice?"""
    key = report_id(ws)
    await ws.receive()
    await ws.send("tick")
    await anyio.sleep(0.5)  # the client closes meanwhile; nothing here receives its close
    try:
        for _ in range(10):  # granian stops answering the client's close after about 20 such sends
            await ws.send("late")
            await anyio.sleep(0.01)
    except ConnectionClosed:
        reports[key] = "send"
        return
    try:
        reports[key] = "nowhere" if await ws.receive(timeout=5) is None else "a message?"
    except ConnectionClosed:
        reports[key] = "receive"


async def report(ws: WebSocketASGI) -> None:
    key = report_id(ws)
    with anyio.fail_after(8):
        while key not in reports:
            await anyio.sleep(0.01)
    await ws.send(reports.pop(key))


async def deny(ws: WebSocketASGI) -> None:
    await ws.reject(status=401, headers={"x-why": "no token"}, body=b"no token")


async def timeout(ws: WebSocketASGI) -> None:
    await ws.send("none" if await ws.receive(timeout=0.05) is None else "message")
    await ws.send(await ws.receive())


async def concurrent(ws: WebSocketASGI) -> None:
    async def sender(number: int) -> None:
        for index in range(PER_SENDER):
            await ws.send(f"{number}:{index}:" + "x" * (index % 50))

    async with anyio.create_task_group() as group:
        for number in range(SENDERS):
            group.start_soon(sender, number)
    await ws.receive()  # the client says when it has everything


async def mark_and_echo(ws: WebSocketASGI) -> None:
    ran.add(report_id(ws))
    await echo(ws)


async def did_it_run(ws: WebSocketASGI) -> None:
    await ws.send("ran" if report_id(ws) in ran else "never ran")


async def bye(ws: WebSocketASGI) -> None:
    await ws.receive()  # then return: websocket_app closes with 1000


ROUTES = {
    "/echo": websocket_app(echo, subprotocols=SUBPROTOCOLS, headers={"x-app": "simple_websocket"}),
    "/close": websocket_app(close),
    "/watch": websocket_app(watch),
    "/send-after-leaving": websocket_app(send_after_leaving),
    "/report": websocket_app(report),
    "/deny": websocket_app(deny, accept=False),
    "/too-big": websocket_app(echo, max_message_size=MAX_MESSAGE_SIZE),
    "/timeout": websocket_app(timeout),
    "/concurrent": websocket_app(concurrent),
    "/bye": websocket_app(bye),
    "/origin": websocket_app(mark_and_echo, origins=[LISTED_ORIGIN]),
    "/same-origin": websocket_app(mark_and_echo),
    "/ran": websocket_app(did_it_run),
}


async def app(scope: Scope, receive: ASGIReceive, send: ASGISend) -> None:
    path = scope.get("path")
    await ROUTES.get(path if isinstance(path, str) else "", ROUTES["/echo"])(scope, receive, send)
