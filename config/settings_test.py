"""Settings for the test suite: the real settings, with test-only secrets.

DATABASE_URL and REDIS_URL are honoured as in production, so CI runs the suite
against PostgreSQL and Redis, and a laptop without them runs it on SQLite.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SITE_URL", "https://paperboy.example")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files come from the apps (no collectstatic before tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
