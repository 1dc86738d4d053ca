"""An echo whose metrics Prometheus can scrape at /metrics, on the same port.

uvicorn examples.metrics:app
curl http://127.0.0.1:8000/metrics
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from simple_websocket import ASGIReceive, ASGISend, Scope, WebSocketASGI, metrics, websocket_app

metrics.enable(MeterProvider(metric_readers=[PrometheusMetricReader()]))


async def echo(ws: WebSocketASGI) -> None:
    async for message in ws:
        await ws.send(message)


async def http(scope: Scope, receive: ASGIReceive, server_send: ASGISend) -> None:
    """GET /metrics: every metric, in Prometheus's text format; anything else: 404."""
    if scope["type"] != "http":
        return  # lifespan: nothing to set up
    send = cast("Callable[[dict[str, object]], Awaitable[None]]", server_send)
    found = scope.get("path") == "/metrics"
    body = generate_latest() if found else b"not found\n"
    content_type = CONTENT_TYPE_LATEST if found else "text/plain"
    headers = [(b"content-type", content_type.encode())]
    await send({"type": "http.response.start", "status": 200 if found else 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = websocket_app(echo, fallback=http)
