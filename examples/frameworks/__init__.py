"""The same WebSocket handler inside each ASGI framework, as that framework's users write it."""
