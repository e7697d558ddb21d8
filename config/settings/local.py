"""`make run`: embedded SQLite under var/, background jobs in-process."""

import os

os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("DEBUG", "1")

from config.settings.base import *  # noqa: E402,F403
