"""Tests: PostgreSQL and Redis when they answer (required with REQUIRE_SERVICES=1), else SQLite + eager."""

import os
import socket
import sys

from django.core.exceptions import ImproperlyConfigured


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"
POSTGRES_UP = bool(os.environ.get("DATABASE_URL")) or _answers("127.0.0.1", 5432)
REDIS_UP = bool(os.environ.get("REDIS_URL")) or _answers("127.0.0.1", 6379)

if not POSTGRES_UP or not REDIS_UP:
    missing = [name for name, up in (("PostgreSQL", POSTGRES_UP), ("Redis", REDIS_UP)) if not up]
    if REQUIRE_SERVICES:
        raise ImproperlyConfigured(f"REQUIRE_SERVICES=1 but {', '.join(missing)} not reachable")
    print(
        f"\n*** WARNING: {', '.join(missing)} not reachable: falling back to SQLite / eager jobs ***\n",
        file=sys.stderr,
    )

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ptdv" if POSTGRES_UP else "sqlite:///:memory:"
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# Most tests run jobs eagerly; tests of the worker start a real one and switch this off.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from config.settings.base import *  # noqa: E402,F403

SERVICES_AVAILABLE = POSTGRES_UP and REDIS_UP
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
WHITENOISE_AUTOREFRESH = True
AXES_ENABLED = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
