"""The websockets client as the end-to-end tests use it: every wait bounded by LIMIT."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

LIMIT = 10.0
"""Upper bound, in seconds, for any one wait on a server."""


def opening(url: str, *protocols: str) -> connect:
    """Connect to ``url`` offering ``protocols``; use as ``async with opening(...) as client``."""
    return connect(url, subprotocols=[Subprotocol(name) for name in protocols] or None, open_timeout=LIMIT)


async def recv(client: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(client.recv(), LIMIT)


async def closed_by_app(client: ClientConnection) -> tuple[int, str]:
    """Wait for the app's close frame; return its code and reason."""
    with pytest.raises(ConnectionClosed) as caught:
        await recv(client)
    assert caught.value.rcvd is not None, "the app's close frame never came"
    return caught.value.rcvd.code, caught.value.rcvd.reason
