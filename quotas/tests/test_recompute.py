import datetime as dt

import pytest

from orgs.models import OrgYearStat
from quotas.models import Attainment, AttainmentPending
from quotas.services import attainment_recompute, attainment_schedule_recompute, quota_set
from recruitment.models import Candidate, Stage
from tests.factories import PersonFactory


def _world_rows(world, year):
    """Rows of the test world only: the session's demo province may sit in the same tables."""
    return Attainment.objects.filter(year=year, org__path__startswith=world.province.path).values_list(
        "org__code", "admitted"
    )


def _admit(world, branch, day, **person):
    p = PersonFactory(branch=branch, **person)
    return Candidate.objects.create(
        person=p,
        org=branch,
        stage=Stage.ADMITTED,
        decision_date=day,
        admitted_lineage=branch.lineage,
        sympathiser_date=day - dt.timedelta(days=300),
        sympathiser_lineage=branch.lineage,
    )


@pytest.mark.django_db(transaction=True)
def test_it_schedules_and_recomputes_only_the_lineage(world):
    _admit(world, world.branch, dt.date(2025, 3, 4), birth_date=dt.date(1990, 6, 1), ethnicity="Tày")
    attainment_schedule_recompute(lineage=world.branch.lineage, year=2025)
    assert not AttainmentPending.objects.exists()
    rows = dict(_world_rows(world, 2025))
    assert rows == {"T": 1, "T.C": 1, "T.C.A": 1, "T.C.A.1": 1}
    base = Attainment.objects.get(org=world.base, year=2025)
    assert base.by_group["age_band"] == {"31-35": 1}
    assert base.by_group["ethnic_minority"] == 1
    assert base.by_group["sector"] == {"khu_dan_cu": 1}


@pytest.mark.django_db
def test_it_recomputes_whole_year_with_members_and_quota(world):
    OrgYearStat.objects.create(org=world.branch, year=2025, members_start=40)
    OrgYearStat.objects.create(org=world.base, year=2025, members_start=10)
    quota_set(org=world.base, year=2025, admission_quota=3, source_quota=5, actor=None)
    quota_set(org=world.branch, year=2025, admission_quota=2, source_quota=3, actor=None)
    _admit(world, world.branch, dt.date(2025, 3, 4))
    _admit(world, world.sibling, dt.date(2024, 12, 31))
    attainment_recompute(year=2025)
    attainment_recompute(year=2025)
    base = Attainment.objects.get(org=world.base, year=2025)
    assert (base.members_start, base.quota, base.allocated_to_children, base.admitted, base.sources) == (50, 3, 2, 1, 0)
    assert Attainment.objects.get(org=world.sibling, year=2025).admitted == 0
    assert not Attainment.objects.filter(year=2024, org__code__startswith="T").exists()  # the demo may hold 2024


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_in_one_branch_queues_one_worker_run(world, monkeypatch):
    from quotas import tasks

    sent = []
    monkeypatch.setattr(tasks.attainment_process_pending, "delay", lambda: sent.append(1))
    for i in range(5):
        _admit(world, world.branch, dt.date(2025, 2, 1 + i))
        attainment_schedule_recompute(lineage=world.branch.lineage, year=2025)
    assert sent == [1]
    assert set(AttainmentPending.objects.values_list("org_id", "year")) == {
        (org.pk, 2025) for org in (world.province, world.city, world.base, world.branch)
    }
    # A change elsewhere adds only its new node; one more run is queued for it.
    _admit(world, world.other_branch, dt.date(2025, 3, 1))
    attainment_schedule_recompute(lineage=world.other_branch.lineage, year=2025)
    assert len(sent) == 2

    tasks.attainment_process_pending()
    assert not AttainmentPending.objects.exists()
    figures = dict(_world_rows(world, 2025))
    assert figures == {"T": 6, "T.C": 5, "T.C.A": 5, "T.C.A.1": 5, "T.O": 1, "T.O.X": 1, "T.O.X.1": 1}


@pytest.mark.django_db(transaction=True)
def test_a_claim_taken_while_a_change_arrives_is_queued_again(world, monkeypatch):
    from quotas import services, tasks

    sent = []
    monkeypatch.setattr(tasks.attainment_process_pending, "delay", lambda: sent.append(1))
    attainment_schedule_recompute(lineage=world.branch.lineage, year=2025)
    claimed = services.attainment_claim_pending()  # the worker took the rows and is computing...
    assert claimed == {2025: {world.province.pk, world.city.pk, world.base.pk, world.branch.pk}}
    attainment_schedule_recompute(lineage=world.branch.lineage, year=2025)  # ...when another change lands
    assert len(sent) == 2
    assert AttainmentPending.objects.count() == 4


@pytest.mark.django_db
def test_the_command_recomputes_one_subtree(world):
    from django.core.management import call_command

    _admit(world, world.branch, dt.date(2025, 3, 4))
    _admit(world, world.other_branch, dt.date(2025, 3, 4))
    call_command("recompute_attainment", "--year", "2025", "--org", "T.C", stdout=open("/dev/null", "w"))
    figures = dict(_world_rows(world, 2025))
    assert figures == {"T.C": 1, "T.C.A": 1, "T.C.A.1": 1, "T.C.A.2": 0, "T.C.B": 0}


@pytest.mark.django_db
def test_a_second_recompute_writes_nothing_and_a_change_rewrites_only_its_lineage(world):
    _admit(world, world.branch, dt.date(2025, 3, 4))
    assert attainment_recompute(year=2025, org=world.province) == 9  # every node of the world gets its row
    assert attainment_recompute(year=2025, org=world.province) == 0
    _admit(world, world.sibling, dt.date(2025, 6, 1))
    assert attainment_recompute(year=2025, org=world.province) == 4  # T, T.C, T.C.A and the sibling branch
    # A row changed behind the service's back is repaired by the next run.
    Attainment.objects.filter(org=world.city, year=2025).update(admitted=999)
    assert attainment_recompute(year=2025, org=world.province) == 1
    assert Attainment.objects.get(org=world.city, year=2025).admitted == 2


@pytest.mark.django_db(transaction=True)
def test_many_changes_in_one_transaction_register_one_commit_callback(world, monkeypatch):
    """An import of hundreds of rows in one transaction queues one recompute after commit, not one per row."""
    from django.db import connection, transaction

    from quotas import tasks

    sent = []
    monkeypatch.setattr(tasks.attainment_process_pending, "delay", lambda: sent.append(1))
    with transaction.atomic():
        for day in range(1, 29):
            attainment_schedule_recompute(lineage=world.branch.lineage, year=2025)
            attainment_schedule_recompute(lineage=world.other_branch.lineage, year=2024)
        assert len(connection.run_on_commit) == 1
        assert not AttainmentPending.objects.exists()
    assert sent == [1]
    assert AttainmentPending.objects.filter(year=2025).count() == 4
    assert AttainmentPending.objects.filter(year=2024).count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_does_not_swallow_the_next_ones_changes(world, monkeypatch):
    from django.db import transaction

    from quotas import tasks

    monkeypatch.setattr(tasks.attainment_process_pending, "delay", lambda: None)
    with pytest.raises(RuntimeError), transaction.atomic():
        attainment_schedule_recompute(lineage=world.branch.lineage, year=2025)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        attainment_schedule_recompute(lineage=world.other_branch.lineage, year=2025)
    assert set(AttainmentPending.objects.values_list("org_id", flat=True)) == {
        world.province.pk,
        world.other_city.pk,
        world.other_base.pk,
        world.other_branch.pk,
    }


def test_a_change_asks_for_a_new_run_when_a_pending_row_has_waited_too_long(world, django_capture_on_commit_callbacks):
    """A pending row normally means a run is queued; one left over from a lost run must not block later changes."""
    import datetime as dt

    from django.utils import timezone

    from quotas.models import AttainmentPending
    from quotas.services import PENDING_LOST_AFTER, _mark_pending

    year = dt.date.today().year
    AttainmentPending.objects.create(org_id=world.branch.pk, year=year)
    with django_capture_on_commit_callbacks(execute=False) as fresh:
        _mark_pending([world.branch.pk], year)
    assert fresh == []  # queued a moment ago: its run is on the way

    AttainmentPending.objects.update(queued_at=timezone.now() - PENDING_LOST_AFTER - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True) as lost:
        _mark_pending([world.branch.pk], year)
    assert len(lost) == 1  # a new run was asked for, and (eager here) it took the row
    assert not AttainmentPending.objects.exists()
