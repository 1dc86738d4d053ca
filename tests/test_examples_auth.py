"""examples/auth.py on real servers: each way to send a token, and each refusal before accept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from .support.servers import running
from .support.ws_client import LIMIT, recv

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(scope="module", params=["uvicorn-websockets", "daphne"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with running(request.param, "examples.auth:app") as base:
        yield request.param, base


@pytest.mark.parametrize(
    ("path", "protocols", "headers"),
    [
        ("/?token=s3cret-token", [], {}),
        ("/", ["chat", "token.s3cret-token"], {}),
        ("/", [], {"Cookie": "theme=dark; token=s3cret-token"}),
    ],
    ids=["query", "subprotocol", "cookie"],
)
async def test_a_good_token_opens_the_connection(
    server: tuple[str, str], path: str, protocols: list[str], headers: dict[str, str]
) -> None:
    _, base = server
    async with connect(
        base + path,
        subprotocols=[Subprotocol(p) for p in protocols] or None,
        additional_headers=headers,
        open_timeout=LIMIT,
    ) as client:
        assert client.subprotocol == ("chat" if protocols else None)
        assert await recv(client) == "hello ann"
        await client.send("ping")
        assert await recv(client) == "ping"


@pytest.mark.parametrize(
    ("path", "headers", "status", "body"),
    [
        ("/", {}, 401, b"log in first: send a token\n"),
        ("/", {"Cookie": "token=wrong"}, 403, b"unknown token\n"),
        ("/", {"Cookie": "not a cookie;;="}, 401, b"log in first: send a token\n"),
        ("/?token=wrong", {}, 403, b"unknown token\n"),
    ],
)
async def test_a_missing_or_wrong_token_is_refused_before_accept(
    server: tuple[str, str], path: str, headers: dict[str, str], status: int, body: bytes
) -> None:
    name, base = server
    with pytest.raises(InvalidStatus) as caught:
        await connect(base + path, additional_headers=headers, open_timeout=LIMIT)
    response = caught.value.response
    if name == "daphne":  # no denial responses: every refusal is a plain 403
        assert response.status_code == 403
    else:
        assert (response.status_code, response.body) == (status, body)


async def test_a_good_token_from_another_site_is_refused(server: tuple[str, str]) -> None:
    _, base = server
    with pytest.raises(InvalidStatus) as caught:
        await connect(base + "/?token=s3cret-token", origin=Origin("http://evil.example"), open_timeout=LIMIT)
    assert caught.value.response.status_code == 403
