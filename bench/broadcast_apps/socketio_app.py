"""python-socketio with its Redis client manager, as its documentation writes rooms.

    FANOUT_REDIS_URL=redis://127.0.0.1:6379/0 uvicorn bench.broadcast_apps.socketio_app:app

A client connects with ``auth={"room": <name>}`` and joins that room; every "msg" event it emits
is emitted to the whole room (the sender included). ``AsyncRedisManager`` relays each emit through
Redis pub/sub to every server process, which sends it to its own clients in the room.
"""

from __future__ import annotations

import socketio

from . import redis_url

sio = socketio.AsyncServer(async_mode="asgi", client_manager=socketio.AsyncRedisManager(redis_url()))
app = socketio.ASGIApp(sio)


@sio.event
async def connect(sid: str, environ: dict[str, object], auth: dict[str, object] | None) -> bool:
    room = (auth or {}).get("room")
    if not isinstance(room, str):
        return False  # refused: the client said no room
    await sio.save_session(sid, {"room": room})
    await sio.enter_room(sid, room)
    return True


@sio.event
async def msg(sid: str, data: object) -> None:
    session = await sio.get_session(sid)
    await sio.emit("msg", data, room=session["room"])
