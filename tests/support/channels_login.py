"""A Django database with one logged-in user, for the Channels example's session tests.

``python -m tests.support.channels_login`` (with ``CHANNELS_LOGIN_DB`` naming the SQLite file)
migrates the database, logs "ann" in and prints her session id. The server process then runs the
example with ``DJANGO_SETTINGS_MODULE=tests.support.channels_login`` so that it reads the same
database.
"""

from __future__ import annotations

import os

from examples.frameworks.channels_settings import *  # noqa: F403  # the example's settings, another database

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("CHANNELS_LOGIN_DB", "")}}


def main() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = __name__.replace("__main__", "tests.support.channels_login")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    client = Client()
    client.force_login(User.objects.create_user("ann", password="not-a-real-password"))
    print(client.cookies["sessionid"].value)


if __name__ == "__main__":
    main()
