"""A TCP proxy on 127.0.0.1 that a test can cut, as a network partition between one process and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
from anyio.abc import SocketStream

from .redis_server import free_port


class Proxy:
    """Forwards connections on its own port to ``target_port``; ``cut()`` drops them all and refuses
    new ones until ``restore()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._group: anyio.abc.TaskGroup | None = None
        self._serving: anyio.CancelScope | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def restore(self) -> None:
        """Accept and forward connections again."""
        assert self._group is not None and self._serving is None
        self._serving = await self._group.start(self._serve)

    def cut(self) -> None:
        """Close every forwarded connection and the listening socket: connecting is refused now."""
        if self._serving is not None:
            self._serving.cancel()
            self._serving = None

    async def _serve(self, *, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        with anyio.CancelScope() as scope:
            listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=self.port)
            async with listener, anyio.create_task_group() as connections:
                task_status.started(scope)
                await listener.serve(self._forward, task_group=connections)

    async def _forward(self, client: SocketStream) -> None:
        async with (
            client,
            await anyio.connect_tcp("127.0.0.1", self.target_port) as server,
            anyio.create_task_group() as pipes,
        ):
            pipes.start_soon(_pipe, client, server, pipes.cancel_scope)
            pipes.start_soon(_pipe, server, client, pipes.cancel_scope)


async def _pipe(source: SocketStream, sink: SocketStream, scope: anyio.CancelScope) -> None:
    try:
        async for chunk in source:
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    scope.cancel()  # one side is gone: close both


@asynccontextmanager
async def proxy_to(target_port: int) -> AsyncIterator[Proxy]:
    """A running Proxy to ``target_port``, stopped (every connection closed) on exit."""
    proxy = Proxy(target_port)
    async with anyio.create_task_group() as group:
        proxy._group = group
        await proxy.restore()
        try:
            yield proxy
        finally:
            group.cancel_scope.cancel()
