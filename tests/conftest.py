from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support.redis_cluster import RedisCluster
from .support.redis_cluster import redis_cluster as start_redis_cluster


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every anyio test on both backends (see below for tests marked ``server``)."""
    backend: str = request.param
    return backend


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``server`` talk through the websockets client, which runs on asyncio only."""
    trio_server_tests = [
        item
        for item in items
        if item.get_closest_marker("server")
        and isinstance(item, pytest.Function)
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("anyio_backend") == "trio"
    ]
    if trio_server_tests:
        config.hook.pytest_deselected(items=trio_server_tests)
        items[:] = [item for item in items if item not in trio_server_tests]


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """One Redis Cluster (3 masters, 3 replicas) for the whole session; tests that kill nodes start their own."""
    with start_redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster
