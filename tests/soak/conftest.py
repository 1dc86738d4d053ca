"""One server process per server set-up and test module, running tests/support/soak_app.py."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from ..support.servers import SERVERS, running

FILES_NEEDED = 8192
"""Open files the suite and its servers need at once: 1,000 connections are 2,000 sockets, and more."""

_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft != resource.RLIM_INFINITY and _soft < FILES_NEEDED:  # servers started later inherit it
    _wanted = FILES_NEEDED if _hard == resource.RLIM_INFINITY else min(_hard, FILES_NEEDED)
    resource.setrlimit(resource.RLIMIT_NOFILE, (_wanted, _hard))

SOAK_SERVERS = [pytest.param(name, marks=pytest.mark.compat("server", name)) for name in SERVERS]


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, bool]]:
    """asyncio on uvloop: the clients here cost a third less CPU, which the servers under test share.

    The websockets client runs on asyncio only, so there is no trio run of these tests.
    """
    return "asyncio", {"use_uvloop": True}


@pytest.fixture(scope="module", params=SOAK_SERVERS)
def soak(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(server name, ws://host:port) of a server process running the soak app."""
    with running(request.param, "tests.support.soak_app:app") as base:
        yield request.param, base
