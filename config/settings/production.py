"""Production: everything from the environment (see .env.example), secure by default, JSON logs.

Fails at start-up, loudly, on a missing or weak secret, DEBUG on, or no database/hosts: a server that
starts is a server that is configured.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DEBUG, SECRET_KEY

if not os.environ.get("SECRET_KEY") or "insecure" in SECRET_KEY or "change-me" in SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters")
if len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be random (it has fewer than 5 distinct characters)")
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production")
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured("DATABASE_URL is required in production")
if not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured("REDIS_URL is required in production (Celery broker and worker heartbeats)")
if not os.environ.get("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production (comma-separated host names)")
if os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") not in ("", "0", "false", "no", "off"):
    raise ImproperlyConfigured("CELERY_TASK_ALWAYS_EAGER must be off in production: jobs run in the workers")

# Rotating the key: put the old one in SECRET_KEY_FALLBACKS until the sessions signed with it expired.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# TLS ends at the reverse proxy, which must set X-Forwarded-Proto (and strip it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)  # the audit log's client address, see core.audit
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container health checks speak plain HTTP inside the network
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_NAME = "__Host-csrftoken"

STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "core.storage.StaticStorage"},
}

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# One JSON object per line on stderr: the container runtime or journald collects it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "core.logformat.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.security": {"level": "INFO"},
        "celery": {"level": env_str("LOG_LEVEL", "INFO")},
    },
}
