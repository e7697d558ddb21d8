import datetime as dt

import pytest
from django.urls import reverse

from recruitment import deadlines
from recruitment.deadlines import deadlines_for, due_soon_q, overdue_q
from recruitment.models import Candidate, Stage
from tests.factories import CandidateFactory, PersonFactory

D = dt.date


def make(world, **fields):
    candidate = CandidateFactory(person=PersonFactory(branch=world.branch), org=world.branch, **fields)
    for name, value in deadlines.due_fields(candidate).items():
        setattr(candidate, name, value)
    candidate.save()
    return candidate


@pytest.mark.django_db
class TestDeadlines:
    def test_decision_due_60_working_days_after_branch_resolution_across_tet(self, world):
        # From 2/1/2025: 16 working days in January before Tết (25/1-2/2 off), 20 in February,
        # 21 in March: 57; then 1, 2, 3/4.
        candidate = make(world, stage=Stage.BRANCH_RESOLUTION, branch_resolution_date=D(2025, 1, 2))
        [decision] = [d for d in deadlines_for(candidate, today=D(2025, 3, 1)) if d.kind == "decision"]
        assert decision.rule_id == "R-DECISION-DUE"
        assert decision.due == D(2025, 4, 3)
        assert not decision.done and not decision.overdue
        late = [d for d in deadlines_for(candidate, today=D(2025, 4, 4)) if d.kind == "decision"][0]
        assert late.overdue

    def test_extension_adds_up_to_30_working_days(self, world):
        candidate = make(world, stage=Stage.BRANCH_RESOLUTION, branch_resolution_date=D(2025, 1, 2),
                         decision_extended_days=30)
        # 30 more after 3/4/2025: 7/4 (Giỗ Tổ), 30/4, 1/5 and the 2/5 swap day are off -> 21/5/2025.
        assert candidate.decision_due == D(2025, 5, 21)

    def test_ceremony_probation_and_recognition(self, world):
        candidate = make(world, stage=Stage.PROBATIONARY, branch_resolution_date=D(2024, 11, 1),
                         decision_date=D(2025, 1, 2), ceremony_date=D(2025, 2, 20))
        by_kind = {d.kind: d for d in deadlines_for(candidate, today=D(2026, 4, 1))}
        assert by_kind["ceremony"].due == D(2025, 2, 20) and by_kind["ceremony"].done
        assert by_kind["probation_end"].due == D(2026, 2, 20) and not by_kind["probation_end"].overdue
        # 30 working days after 20/2/2026: 23/2 .. 3/4/2026 (no holiday in between)
        assert by_kind["recognition"].due == D(2026, 4, 3)
        assert not by_kind["recognition"].overdue
        assert {d.kind: d for d in deadlines_for(candidate, today=D(2026, 4, 6))}["recognition"].overdue

    def test_certificate_expiry_after_60_months(self, world):
        candidate = make(world, stage=Stage.DOSSIER, certificate_date=D(2021, 11, 30))
        cert = {d.kind: d for d in deadlines_for(candidate, today=D(2026, 11, 30))}["certificate"]
        assert cert.due == D(2026, 11, 30) and not cert.overdue
        assert {d.kind: d for d in deadlines_for(candidate, today=D(2026, 12, 1))}["certificate"].overdue

    def test_exited_records_are_never_overdue(self, world):
        candidate = make(world, stage=Stage.REMOVED, branch_resolution_date=D(2024, 1, 2), exit_date=D(2024, 2, 1))
        assert not any(d.overdue for d in deadlines_for(candidate, today=D(2026, 1, 1)))

    def test_sql_filters_match_the_stored_dates(self, world):
        overdue = make(world, stage=Stage.ADMITTED, branch_resolution_date=D(2026, 5, 4), decision_date=D(2026, 8, 3))
        soon = make(world, stage=Stage.BRANCH_RESOLUTION, branch_resolution_date=D(2026, 9, 14))
        later = make(world, stage=Stage.BRANCH_RESOLUTION, branch_resolution_date=D(2026, 11, 20))
        done = make(world, stage=Stage.PROBATIONARY, branch_resolution_date=D(2026, 5, 4),
                    decision_date=D(2026, 6, 1), ceremony_date=D(2026, 6, 15))
        today = D(2026, 11, 29)
        assert set(Candidate.objects.filter(overdue_q(today=today))) == {overdue}
        assert set(Candidate.objects.filter(due_soon_q(today=today, within_days=30))) == {overdue, soon}
        assert later.decision_due > today + dt.timedelta(days=30)
        assert done not in Candidate.objects.filter(due_soon_q(today=today, within_days=30))
        rows = deadlines.open_deadlines_of(overdue, today=today)
        assert [(d.kind, d.overdue) for d in rows] == [("ceremony", True)]


@pytest.mark.django_db
class TestRefresh:
    def test_holiday_correction_moves_open_due_dates(self, world, django_capture_on_commit_callbacks):
        from recruitment import services
        from recruitment.models import HolidayOverride

        candidate = make(world, stage=Stage.BRANCH_RESOLUTION, branch_resolution_date=D(2026, 9, 14))
        before = candidate.decision_due
        HolidayOverride.objects.create(date=D(2026, 10, 5), is_holiday=True, name="Nghỉ bù")
        assert services.deadlines_refresh() == 1
        candidate.refresh_from_db()
        assert candidate.decision_due == before + dt.timedelta(days=1 if before.weekday() < 4 else 3)
        assert services.deadlines_refresh() == 0

    def test_admin_saving_an_override_recomputes_in_the_background(self, world, admin_client,
                                                                   django_capture_on_commit_callbacks):
        candidate = make(world, stage=Stage.ADMITTED, decision_date=D(2026, 9, 14))
        before = candidate.ceremony_due
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(reverse("admin:recruitment_holidayoverride_add"),
                                         {"date": "15/09/2026", "is_holiday": "on", "name": "Nghỉ bù"})
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.ceremony_due > before


@pytest.mark.django_db
def test_deadlines_of_a_row_written_by_the_services_need_no_query(world, django_assert_num_queries):
    candidate = make(world, stage=Stage.PROBATIONARY, branch_resolution_date=D(2025, 11, 3),
                     decision_date=D(2025, 12, 1), ceremony_date=D(2025, 12, 15), certificate_date=D(2025, 3, 1))
    candidate = Candidate.objects.get(pk=candidate.pk)
    with django_assert_num_queries(0):
        kinds = [d.kind for d in deadlines_for(candidate, today=D(2026, 11, 29))]
    assert kinds == ["ceremony", "decision", "probation_end", "recognition", "certificate"]  # in order of due date


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["holidayoverride", "candidate", "awarenessclass"])
def test_admin_pages_render(world, admin_client, name):
    candidate = make(world, stage=Stage.DOSSIER, certificate_date=D(2025, 3, 1))
    assert admin_client.get(reverse(f"admin:recruitment_{name}_changelist")).status_code == 200
    if name == "candidate":
        page = admin_client.get(reverse("admin:recruitment_candidate_change", args=[candidate.pk]))
        assert page.status_code == 200
