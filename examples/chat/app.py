"""A browser chat on simple_websocket: one page, one WebSocket endpoint, JSON messages.

Client to server: ``{"type": "join", "nick": "ann"}`` once, then ``{"type": "message",
"text": "..."}``. Server to client: ``welcome``, ``join``, ``leave``, ``message`` and ``error``
events, each with the current ``users`` and ``stats``. Subprotocols: ``chat.v2`` (messages carry
a ``ts`` timestamp) and ``chat.v1`` (no timestamps).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import orjson

from simple_websocket import (
    SAME_ORIGIN,
    ASGIReceive,
    CloseCode,
    ConnectionClosed,
    DecodeError,
    OriginRefused,
    Scope,
    WebSocketASGI,
)
from simple_websocket.codecs import CodecSocket, JSONCodec

from .room import QUEUE_SIZE, Event, Member, Room

Send = Callable[[dict[str, object]], Awaitable[None]]

SUBPROTOCOLS = ["chat.v2", "chat.v1"]
MAX_NICK = 20
MAX_TEXT = 2000
MAX_MESSAGE_SIZE = 16_384
JOIN_TIMEOUT = 60.0
#: How long a closing handshake may take before the connection is left to the server to drop.
CLOSE_TIMEOUT = 5.0
PAGE = (Path(__file__).parent / "static" / "index.html").read_bytes()

ROOM = Room(queue_size=int(os.environ.get("CHAT_QUEUE_SIZE", QUEUE_SIZE)))


async def app(scope: Scope, receive: ASGIReceive, send: Send) -> None:
    """The page at /, room statistics at /stats, the chat at /ws."""
    if scope["type"] == "websocket":
        try:
            # Only this page's own origin (and non-browser clients, which send none) may join:
            # any other site's page would otherwise join in its visitors' browsers.
            ws = await WebSocketASGI.accept(scope, receive, send, subprotocols=SUBPROTOCOLS,
                                            max_message_size=MAX_MESSAGE_SIZE, origins=SAME_ORIGIN)
        except OriginRefused:
            return  # refused with HTTP 403 already
        await chat(ws, ROOM)
    elif scope["type"] == "http":
        path = scope.get("path")
        if path == "/":
            await respond(send, 200, "text/html; charset=utf-8", PAGE)
        elif path == "/stats":
            await respond(send, 200, "application/json", orjson.dumps(ROOM.stats()))
        else:
            await respond(send, 404, "text/plain", b"not found")
    elif scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


async def respond(send: Send, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})


async def chat(ws: WebSocketASGI, room: Room, *, join_timeout: float = JOIN_TIMEOUT) -> None:
    """One person's connection: join, then read their messages while a writer sends them the room's."""
    sock = CodecSocket(ws, JSONCodec())
    nick = await wait_for_join(sock, join_timeout)
    if nick is None:
        return
    member = room.join(nick, ws.subprotocol or "chat.v1")
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(write, sock, member, group.cancel_scope)
            group.start_soon(drop_when_too_slow, member, group.cancel_scope)
            await read(sock, room, member)
            group.cancel_scope.cancel()
    finally:
        room.leave(member, "left")
        member.inbox.close()
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):  # the peer may be gone or not reading
            if member.dropped.is_set():
                await ws.close(CloseCode.TRY_AGAIN_LATER, "too slow: messages were not read in time")
            else:
                await ws.close()


async def wait_for_join(sock: CodecSocket[object], timeout: float) -> str | None:
    """The nickname the client joins with, or None if it left or did not join within ``timeout``."""
    with anyio.move_on_after(timeout):
        try:
            return await join_request(sock)
        except ConnectionClosed:
            return None
    with anyio.move_on_after(CLOSE_TIMEOUT):
        await sock.close(CloseCode.POLICY_VIOLATION, "join first")
    return None


async def join_request(sock: CodecSocket[object]) -> str:
    """Read until a valid join arrives, answering anything else with an error event."""
    # One deadline for the whole join, however many bad messages come first.
    while True:
        try:
            obj = await sock.receive()
        except DecodeError:
            await sock.send({"type": "error", "error": "invalid JSON"})
            continue
        if isinstance(obj, dict) and obj.get("type") == "join":
            nick = obj.get("nick")
            if isinstance(nick, str) and 0 < len(nick.strip()) <= MAX_NICK:
                return nick.strip()
        await sock.send({"type": "error", "error": f'join first: {{"type": "join", "nick": 1-{MAX_NICK} characters}}'})


async def read(sock: CodecSocket[object], room: Room, member: Member) -> None:
    """Relay the member's messages until it leaves; answer bad ones with an error event."""
    while True:
        try:
            obj = await sock.receive()
        except DecodeError:
            room.tell(member, {"type": "error", "error": "invalid JSON"})
            continue
        except ConnectionClosed:
            return
        text = obj.get("text") if isinstance(obj, dict) and obj.get("type") == "message" else None
        if isinstance(text, str) and 0 < len(text) <= MAX_TEXT:
            room.say(member, text)
        else:
            expected = f'expected {{"type": "message", "text": 1-{MAX_TEXT} characters}}'
            room.tell(member, {"type": "error", "error": expected})


async def write(sock: CodecSocket[object], member: Member, scope: anyio.CancelScope) -> None:
    """Send the member everything queued for it, in order, in its protocol's shape."""
    try:
        async for event in member.inbox:
            await sock.send(shape(event, member.protocol))
    except ConnectionClosed:
        pass
    scope.cancel()


async def drop_when_too_slow(member: Member, scope: anyio.CancelScope) -> None:
    await member.dropped.wait()
    scope.cancel()


def shape(event: Event, protocol: str) -> Event:
    """chat.v1 has no timestamps."""
    if protocol == "chat.v1" and "ts" in event:
        return {key: value for key, value in event.items() if key != "ts"}
    return event
