"""A real Prometheus server for the tests: on a free loopback port, scraping given targets every second.

``prometheus_server(directory, ["127.0.0.1:8000"])`` starts Debian's ``prometheus`` with its
database in ``directory``, waits until it is ready, and stops it by its PID afterwards. It listens
on 127.0.0.1 only and scrapes only the targets given; nothing else is configured (no remote
write, no alerting, no service discovery).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .servers import HOST, free_port, stop, wait_for_http

#: How long Prometheus may take to be ready.
START_LIMIT = 20.0

Series = tuple[dict[str, str], float]


class Prometheus:
    """One running Prometheus and its HTTP query API."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.url = f"http://{HOST}:{port}"

    def query(self, expression: str) -> list[Series]:
        """An instant query's vector: each series' labels and value (an empty list for no data)."""
        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
        with urllib.request.urlopen(address, timeout=5) as response:
            answer: object = json.loads(response.read())
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise AssertionError(f"Prometheus answered {answer!r} to {expression!r}")
        data = answer.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise AssertionError(f"not a vector for {expression!r}: {data!r}")
        result = data.get("result")
        assert isinstance(result, list)
        found: list[Series] = []
        for item in result:
            assert isinstance(item, dict)
            labels, value = item.get("metric"), item.get("value")
            assert isinstance(labels, dict) and isinstance(value, list) and len(value) == 2
            found.append(({str(key): str(label) for key, label in labels.items()}, float(value[1])))
        return found

    def value(self, expression: str) -> float | None:
        """The value of a query that yields one series (such as a ``sum()``), or None while there is none."""
        found = self.query(expression)
        if not found:
            return None
        assert len(found) == 1, f"{expression!r} yields {len(found)} series"
        return found[0][1]

    def targets_up(self) -> bool:
        """Whether every target was scraped successfully last time."""
        states = self.query("up")
        return bool(states) and all(value == 1.0 for _, value in states)


def config(targets: list[str], interval: float) -> str:
    """The configuration: one job, ``chat``, scraping ``/metrics`` of each target."""
    seconds = f"{interval:g}s"
    scrape = {
        "job_name": "chat",
        "metrics_path": "/metrics",
        "scrape_interval": seconds,
        "scrape_timeout": seconds,
        "static_configs": [{"targets": targets}],
    }
    body = {"global": {"scrape_interval": seconds, "evaluation_interval": seconds}, "scrape_configs": [scrape]}
    return json.dumps(body, indent=2)  # YAML is a superset of JSON


@contextmanager
def prometheus_server(directory: Path, targets: list[str], *, interval: float = 1.0) -> Iterator[Prometheus]:
    """Start Prometheus scraping ``targets`` (``host:port``, on 127.0.0.1) every ``interval`` seconds."""
    executable = shutil.which("prometheus")
    if executable is None:
        pytest.fail("prometheus is not installed: ./dev test installs it (apt-get install prometheus)")
    assert all(target.startswith(f"{HOST}:") for target in targets)
    configuration = directory / "prometheus.yml"
    configuration.write_text(config(targets, interval))
    port = free_port()
    command = [
        executable,
        f"--config.file={configuration}",
        f"--web.listen-address={HOST}:{port}",
        f"--storage.tsdb.path={directory / 'data'}",
        "--storage.tsdb.retention.time=1h",
        "--log.level=warn",
    ]
    with open(directory / "prometheus.log", "wb") as log:
        process = subprocess.Popen(command, cwd=directory, stdout=log, stderr=subprocess.STDOUT)
        try:
            server = Prometheus(process, port)
            wait_for_http(f"{server.url}/-/ready", process, "prometheus", START_LIMIT)
            yield server
        finally:
            stop(process)
