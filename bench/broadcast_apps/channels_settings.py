"""Django settings for the Channels contender: a channel layer on Redis, nothing else."""

from __future__ import annotations

from . import redis_url

SECRET_KEY = "bench-only-not-a-secret"  # a benchmark; never reuse a published key
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["channels"]
ROOT_URLCONF = "bench.broadcast_apps.channels_settings"  # no HTTP views
ASGI_APPLICATION = "bench.broadcast_apps.channels_app.application"
USE_TZ = True
# channels_redis' defaults (capacity 100 messages per channel, expiry 60 s), as users run it, with one
# fix: redis-py 8 reads with a 5 s socket_timeout by default, no longer than the layer's blocking
# BZPOPMIN (brpop_timeout = 5 s), so a consumer waiting that long for a message dies with
# redis.exceptions.TimeoutError and its connection with it (django/channels_redis#422). None, redis-py
# 7's default, is the workaround given there.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [{"address": redis_url(), "socket_timeout": None}]},
    }
}

urlpatterns: list[object] = []
