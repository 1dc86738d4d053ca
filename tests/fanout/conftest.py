from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from simple_websocket import BrokerUnavailable
from simple_websocket.fanout import Backend, Entry, MemoryBackend, Position, RedisBackend, RedisClusterBackend

from ..support.redis_cluster import RedisCluster
from ..support.redis_server import RedisServer, redis_server

BackendFactory = Callable[[], Backend]

#: Entries each topic keeps in the tests' backends.
RETENTION = 50


#: coredis (6.9) creates a connection's anyio memory streams before it connects and closes them only
#: once connected, so each attempt that fails while Redis is down leaves streams that warn
#: (ResourceWarning) when they are collected. Every test module here ignores that one warning, and
#: ``collect_failed_connections`` collects them before the next test, wherever it is, can see them.
FAILED_CONNECTIONS = pytest.mark.filterwarnings("ignore:Unclosed <MemoryObject:ResourceWarning")


@pytest.fixture(autouse=True)
def collect_failed_connections() -> Iterator[None]:
    yield
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unclosed <MemoryObject", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["memory", "redis", "cluster"])
def make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendFactory:
    """Backends for 'processes' that share one broker: each call is one process's connection.

    On one redis-server and on a Redis Cluster (session-scoped: started once, about 6 s)."""
    if request.param == "memory":
        shared = MemoryBackend(retention=RETENTION)
        return lambda: shared
    namespace = f"t{tmp_path.name}"
    if request.param == "cluster":  # topics spread over 3 masters, each with a replica
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        return lambda: RedisClusterBackend(cluster.url, namespace=namespace, retention=RETENTION)
    server: RedisServer = request.getfixturevalue("redis")
    return lambda: RedisBackend(server.url, namespace=namespace, retention=RETENTION)


class CutOff(MemoryBackend):
    """A MemoryBackend whose reads fail while ``cut`` is set, as a Redis out of reach does."""

    cut = False

    async def read(self, cursors: Mapping[str, Position], *, timeout: float) -> Sequence[Entry]:
        if self.cut:
            raise BrokerUnavailable("connection refused")
        return await super().read(cursors, timeout=timeout)
