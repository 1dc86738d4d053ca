"""What every framework example must do, checked with the websockets client on a real server."""

from __future__ import annotations

import urllib.error
import urllib.request

from .ws_client import LIMIT, closed_by_app, opening, recv

OFFERED = ["x", "echo.v1"]  # the examples speak echo.v2 and echo.v1


async def echoes_with_subprotocol(url: str) -> None:
    """Text and binary (empty ones too) come back as sent; "echo.v1" is agreed and reported."""
    async with opening(url, *OFFERED) as client:
        assert client.subprotocol == "echo.v1"
        for data in ("hello", b"\x00\x01", "", b"", "subprotocol?"):
            await client.send(data)
            echoed = await recv(client)
            assert (type(echoed), echoed) == (type(data), "echo.v1" if data == "subprotocol?" else data)


async def answers(url: str, question: str) -> str | bytes:
    async with opening(url) as client:
        await client.send(question)
        return await recv(client)


async def closes_with_4000_bye(url: str, reason: str = "bye") -> None:
    """ "close" ends the connection from the app's side with 4000 "bye" (``reason`` where a server drops it)."""
    async with opening(url) as client:
        await client.send("close")
        assert await closed_by_app(client) == (4000, reason)


def http_get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET to ``url`` (ws:// is read as http://)."""
    try:
        with urllib.request.urlopen(url.replace("ws://", "http://", 1), timeout=LIMIT) as response:
            status: int = response.status
            return status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()
