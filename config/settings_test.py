"""Settings for the test suite: the real settings, with test-only secrets.

DATABASE_URL and REDIS_URL are honoured as in production, so CI runs the suite
against PostgreSQL and Redis, and a laptop without them runs it on SQLite; on
Redis the suite uses a database of its own (REDIS_TEST_DB, default 15).
"""

import os
from urllib.parse import urlsplit, urlunsplit


def _own_redis_database(url: str, database: str) -> str:
    """`url` on Redis database `database`: the suite clears its cache (FLUSHDB), which
    must never touch db 0 of a shared server, nor a deployment's."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


if os.environ.get("REDIS_URL"):
    # In the environment, so the worker processes the tests start use it too.
    os.environ["REDIS_URL"] = _own_redis_database(
        os.environ["REDIS_URL"], os.environ.get("REDIS_TEST_DB", "15")
    )
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SITE_URL", "https://paperboy.example")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files come from the apps (no collectstatic before tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
