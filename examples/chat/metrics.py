"""The chat's metrics for Prometheus: ``python -m examples.chat --metrics`` (``CHAT_METRICS=1``).

Each worker installs the OpenTelemetry SDK's MeterProvider with the Prometheus exporter's reader
(which registers on prometheus_client's registry), turns on ``simple_websocket.metrics``, and
answers ``GET /metrics`` with Prometheus's text exposition format.

Several workers (``uvicorn --workers N``) share one listening socket, so a scrape reaches one of
them at random. With ``CHAT_METRICS_DIR`` set (``--metrics --workers N`` makes a temporary
directory for it), every worker writes its own exposition to ``<dir>/<pid>.prom`` once a second
and whenever it answers a scrape (a new file renamed over the old one: readers never see half a
file), and a scrape of any worker answers with the series of every live worker, each with a
``worker`` label (its PID): ``sum()`` in Prometheus adds them up. Files of workers that are gone
(their PID is dead, or the file was not rewritten for ``STALE`` seconds) are left out and removed.
docs/metrics.md tells why, and the other ways.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import anyio
import anyio.to_thread
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "DIRECTORY_ENV", "ENABLE_ENV", "Exposition", "enable_metrics", "from_environment", "merge"]

#: Set (to anything but "" or "0") by ``--metrics``: each worker turns metrics on when it starts.
ENABLE_ENV = "CHAT_METRICS"
#: The directory the workers of one server share their metrics through (``--metrics --workers N``).
DIRECTORY_ENV = "CHAT_METRICS_DIR"
#: The label that tells the workers' series apart in a merged exposition.
WORKER_LABEL = "worker"
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: How often (seconds) a worker rewrites its file when nobody scrapes it.
INTERVAL = 1.0
#: A worker file not rewritten for this long (seconds) belongs to a worker that is gone or stuck.
STALE = 10.0
#: At most this many workers' files are merged (the most recently written ones).
MAX_WORKERS = 256
#: Directory entries looked at, at most, per scrape.
MAX_ENTRIES = 4 * MAX_WORKERS
#: A worker's exposition larger than this is neither written nor read.
MAX_FILE_BYTES = 4 * 1024 * 1024
SUFFIX = ".prom"

logger = logging.getLogger(__name__)


class Exposition:
    """One worker's ``/metrics``: its own registry's series, or every live worker's through ``directory``."""

    def __init__(self, registry: CollectorRegistry, directory: Path | None = None) -> None:
        self.registry = registry
        self.directory = directory
        self.pid = os.getpid()
        # One collection at a time: the exporter's collector hands each collection to one caller.
        self._lock = threading.Lock()
        self._scrapes = anyio.CapacityLimiter(1)
        self._stop = threading.Event()
        self._too_big = False

    @property
    def own_file(self) -> Path | None:
        return None if self.directory is None else self.directory / f"{self.pid}{SUFFIX}"

    async def render(self) -> bytes:
        """The response body of ``GET /metrics`` (the work runs in a thread, one scrape at a time)."""
        async with self._scrapes:
            return await anyio.to_thread.run_sync(self.render_now)

    def render_now(self) -> bytes:
        own = self.write()
        if self.directory is None:
            return own
        sources = [(self.pid, own), *self._others()]
        return merge(sources)

    def write(self) -> bytes:
        """Collect this worker's series now and, with a directory, publish them to the other workers."""
        with self._lock:
            text = generate_latest(self.registry)
            own_file = self.own_file
            if own_file is None or self._stop.is_set():
                return text
            if len(text) > MAX_FILE_BYTES:
                if not self._too_big:
                    logger.warning("metrics of worker %d exceed %d bytes: not shared", self.pid, MAX_FILE_BYTES)
                self._too_big = True
                return text
            temporary = own_file.with_name(f".{self.pid}.tmp")
            try:
                temporary.write_bytes(text)
                os.replace(temporary, own_file)  # atomic: readers see the old file or the new one
            except OSError as error:  # the directory is gone (the server is stopping) or full
                logger.warning("cannot share the metrics of worker %d: %s", self.pid, error)
            return text

    def _others(self) -> list[tuple[int, bytes]]:
        """The expositions of the other live workers, most recently written first, bounded in count and size."""
        assert self.directory is not None
        now = time.time()
        candidates: list[tuple[float, int, Path]] = []
        try:
            listing = os.scandir(self.directory)
        except OSError as error:
            logger.warning("cannot read the other workers' metrics: %s", error)
            return []
        with listing as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_ENTRIES:
                    break
                name = entry.name
                if not name.endswith(SUFFIX) or not name[: -len(SUFFIX)].isdigit():
                    continue
                pid = int(name[: -len(SUFFIX)])
                if pid == self.pid:
                    continue
                try:
                    status = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # removed meanwhile
                path = Path(entry.path)
                if now - status.st_mtime > STALE or not _alive(pid):
                    _remove(path)
                    continue
                if status.st_size <= MAX_FILE_BYTES:
                    candidates.append((status.st_mtime, pid, path))
        candidates.sort(reverse=True)
        found: list[tuple[int, bytes]] = []
        for _, pid, path in candidates[: MAX_WORKERS - 1]:
            try:
                with path.open("rb") as file:
                    text = file.read(MAX_FILE_BYTES + 1)
            except FileNotFoundError:
                continue
            if len(text) <= MAX_FILE_BYTES:
                found.append((pid, text))
        return found

    def start_writing(self) -> None:
        """Rewrite this worker's file every ``INTERVAL`` seconds (daemon thread); remove it at exit."""
        if self.directory is None:
            return
        self.write()
        threading.Thread(target=self._write_forever, name="chat-metrics", daemon=True).start()
        atexit.register(self.stop_writing)

    def stop_writing(self) -> None:
        """Stop sharing this worker's metrics, and remove its file."""
        with self._lock:  # after a write in progress, and before any other
            self._stop.set()
            own_file = self.own_file
            if own_file is not None and os.getpid() == self.pid:
                _remove(own_file)

    def _write_forever(self) -> None:
        while not self._stop.wait(INTERVAL):
            self.write()


class _Families(Collector):
    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def merge(sources: Iterable[tuple[int, bytes]]) -> bytes:
    """One exposition of several workers' ``(pid, exposition)``: each family once, each series with ``worker``.

    A worker whose text does not parse, or that has a family of another type than the first worker
    with that name, is left out (in whole, or that family).
    """
    families: dict[str, Metric] = {}
    for pid, text in sources:
        worker = str(pid)
        try:
            parsed = list(text_string_to_metric_families(text.decode()))
        except (UnicodeDecodeError, ValueError) as error:
            logger.warning("metrics of worker %s are unreadable, left out: %s", worker, error)
            continue
        for family in parsed:
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(family.name, family.documentation, family.type)
            elif merged.type != family.type:
                continue
            merged.samples.extend(
                sample._replace(labels={**sample.labels, WORKER_LABEL: worker}) for sample in family.samples
            )
    return generate_latest(_Families(families.values()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: the file's age decides
    return True


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass  # another worker removed it first


def enable_metrics() -> None:
    """Record simple_websocket's metrics into the SDK's MeterProvider, which Prometheus's exporter reads."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource

    from simple_websocket import metrics

    reader = PrometheusMetricReader()  # registers on prometheus_client's REGISTRY, which /metrics renders
    resource = Resource.create({"service.name": "chat-demo"})
    metrics.enable(MeterProvider(metric_readers=[reader], resource=resource))


def from_environment() -> Exposition | None:
    """Turn metrics on in this worker if ``CHAT_METRICS`` says so; its ``/metrics``, else None."""
    if os.environ.get(ENABLE_ENV, "") in ("", "0"):
        return None
    enable_metrics()  # the SDK is imported only here: a chat without --metrics does not load it
    directory = os.environ.get(DIRECTORY_ENV)
    exposition = Exposition(REGISTRY, Path(directory) if directory else None)
    exposition.start_writing()
    return exposition
