from socketio.asgi import ASGIApp as ASGIApp
from socketio.async_client import AsyncClient as AsyncClient
from socketio.async_manager import AsyncManager as AsyncManager
from socketio.async_redis_manager import AsyncRedisManager as AsyncRedisManager
from socketio.async_server import AsyncServer as AsyncServer
