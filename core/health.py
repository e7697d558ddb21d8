"""What /healthz checks: the database, Redis, and that a worker of each queue answered recently."""

import time

import redis
from django.conf import settings
from django.db import connection

QUEUES = ("celery", "documents")
_KEY = "ptdv:heartbeat:{queue}"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def record_heartbeat(*, queue: str, at: float) -> None:
    # The key outlives several missed beats so /healthz can say how stale it is instead of "never".
    _redis().set(_KEY.format(queue=queue), repr(at), ex=max(settings.HEARTBEAT_MAX_AGE * 10, 3600))


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {exc.__class__.__name__}"
    return "ok"


def check_redis_and_workers() -> tuple[str, dict[str, dict]]:
    """Redis status, and for each queue the age of its last heartbeat (None if never seen)."""
    try:
        client = _redis()
        client.ping()
        raw = client.mget([_KEY.format(queue=q) for q in QUEUES])
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}", {q: {"status": "unknown", "age_seconds": None} for q in QUEUES}
    now = time.time()
    workers = {}
    for queue, value in zip(QUEUES, raw, strict=True):
        age = round(now - float(value), 1) if value is not None else None
        fresh = age is not None and age <= settings.HEARTBEAT_MAX_AGE
        workers[queue] = {"status": "ok" if fresh else "stale", "age_seconds": age}
    return "ok", workers


def health() -> tuple[bool, dict]:
    redis_status, workers = check_redis_and_workers()
    checks = {"database": check_database(), "redis": redis_status}
    for queue, state in workers.items():
        checks[f"worker:{queue}"] = state["status"]
    healthy = all(value == "ok" for value in checks.values())
    return healthy, {"status": "ok" if healthy else "error", "checks": checks, "workers": workers}
