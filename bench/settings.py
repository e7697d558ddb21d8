"""Settings for `make bench`: the production shape of the code (DEBUG off, no debug cursor) on the local
PostgreSQL named by DATABASE_URL, background jobs in-process so no worker is needed."""

import os

os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# Persistent connections, as .env.example configures production.
os.environ.setdefault("DB_CONN_MAX_AGE", "60")

from config.settings.base import *  # noqa: E402,F403

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False  # the load test logs in through session cookies made by the harness
MEDIA_ROOT = VAR_DIR / "bench-media"  # noqa: F405
