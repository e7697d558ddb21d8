"""Against PostgreSQL and Redis with a REAL Celery worker (threads pool, in this process):
concurrent recomputes end with the same table, and a pipeline change reaches the dashboard after the worker
runs, without the page ever waiting for it."""

import datetime as dt
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.db import connection, transaction

from config.celery_app import app as celery_app
from orgs.models import OrgYearStat
from quotas.models import Attainment, AttainmentPending
from quotas.services import (
    attainment_process_pending_now,
    attainment_recompute,
    attainment_schedule_recompute,
    quota_set,
)
from quotas.tasks import attainment_recompute_year
from quotas.tests.synthetic import add_candidates
from recruitment.models import Candidate, Stage
from tests.factories import PersonFactory

pytestmark = pytest.mark.skipif(
    not getattr(settings, "SERVICES_AVAILABLE", False) or connection.vendor != "postgresql",
    reason="needs PostgreSQL and Redis (make test says so loudly when it falls back)",
)

FIELDS = (
    "org_id",
    "year",
    "members_start",
    "quota",
    "allocated_to_children",
    "admitted",
    "recognized",
    "sources",
    "by_group",
)


def snapshot(year: int) -> list[tuple]:
    return [
        tuple(row[f] if f != "by_group" else repr(sorted(row[f].items())) for f in FIELDS)
        for row in Attainment.objects.filter(year=year).order_by("org_id").values(*FIELDS)
    ]


class Finished:
    """Counts tasks the worker finished (task_postrun fires in the worker's thread, in this process)."""

    def __init__(self):
        self.names: list[str] = []
        self.cond = threading.Condition()

    def __call__(self, sender=None, task=None, **kwargs):
        with self.cond:
            self.names.append(task.name)
            self.cond.notify_all()

    def wait_for(self, n: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.names) < n:
                left = deadline - time.monotonic()
                assert left > 0, f"worker finished {len(self.names)} of {n} tasks: {self.names}"
                self.cond.wait(left)


@pytest.fixture
def worker(transactional_db, settings):
    # Read before the settings change: the app's conf reads through to Django's settings, so reading it after
    # would "restore" False and leave every later test's jobs queued for a worker that is gone.
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = settings.REDIS_URL
    celery_app.control.purge()
    # The purge dropped any run the fixtures' writes queued; do their work here so no pending row is orphaned.
    attainment_process_pending_now()
    finished = Finished()
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(celery_app, pool="threads", concurrency=3, perform_ping_check=False, shutdown_timeout=30):
            yield finished
    finally:
        task_postrun.disconnect(finished)
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = previous


def test_two_concurrent_recomputes_in_a_real_worker_give_the_same_table(world, worker):
    add_candidates(world.province, count=400, seed=5, years=range(2024, 2026), prefix="CONC")
    OrgYearStat.objects.create(org=world.branch, year=2025, members_start=31)
    quota_set(org=world.city, year=2025, admission_quota=12, source_quota=20)
    # Start from a wrong table so that a run that wrote nothing could not pass.
    attainment_recompute(year=2025)
    Attainment.objects.filter(year=2025).update(admitted=999, by_group={})

    attainment_recompute_year.delay(year=2025)
    attainment_recompute_year.delay(year=2025)
    # And a third one from here, at the same time, outside the worker.
    attainment_recompute(year=2025)
    worker.wait_for(2)
    concurrent = snapshot(2025)

    Attainment.objects.filter(year=2025).delete()
    attainment_recompute(year=2025)
    assert concurrent == snapshot(2025)
    assert Attainment.objects.get(org=world.province, year=2025).admitted > 50
    assert not Attainment.objects.filter(admitted=999).exists()


def test_a_pipeline_change_shows_on_the_dashboard_after_the_worker_runs(world, worker, client_for):
    year = dt.date.today().year
    attainment_recompute(year=year)
    client = client_for(world.persona("board_city"))
    url = f"/chi-tieu/to-chuc/{world.city.pk}/?year={year}"
    before = client.get(url)
    assert before.status_code == 200
    assert 'data-testid="own-admitted">0 ' in before.content.decode()

    with transaction.atomic():
        person = PersonFactory(branch=world.branch)
        Candidate.objects.create(
            person=person,
            org=world.branch,
            stage=Stage.ADMITTED,
            decision_date=dt.date(year, 1, 15),
            admitted_lineage=world.branch.lineage,
        )
        # What the pipeline service does on commit of every change (h1's services call this).
        attainment_schedule_recompute(lineage=world.branch.lineage, year=year)
    worker.wait_for(1)
    assert worker.names == ["quotas.attainment_process_pending"]
    assert not AttainmentPending.objects.exists()

    after = client.get(url).content.decode()
    assert 'data-testid="own-admitted">1 ' in after
    other = Attainment.objects.filter(org=world.other_city, year=year).values_list("admitted", flat=True)
    assert list(other) == [0]
