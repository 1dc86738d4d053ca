"""The chat demo on a real uvicorn process, spoken to by websockets clients."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from examples.chat.protocol import asyncapi

from ..support.chat_clients import Chatter, join
from ..support.servers import running

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    # Members whose connection ended stay CHAT_GRACE seconds (12 by default) for their page to
    # come back: half a second here, so that leaving shows soon.
    with running("uvicorn-websockets", "examples.chat.app:app", env={"CHAT_GRACE": "0.5"}) as base:
        yield base


def test_page_stats_and_protocol_are_served(url: str) -> None:
    http = url.replace("ws://", "http://")
    with urllib.request.urlopen(http + "/", timeout=5) as response:
        assert b'<script src="/chat.js"' in response.read()
    with urllib.request.urlopen(http + "/chat.js", timeout=5) as response:
        assert response.headers["content-type"].startswith("text/javascript")
        assert b'["chat.v2", "chat.v1"]' in response.read()
    with urllib.request.urlopen(http + "/stats", timeout=5) as response:
        assert orjson.loads(response.read()) == {"users": 0}
    with urllib.request.urlopen(http + "/asyncapi.json", timeout=5) as response:
        document = orjson.loads(response.read())
    assert document == orjson.loads(orjson.dumps(asyncapi()))
    assert document["channels"]["ws"]["address"] == "/ws"
    for path in ("/asyncapi", "/asyncapi/standalone.js", "/asyncapi/default.min.css"):
        with urllib.request.urlopen(http + path, timeout=5) as response:
            assert response.status == 200 and response.read(), path


async def test_two_people_talk_and_see_each_other_come_and_go(url: str) -> None:
    ann, welcome = await join(url, "ann")
    assert ann.subprotocol == "chat.v2"  # the server's pick from the offer, in the handshake
    assert welcome["protocol"] == "chat.v2" and welcome["nick"] == "ann"
    bob, _ = await join(url, "bob")
    joined = await ann.until(lambda e: e["type"] == "join" and e["nick"] == "bob")
    assert joined["users"] == ["ann", "bob"]
    await ann.say("hello bob")
    heard = await bob.until(lambda e: e["type"] == "message" and e["text"] == "hello bob")
    assert (heard["nick"], heard["text"]) == ("ann", "hello bob")
    assert isinstance(heard["ts"], float)  # chat.v2 has timestamps
    await bob.say("hi ann")
    assert (await ann.until(lambda e: e["type"] == "message" and e["nick"] == "bob"))["text"] == "hi ann"
    await bob.close()
    left = await ann.until(lambda e: e["type"] == "leave")
    assert (left["nick"], left["reason"]) == ("bob", "left")
    assert left["users"] == ["ann"]
    await ann.close()


async def test_chat_v1_has_no_timestamps_and_taken_nicks_get_a_suffix(url: str) -> None:
    first, _ = await join(url, "cid", protocols=("chat.v1",))
    second, welcome = await join(url, "cid", protocols=("chat.v1", "chat.v3"))
    assert second.subprotocol == "chat.v1"
    assert {key: welcome[key] for key in ("type", "nick", "protocol", "ack", "resumed", "recovered")} == {
        "type": "welcome",
        "nick": "cid-2",
        "protocol": "chat.v1",
        "ack": 16,
        "resumed": False,
        "recovered": None,
    }
    await first.say("old school")
    message = await second.until(lambda e: e["type"] == "message" and e["text"] == "old school")
    assert "ts" not in message
    await first.close()
    await second.close()


async def test_bad_messages_get_an_error_and_the_connection_stays_up(url: str) -> None:
    dee, _ = await join(url, "dee")
    for bad in (
        "{not json",
        '{"type": "message"}',
        '{"type": "message", "text": ""}',
        "[1, 2]",
        orjson.dumps({"type": "message", "text": "x" * 2001}).decode(),
    ):
        await dee.connection.send(bad)
        assert (await dee.until(lambda e: e["type"] == "error" or (e["type"] == "message" and e["nick"] == "dee")))[
            "type"
        ] == "error"
    await dee.say("still here")
    assert (await dee.until(lambda e: e["type"] == "message" and e["nick"] == "dee"))["text"] == "still here"
    assert dee.connection.close_code is None  # still open after five bad messages
    await dee.close()


async def test_a_client_must_join_first(url: str) -> None:
    from websockets.asyncio.client import connect

    async with connect(url + "/ws", open_timeout=5) as connection:
        client = Chatter(connection)
        await client.send({"type": "message", "text": "hi"})
        assert (await client.next_event())["type"] == "error"
        await client.send({"type": "join", "nick": ""})
        assert (await client.next_event())["type"] == "error"


async def test_a_page_from_another_origin_cannot_join_but_its_own_can(url: str) -> None:
    page = url.replace("ws://", "http://")
    for foreign in ("http://evil.example", page.replace("127.0.0.1", "localhost"), page[: page.rindex(":")] + ":1"):
        with pytest.raises(InvalidStatus) as caught:
            await connect(url + "/ws", origin=Origin(foreign), open_timeout=10)
        assert caught.value.response.status_code == 403, foreign
    async with connect(url + "/ws", origin=Origin(page), open_timeout=10) as own:
        assert own.subprotocol is None  # joined: nothing offered, nothing agreed
