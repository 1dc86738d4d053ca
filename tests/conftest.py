from __future__ import annotations

import pytest


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
