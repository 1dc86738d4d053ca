"""End-to-end echo through a real uvicorn process: simple_websocket vs a raw ASGI app.

One uvicorn process serves both apps (``/raw`` and ``/ours``); the websockets client sends
messages in flights of ``--window`` and waits for their echoes. Rounds alternate between
the two paths; reported: messages per second (best round) and ours / raw.

    python -m bench.echo_uvicorn [--messages 20000] [--rounds 5] [--window 32]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from websockets.asyncio.client import connect

from tests.support.servers import running


async def echo_rate(url: str, count: int, window: int) -> float:
    """Messages per second for ``count`` echoes, ``window`` in flight at a time."""
    payload = "hello, world! " * 4
    async with connect(url, open_timeout=10, max_queue=None) as client:
        started = time.perf_counter()
        for _ in range(count // window):
            for _ in range(window):
                await client.send(payload)
            for _ in range(window):
                await asyncio.wait_for(client.recv(), timeout=10)
        return (count // window) * window / (time.perf_counter() - started)


async def main(base: str, count: int, rounds: int, window: int) -> None:
    best = {"raw": 0.0, "ours": 0.0}
    for round_number in range(rounds):
        order = list(best) if round_number % 2 == 0 else list(reversed(best))  # neither always goes first
        for name in order:
            best[name] = max(best[name], await echo_rate(f"{base}/{name}", count, window))
    print(f"uvicorn echo, {count} messages in flights of {window}, best of {rounds} rounds")
    print(f"{'app':<18} {'messages/s':>11}")
    print(f"{'raw ASGI':<18} {best['raw']:>11.0f}")
    print(f"{'simple_websocket':<18} {best['ours']:>11.0f}")
    print(f"ours / raw: {best['ours'] / best['raw']:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--server", default="uvicorn-websockets")
    args = parser.parse_args()
    with running(args.server, "bench.echo_apps:app") as url:
        asyncio.run(main(url, args.messages, args.rounds, args.window))
