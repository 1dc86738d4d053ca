"""``python -m examples.chat [port] [--workers N] [--redis URL | --redis-cluster URL] [--metrics]``.

It serves the chat on 127.0.0.1 until Ctrl-C.

The port comes from the argument, else the PORT environment variable, else 8000. One process
keeps the room in memory. With ``--redis``, the room lives in that Redis server, so every worker
(``--workers``) and every other process started with the same URL serves the same room. With
``--redis-cluster`` (any node of a Redis Cluster; processes may name different nodes), the room
lives in that cluster instead. With ``--metrics`` (or CHAT_METRICS=1), ``GET /metrics`` answers
Prometheus with the metrics of every worker (through a temporary directory they share, removed on
exit: see metrics.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

import uvicorn

from . import metrics


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.chat", description="Serve the chat demo on 127.0.0.1.")
    parser.add_argument(
        "port",
        nargs="?",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="TCP port (default: $PORT or 8000)",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (more than one needs --redis)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("CHAT_REDIS_URL"),
        help="share the room through this Redis server, e.g. redis://127.0.0.1:6379/0",
    )
    where.add_argument(
        "--redis-cluster",
        metavar="URL",
        default=os.environ.get("CHAT_REDIS_CLUSTER_URL"),
        help="share the room through this Redis Cluster (any of its nodes), e.g. redis://127.0.0.1:7000",
    )
    parser.add_argument(
        "--metrics",
        action="store_true",
        default=os.environ.get(metrics.ENABLE_ENV, "") not in ("", "0"),
        help="serve Prometheus metrics on GET /metrics (default: on if $CHAT_METRICS is set)",
    )
    arguments = parser.parse_args()
    if arguments.workers < 1:
        parser.error("--workers must be at least 1")
    redis = arguments.redis or arguments.redis_cluster
    if arguments.workers > 1 and not redis:
        parser.error("several workers share one room only through Redis: add --redis redis://127.0.0.1:6379/0")
    if arguments.redis:  # read by each worker when it starts
        os.environ["CHAT_REDIS_URL"] = arguments.redis
    elif arguments.redis_cluster:
        os.environ["CHAT_REDIS_CLUSTER_URL"] = arguments.redis_cluster
    directory = None
    if arguments.metrics:
        os.environ[metrics.ENABLE_ENV] = "1"
        if arguments.workers > 1:  # where the workers share their metrics, for a scrape of any of them
            directory = tempfile.mkdtemp(prefix="chat-metrics-")
            os.environ[metrics.DIRECTORY_ENV] = directory
    port: int = arguments.port
    shared = f", room in {redis}" if redis else ""
    workers = f", {arguments.workers} workers" if arguments.workers > 1 else ""
    measured = f", metrics on http://127.0.0.1:{port}/metrics" if arguments.metrics else ""
    print(f"chat demo on http://127.0.0.1:{port} (Ctrl-C stops it){workers}{shared}{measured}", flush=True)
    try:
        uvicorn.run(
            "examples.chat.app:app", host="127.0.0.1", port=port, workers=arguments.workers, log_level="warning"
        )
    finally:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
    print("stopped", flush=True)


main()
