"""Two users recording the same step at the same moment: the row lock plus the version make one of them win."""

import datetime as dt
import threading

import pytest
from django.db import connection

from recruitment import services
from recruitment.models import Candidate, Stage, Transition
from tests.factories import CandidateFactory, PersonFactory

D = dt.date


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks (SELECT ... FOR UPDATE); CI requires PostgreSQL (REQUIRE_SERVICES=1), so this runs there")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("versions", [(1, None), (None, None)])
def test_admission_recorded_by_two_users_at_once_is_written_once(world, versions):
    person = PersonFactory(branch=world.branch)
    candidate = CandidateFactory(
        person=person, org=world.branch, stage=Stage.BASE_RESOLUTION, source_date=D(2025, 1, 10),
        branch_resolution_date=D(2025, 5, 6), base_resolution_date=D(2025, 5, 15),
    )
    board = world.persona("board_city")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def record(number: str, expected_version):
        try:
            barrier.wait(timeout=10)
            services.candidate_advance(
                candidate=Candidate(pk=candidate.pk), to_stage=Stage.ADMITTED, actor=board,
                expected_version=expected_version,
                data={"decision_date": D(2025, 6, 16), "decision_number": number, "deciding_org": world.city})
            outcomes.append("saved")
        except services.StaleEdit:
            outcomes.append("stale")
        except services.RuleRefusal as refusal:
            outcomes.append("+".join(refusal.rule_ids))
        finally:
            connection.close()

    # With the version each user loaded, or without one (the importer): either way only one admission; without
    # versions the loser waits for the row lock and then finds the stage already past (R-ORDER).
    threads = [threading.Thread(target=record, args=(f"12{i}-QĐ/TU", version)) for i, version in enumerate(versions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("saved") == 1, outcomes
    assert set(outcomes) - {"saved"} <= ({"stale", "R-ORDER"} if versions[0] else {"R-ORDER"})
    assert Transition.objects.filter(candidate_id=candidate.pk, to_stage=Stage.ADMITTED).count() == 1
    assert Candidate.objects.get(pk=candidate.pk).version == 2
