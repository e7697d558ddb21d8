import time

import pytest
from django.conf import settings

from core import health
from core.tasks import heartbeat


@pytest.fixture
def clean_heartbeats():
    client = health._redis()
    keys = [health._KEY.format(queue=q) for q in health.QUEUES]
    client.delete(*keys)
    yield client
    client.delete(*keys)


@pytest.mark.django_db
def test_it_reports_503_when_no_worker_ever_answered(client, clean_heartbeats):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["worker:celery"] == "stale"
    assert body["workers"]["documents"]["age_seconds"] is None


@pytest.mark.django_db
def test_it_is_healthy_once_a_worker_of_each_queue_ran_the_heartbeat(client, clean_heartbeats):
    heartbeat.delay(queue="celery")  # eager in tests: the same code a worker runs
    heartbeat.delay(queue="documents")
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["workers"]["celery"]["age_seconds"] < 5
    assert response["Cache-Control"].startswith("no-store") or "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_reports_a_stale_worker_after_the_maximum_age(client, clean_heartbeats):
    old = time.time() - settings.HEARTBEAT_MAX_AGE - 5
    health.record_heartbeat(queue="celery", at=old)
    health.record_heartbeat(queue="documents", at=time.time())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker:celery"] == "stale"
    assert response.json()["checks"]["worker:documents"] == "ok"


@pytest.mark.django_db
def test_it_reports_redis_down_without_crashing(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")
    assert response.json()["checks"]["database"] == "ok"


def test_beat_schedules_a_heartbeat_on_each_queue():
    schedule = settings.CELERY_BEAT_SCHEDULE
    queues = {entry["options"]["queue"] for entry in schedule.values() if entry["task"] == "core.tasks.heartbeat"}
    assert queues == set(health.QUEUES)
