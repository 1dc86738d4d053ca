"""The server's cost of one broadcast, counted in one process: for ``icount`` and for a profile.

    ../shared/tools/icount -a 100 -b 500 -- python -m bench.server_cost examples.fanout:app {n}
    python -m bench.server_cost examples.fanout:app 2000 --profile out.prof

This process serves the ASGI app ``MODULE:ATTR`` with uvicorn and its defaults (uvloop, httptools
and websockets' sans-I/O implementation when they are installed) and nothing else; a redis-server and a client
process (``--subscribers`` WebSocket subscribers of one room, 100 by default, and one publisher) run
beside it as children, which callgrind does not follow. The publisher sends ``n`` JSON messages as
fast as the server takes them and the process exits once every subscriber has all ``n``: with
``icount``, (count(n2) - count(n1)) / (n2 - n1) is the server's instructions per message, start-up
and connections cancelled out; divide by the subscribers for one delivery.

The app reads its Redis URL from the environment variables ``FANOUT_REDIS_URL`` and
``BROADCAST_REDIS_URL``, both set here; its WebSocket path is ``/rooms/<name>``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import socket
import subprocess
import sys
import time
import uuid

from bench.fanout import redis_server

#: Upper bound for one run, at callgrind's speed.
RUN_LIMIT = 900.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", help="the ASGI app as MODULE:ATTR")
    parser.add_argument("messages", type=int)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--profile", metavar="PATH", help="write a cProfile profile of the server to PATH")
    parser.add_argument("--client", metavar="PORT", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--room", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client is not None:
        import uvloop

        uvloop.run(run_clients(args.client, args.room, args.subscribers, args.messages))
        return
    redis, url, directory = redis_server()
    try:
        os.environ["FANOUT_REDIS_URL"] = os.environ["BROADCAST_REDIS_URL"] = url
        profile = cProfile.Profile() if args.profile else None
        import uvloop

        uvloop.run(serve(args.app, args.subscribers, args.messages, profile))
        if profile is not None:
            profile.dump_stats(args.profile)
    finally:
        redis.terminate()
        redis.wait(10)
        directory.cleanup()


async def serve(app: str, subscribers: int, messages: int, profile: cProfile.Profile | None) -> None:
    """Serve ``app`` until the client process has every message, then shut down."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")  # uvicorn's defaults
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.server_cost",
        "-",
        str(messages),
        "--subscribers",
        str(subscribers),
        "--client",
        str(port),
        "--room",
        uuid.uuid4().hex,
        stdout=subprocess.PIPE,
    )
    assert client.stdout is not None
    try:
        ready = await asyncio.wait_for(client.stdout.readline(), RUN_LIMIT)
        if ready.strip() != b"ready":
            raise SystemExit(f"the clients did not start: {ready!r}")
        if profile is not None:
            profile.enable()
        before = os.times()
        report = await asyncio.wait_for(client.stdout.readline(), RUN_LIMIT)
        after = os.times()
        if profile is not None:
            profile.disable()
        figures = json.loads(report)
        figures["server user s"] = round(after.user - before.user, 2)
        figures["server system s"] = round(after.system - before.system, 2)
        print(json.dumps(figures), file=sys.stderr)
    finally:
        try:
            await asyncio.wait_for(client.wait(), 30)  # it closes its connections first
        except TimeoutError:
            client.terminate()
            await asyncio.wait_for(client.wait(), 30)
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


async def run_clients(port: int, room: str, subscribers: int, messages: int) -> None:
    """Connect the subscribers, say "ready", publish, and report once every subscriber has every message."""
    from websockets.asyncio.client import ClientConnection, connect

    url = f"ws://127.0.0.1:{port}/rooms/{room}"
    # The first one alone: broadcaster keeps only one of several first subscriptions made at once
    # (each replaces the channel's set of queues), which callgrind's slowness makes likely.
    sockets = [await connect(url, max_size=None)]
    await asyncio.sleep(2.0)
    sockets += [await connect(url, max_size=None) for _ in range(subscribers - 1)]
    publisher = await connect(url)
    await asyncio.sleep(1.0)  # every subscription established
    print("ready", flush=True)
    started = time.monotonic()

    async def receive_all(ws: ClientConnection) -> int:
        got = 0
        async for text in ws:
            got += 1
            if json.loads(text)["n"] == messages - 1:
                break
        return got

    async def publish() -> None:
        for number in range(messages):
            await publisher.send(json.dumps({"n": number}))

    receiving = [asyncio.create_task(receive_all(ws)) for ws in sockets]
    echo = asyncio.create_task(receive_all(publisher))  # the room's messages reach their sender too
    await publish()
    counts = await asyncio.wait_for(asyncio.gather(*receiving), RUN_LIMIT)
    elapsed = time.monotonic() - started
    await asyncio.wait_for(echo, RUN_LIMIT)
    print(json.dumps({"deliveries": sum(counts), "seconds": round(elapsed, 3)}), flush=True)
    await asyncio.gather(*(ws.close() for ws in [*sockets, publisher]))


if __name__ == "__main__":
    main()
