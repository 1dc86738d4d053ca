"""The examples' apps with metrics on, for ``bench.server_cost`` (the same apps without are the baseline).

    ../shared/tools/icount -a 100 -b 500 -- python -m bench.server_cost bench.metered_apps:fanout {n}
    python -m bench.metrics_cost --server    # both apps, and the echo, side by side

Metrics go to the OpenTelemetry SDK with a Prometheus reader, as in the chat demo; nothing scrapes
during the run, so what is measured is what counting costs.
"""

from __future__ import annotations

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider

from bench.echo_apps import app as echo
from examples.fanout import app as fanout
from simple_websocket import metrics

__all__ = ["echo", "fanout"]

metrics.enable(MeterProvider(metric_readers=[PrometheusMetricReader()]))
