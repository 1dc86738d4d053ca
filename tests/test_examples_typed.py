"""examples/typed_protocol.py through a real server process and the websockets client."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from examples.typed_protocol import ASYNCAPI

from .support.servers import running

pytestmark = [pytest.mark.anyio, pytest.mark.server]

NO_FIT = "JSON does not fit at"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.typed_protocol:app") as base:
        yield base


async def test_the_tally_adds_resets_and_refuses_what_is_not_its_protocol(url: str) -> None:
    async with connect(url, subprotocols=[Subprotocol("tally.v1")], open_timeout=5) as client:
        assert client.subprotocol == "tally.v1"
        for sent, answer in (
            ('{"type": "add", "amount": 2}', {"type": "total", "value": 2}),
            (b'{"type": "add", "amount": 3}', {"type": "total", "value": 5}),
            ('{"type": "reset"}', {"type": "total", "value": 0}),
            (
                '{"type": "add", "amount": "3"}',
                {"type": "refused", "reason": f"{NO_FIT} $.amount: Expected `int`, got `str`", "path": "$.amount"},
            ),
            (
                '{"type": "add", "amount": 1, "by": "me"}',
                {"type": "refused", "reason": f"{NO_FIT} $: Object contains unknown field `by`", "path": "$"},
            ),
            ("{nope", {"type": "refused", "path": None}),
            ('{"type": "add", "amount": 1}', {"type": "total", "value": 1}),
        ):
            await client.send(sent)
            reply = json.loads(await client.recv())
            assert {key: reply[key] for key in answer} == answer


async def test_a_binary_frame_that_is_no_utf8_json_is_refused_and_the_connection_stays(url: str) -> None:
    async with connect(url, open_timeout=5) as client:
        await client.send(b"\xff")
        reply = json.loads(await client.recv())
        assert reply["type"] == "refused" and reply["path"] is None and "invalid JSON" in reply["reason"]
        await client.send('{"type": "add", "amount": 4}')
        assert json.loads(await client.recv()) == {"type": "total", "value": 4}


def test_the_document_is_served_over_http(url: str) -> None:
    with urllib.request.urlopen(url.replace("ws://", "http://") + "/asyncapi.json", timeout=5) as response:
        assert json.loads(response.read()) == json.loads(json.dumps(ASYNCAPI))
