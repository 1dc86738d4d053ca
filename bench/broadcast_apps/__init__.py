"""The competitors of bench/broadcast.py: one room's messages fanned out through Redis, each app written
the way its own documentation shows. Each reads the Redis URL from ``FANOUT_REDIS_URL``, as
``examples.fanout`` does, and serves ``/rooms/<name>``.
"""

from __future__ import annotations

import os

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """The Redis server the app's processes share."""
    return os.environ.get("FANOUT_REDIS_URL", DEFAULT_REDIS_URL)
