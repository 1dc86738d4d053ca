"""examples/metrics.py through a real uvicorn process: what the socket did shows on /metrics."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import anyio
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from .support.servers import running

pytestmark = [pytest.mark.anyio, pytest.mark.server]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.metrics:app") as base:
        yield base


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url.replace("ws://", "http://") + "/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (
            sample.name,
            tuple(sorted((k, v) for k, v in sample.labels.items() if not k.startswith("otel_"))),
        ): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_connections_and_messages_show_on_metrics(url: str) -> None:
    before = scrape(url)
    received = "websocket_server_received_messages_total"
    async with connect(url + "/", open_timeout=5) as client:
        for data in ("one", "two", b"\x00\x01"):
            await client.send(data)
            assert await client.recv() == data
        during = scrape(url)
        assert value(during, "websocket_server_active_connections") == 1
        assert (
            value(during, received, websocket_frame_type="text") - value(before, received, websocket_frame_type="text")
            == 2
        )
        assert (
            value(during, received, websocket_frame_type="binary")
            - value(before, received, websocket_frame_type="binary")
            == 1
        )
    after = scrape(url)
    for _ in range(100):  # the server sees the close a moment after the client
        if value(after, "websocket_server_active_connections") == 0:
            break
        await anyio.sleep(0.05)
        after = scrape(url)
    assert value(after, "websocket_server_active_connections") == 0
    closes = "websocket_server_closes_total"
    assert value(after, closes, websocket_close_by="client", websocket_close_code="1000") >= 1


def test_other_paths_are_not_found(url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url.replace("ws://", "http://") + "/nothing", timeout=5)
    refused.value.close()
    assert refused.value.code == 404
