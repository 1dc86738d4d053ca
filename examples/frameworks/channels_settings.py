"""Django settings for the Channels example: just what sessions and AuthMiddlewareStack need."""

from __future__ import annotations

SECRET_KEY = "example-only-not-a-secret"  # an example; never reuse a published key
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "examples.frameworks.channels_settings"  # no HTTP views: Django answers 404
ASGI_APPLICATION = "examples.frameworks.channels_app.application"
USE_TZ = True

urlpatterns: list[object] = []
