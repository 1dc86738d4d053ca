"""What every framework example must do, checked with the websockets client on a real server."""

from __future__ import annotations

import urllib.error
import urllib.request

import anyio
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError
from websockets.typing import Subprotocol

from ..helpers import LIMIT

OFFERED = [Subprotocol("x"), Subprotocol("echo.v1")]  # the examples speak echo.v2 and echo.v1


async def echoes_with_subprotocol(url: str) -> None:
    """Text and binary (empty ones too) come back as sent; "echo.v1" is agreed and reported."""
    async with connect(url, subprotocols=OFFERED, open_timeout=LIMIT) as client:
        assert client.subprotocol == "echo.v1"
        for data in ("hello", b"\x00\x01", "", b"", "subprotocol?"):
            await client.send(data)
            with anyio.fail_after(LIMIT):
                echoed = await client.recv()
            assert (type(echoed), echoed) == (type(data), "echo.v1" if data == "subprotocol?" else data)


async def answers(url: str, question: str) -> str | bytes:
    async with connect(url, open_timeout=LIMIT) as client:
        await client.send(question)
        with anyio.fail_after(LIMIT):
            return await client.recv()


async def closes_with_4000_bye(url: str, reason: str = "bye") -> None:
    """"close" ends the connection from the app's side with 4000 "bye" (``reason`` where a server drops it)."""
    async with connect(url, open_timeout=LIMIT) as client:
        await client.send("close")
        with pytest.raises(ConnectionClosedError) as caught, anyio.fail_after(LIMIT):
            await client.recv()
    assert caught.value.rcvd is not None
    assert (caught.value.rcvd.code, caught.value.rcvd.reason) == (4000, reason)


def http_get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET to ``url`` (ws:// is read as http://)."""
    try:
        with urllib.request.urlopen(url.replace("ws://", "http://", 1), timeout=LIMIT) as response:
            status: int = response.status
            return status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
