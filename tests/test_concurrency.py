"""Concurrency on PostgreSQL with real transactions (not wrapped in a test transaction), threads at a barrier."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client

from members.models import Person
from quotas.models import Attainment
from quotas.services import attainment_recompute
from recruitment import services
from recruitment.models import Candidate, Stage
from tests.factories import CandidateFactory, PersonFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="*** needs PostgreSQL row locks and constraints; CI requires PostgreSQL (REQUIRE_SERVICES=1), so this runs there ***"),
    pytest.mark.django_db(transaction=True),
]

SUBMISSIONS = 20


def _run_at_once(workers: list, timeout: float = 60) -> None:
    threads = [threading.Thread(target=work) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"


def test_twenty_identical_add_person_submissions_create_one_record_and_no_server_error(world):
    staff = world.persona("staff_branch")
    form = {
        "full_name": "Trần Thị Đồng Thời",
        "birth_date": "17/05/1998",
        "gender": "nu",
        "cccd": "022198765432",
        "branch": str(world.branch.pk),
        "source_date": "10/01/2025",
        "nominating_org": "doan_tn",
        "occupation_group": "vien_chuc",
        "ethnicity": "Kinh",
        "religion": "Không",
        "education": "dai_hoc",
    }
    clients = []
    for _ in range(SUBMISSIONS):
        client = Client(raise_request_exception=False)
        client.force_login(staff)
        clients.append(client)
    barrier = threading.Barrier(SUBMISSIONS)
    statuses: list[int] = []

    def submit(client=None):
        try:
            barrier.wait(timeout=30)
            statuses.append(client.post("/ho-so/them/", form).status_code)
        finally:
            connection.close()

    _run_at_once([lambda c=c: submit(c) for c in clients])
    assert len(statuses) == SUBMISSIONS
    assert 500 not in statuses, statuses
    assert statuses.count(302) == 1, statuses
    assert set(statuses) <= {302, 409, 422}, statuses
    assert Person.objects.filter(cccd=form["cccd"]).count() == 1
    assert Candidate.objects.filter(person__cccd=form["cccd"]).count() == 1
    print(f"concurrent submissions: {SUBMISSIONS} -> 1 record; statuses {sorted(set(statuses))}, 0 server errors")


def _sources(org, year: int) -> int:
    """Independent count: sympathisers of `year` whose lineage snapshot passes through `org`."""
    return Candidate.objects.filter(sympathiser_date__year=year, sympathiser_lineage__contains=f"/{org.pk}/").count()


def test_recomputes_interleaved_with_pipeline_steps_end_consistent(world):
    year = 2025
    board = world.persona("board_city")
    branches = [world.branch, world.sibling]
    candidates = [
        CandidateFactory(person=PersonFactory(branch=branches[i % 2]), org=branches[i % 2], stage=Stage.OUTSTANDING,
                         source_date=dt.date(2025, 1, 10))
        for i in range(12)
    ]
    attainment_recompute(year=year)
    done = threading.Event()
    errors: list[BaseException] = []
    runs: list[int] = []

    def edit(batch):
        try:
            for day, candidate in enumerate(batch, start=1):
                services.candidate_advance(
                    candidate=Candidate(pk=candidate.pk), to_stage=Stage.SYMPATHISER, actor=board,
                    data={"sympathiser_date": dt.date(year, 3, day)},
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def recompute():
        try:
            while not done.is_set():
                attainment_recompute(year=year)
                runs.append(1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    editors = [threading.Thread(target=edit, args=(candidates[i::4],)) for i in range(4)]
    recomputers = [threading.Thread(target=recompute) for _ in range(2)]
    for thread in recomputers + editors:
        thread.start()
    for thread in editors:
        thread.join(timeout=60)
    done.set()
    for thread in recomputers:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(t.is_alive() for t in editors + recomputers), "a thread hung (deadlock?)"
    assert len(runs) >= 2, "the recomputes ran while the steps were being recorded"

    # No final recompute here: what the interleaving left behind must already be right.
    for org in (world.branch, world.sibling, world.base, world.city, world.province):
        stored = Attainment.objects.get(org=org, year=year).sources
        assert stored == _sources(org, year), f"{org.code}: stored {stored}, counted {_sources(org, year)}"
    assert Attainment.objects.get(org=world.base, year=year).sources == 12
    print(f"interleaved: 12 steps by 4 threads, {len(runs)} concurrent recomputes, stored == counted on 5 nodes")


@pytest.mark.parametrize("existing", [True, False], ids=["revise", "first-set"])
def test_two_boards_revising_the_same_quota_at_once_lose_nothing_silently(world, existing):
    from quotas.models import Quota, QuotaRevision
    from quotas.services import QuotaVersionConflict, quota_set

    year = 2026
    boards = [world.persona("board_city"), world.persona("board_city")]
    seen_version = 0
    if existing:
        seen_version = quota_set(org=world.base, year=year, admission_quota=5, source_quota=8, actor=boards[0],
                                 expected_version=0).version
    revisions_before = QuotaRevision.objects.filter(quota__org=world.base, quota__year=year).count()
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def revise(number: int):
        try:
            barrier.wait(timeout=10)
            quota_set(org=world.base, year=year, admission_quota=10 + number, source_quota=20 + number,
                      actor=boards[number], reason=f"điều chỉnh {number}", expected_version=seen_version)
            outcomes[number] = "saved"
        except QuotaVersionConflict as conflict:
            outcomes[number] = "conflict: " + str(conflict)
        finally:
            connection.close()

    _run_at_once([lambda n=n: revise(n) for n in (0, 1)])
    saved = [n for n, outcome in outcomes.items() if outcome == "saved"]
    assert len(outcomes) == 2 and len(saved) == 1, outcomes
    loser = outcomes[1 - saved[0]]
    assert loser.startswith("conflict: ") and len(loser) > len("conflict: "), "the loser is told, in words"
    quota = Quota.objects.get(org=world.base, year=year)
    assert (quota.admission_quota, quota.source_quota) == (10 + saved[0], 20 + saved[0])
    assert QuotaRevision.objects.filter(quota=quota).count() == revisions_before + 1
