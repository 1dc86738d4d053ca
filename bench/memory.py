"""Memory held per connection object, side by side in one run.

For each contender, ``--objects`` connections are made over scopes and receive/send pairs
built beforehand, so what the server itself holds per connection is not counted; tracemalloc
reports what the connection objects add, once constructed and once accepted, per object.

    python -m bench.memory [--objects 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import sys
import tracemalloc
from collections.abc import Awaitable, Callable

from simple_websocket import WebSocketASGI

from .echo_inprocess import SCOPE, Receive, Send, load_simple_websocket, script

Make = Callable[[dict[str, object], Receive, Send], object]
Accept = Callable[[dict[str, object], Receive, Send], Awaitable[object]]


def ours_make(scope: dict[str, object], receive: Receive, send: Send) -> object:
    return WebSocketASGI(scope, receive, send)


async def ours_accept(scope: dict[str, object], receive: Receive, send: Send) -> object:
    return await WebSocketASGI.accept(scope, receive, send)


def starlette_make(scope: dict[str, object], receive: Receive, send: Send) -> object:
    from starlette.websockets import WebSocket

    return WebSocket(scope, receive, send)  # type: ignore[arg-type]  # Starlette types messages as MutableMapping


async def starlette_accept(scope: dict[str, object], receive: Receive, send: Send) -> object:
    ws = starlette_make(scope, receive, send)
    await ws.accept()  # type: ignore[attr-defined]  # starlette_make returns a WebSocket
    return ws


def original_pair() -> tuple[Make, Accept] | None:
    """simple-websocket 1.1.0's constructor and accept(), or None if it cannot be had."""
    if load_simple_websocket() is None:
        return None
    from simple_websocket_1_1_0.asgi import WebSocketASGI as Original  # type: ignore[import-not-found]  # loaded by load_simple_websocket()

    make: Make = Original
    accept: Accept = Original.accept
    return make, accept


async def per_object(build: Callable[[dict[str, object], Receive, Send], Awaitable[object]], count: int) -> float:
    """Bytes held per object made by ``build``, with the scopes and callables it gets subtracted."""
    inputs = [(dict(SCOPE), *script(0)) for _ in range(count)]
    held: list[object] = [None] * count
    await build(dict(SCOPE), *script(0))  # first use: imports, caches and interned names are not per object
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for index, (scope, receive, send) in enumerate(inputs):
        held[index] = await build(scope, receive, send)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / count


async def main(count: int) -> None:
    contenders: dict[str, tuple[Make, Accept]] = {"simple_websocket": (ours_make, ours_accept)}
    if importlib.util.find_spec("starlette") is not None:
        contenders["starlette"] = (starlette_make, starlette_accept)
    else:
        print("starlette is not installed: left out", file=sys.stderr)
    original = original_pair()
    if original is not None:
        contenders["simple-websocket 1.1.0"] = original

    print(f"memory per connection, tracemalloc over {count} objects")
    print(f"{'contender':<24} {'constructed B':>14} {'accepted B':>11}")
    for name, (make, accept) in contenders.items():

        async def construct(scope: dict[str, object], receive: Receive, send: Send, make: Make = make) -> object:
            return make(scope, receive, send)

        print(f"{name:<24} {await per_object(construct, count):>14.0f} {await per_object(accept, count):>11.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.objects))
