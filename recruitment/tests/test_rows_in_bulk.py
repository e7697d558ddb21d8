"""`candidates_create_from_rows` (the import's bulk path) must leave exactly what `candidate_apply_row` leaves,
row for row: the same fields, due dates, versions, Transitions and refusals, in a few queries."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditLog
from members.models import Person
from recruitment import services
from recruitment.models import Candidate, Stage, Transition
from recruitment.services import DuplicateCCCD, NewRow, RuleRefusal

pytestmark = pytest.mark.django_db

D = dt.date
DECISION = D(2025, 6, 16)

PERSON = {"full_name": "Nguyễn Thị Thử", "birth_date": D(1998, 5, 17), "gender": "nu", "ethnicity": "Kinh",
          "religion": "Không", "education": "dai_hoc", "is_youth_union_member": True,
          "occupation_group": "vien_chuc", "nominating_org": "doan_tn"}


def admitted(decider, **extra) -> dict:
    milestones = {
        "source_date": DECISION - dt.timedelta(days=400), "sympathiser_date": DECISION - dt.timedelta(days=300),
        "certificate_number": "CN-1", "certificate_date": DECISION - dt.timedelta(days=200),
        "branch_resolution_date": DECISION - dt.timedelta(days=28), "branch_votes_for": 9,
        "branch_members_summoned": 10, "base_resolution_date": DECISION - dt.timedelta(days=14),
        "base_votes_for": 7, "base_committee_members": 9, "decision_number": "1-QĐ/TU", "decision_date": DECISION,
        "deciding_org": decider,
    }
    milestones.update(extra)
    return milestones


def shapes(world) -> list[tuple[dict, dict, object]]:
    """(person overrides, milestones, branch): every way a row can end."""
    recognised = admitted(world.city, ceremony_date=D(2024, 6, 26), decision_date=D(2024, 6, 16),
                          branch_resolution_date=D(2024, 5, 20), base_resolution_date=D(2024, 6, 3),
                          certificate_date=D(2024, 1, 10), sympathiser_date=D(2023, 10, 1),
                          source_date=D(2023, 6, 1), recognition_decision_number="9-QĐ/TU",
                          recognition_date=D(2025, 6, 26))
    school = admitted(world.city)
    for key in ("base_resolution_date", "base_votes_for", "base_committee_members"):
        school.pop(key)
    return [
        ({}, {"source_date": D(2025, 3, 1)}, world.branch),
        ({"gender": "nam"}, {"source_date": D(2025, 1, 5), "sympathiser_date": D(2025, 2, 10)}, world.branch),
        ({}, admitted(world.city), world.branch),
        ({}, admitted(world.city, ceremony_date=DECISION + dt.timedelta(days=10)), world.sibling),
        ({}, recognised, world.branch),
        ({"occupation_group": "hoc_sinh_sinh_vien"}, school, world.school),
        ({}, {"source_date": D(2024, 3, 1), "sympathiser_date": D(2024, 4, 1), "exit_date": D(2024, 9, 1),
              "exit_reason": "Chuyển công tác"}, world.branch),
        ({}, admitted(world.city, ceremony_date=DECISION + dt.timedelta(days=70)), world.branch),  # late: a warning
    ]


def fields_of(candidate: Candidate) -> dict:
    skip = {"id", "person", "updated_at"}
    return {f.attname: getattr(candidate, f.attname) for f in Candidate._meta.concrete_fields if f.name not in skip}


def person_fields(person: Person) -> dict:
    skip = {"id", "code", "cccd", "updated_at"}
    return {f.attname: getattr(person, f.attname) for f in Person._meta.concrete_fields if f.name not in skip}


def transitions_of(candidate: Candidate) -> list[tuple]:
    return list(Transition.objects.filter(candidate=candidate).order_by("pk").values_list(
        "from_stage", "to_stage", "effective_date", "org_id", "org_lineage", "actor_id", "verdicts", "data", "source"))


def test_bulk_rows_leave_what_the_row_by_row_service_leaves(world):
    rows = shapes(world)
    one_by_one = []
    for i, (person, milestones, branch) in enumerate(rows):
        data = dict(PERSON, **person, code=f"A-{i}", cccd=f"03000000{i:04d}")
        candidate, verdicts = services.candidate_apply_row(person_data=data, milestones=dict(milestones),
                                                           branch=branch, actor=world.personas["board_city"])
        one_by_one.append((candidate, [v.as_json() for v in verdicts]))
    outcomes = services.candidates_create_from_rows(
        rows=[NewRow(person_data=dict(PERSON, **person, code=f"B-{i}", cccd=f"04000000{i:04d}"),
                     milestones=dict(milestones), branch=branch) for i, (person, milestones, branch) in enumerate(rows)],
        actor=world.personas["board_city"])

    assert [o.error for o in outcomes] == [None] * len(rows)
    assert {c.stage for c, _ in one_by_one} >= {Stage.OUTSTANDING, Stage.ADMITTED, Stage.FULL_MEMBER, Stage.REMOVED}
    for i, ((expected, verdicts), outcome) in enumerate(zip(one_by_one, outcomes, strict=True)):
        expected.refresh_from_db()
        got = Candidate.objects.select_related("person").get(person__code=f"B-{i}")
        assert fields_of(got) == fields_of(expected), i
        assert person_fields(got.person) == person_fields(expected.person), i
        assert got.person.name_folded == "nguyen thi thu"
        assert transitions_of(got) == transitions_of(expected), i
        assert [v.as_json() for v in outcome.verdicts] == verdicts, i
    assert any(not v.ok for v in outcomes[-1].verdicts)  # the late-ceremony warning travels back to the importer


def test_bulk_rows_refuse_what_the_service_refuses_and_write_only_the_rest(world):
    taken = services.candidate_create(person_data=dict(PERSON, code="OLD-1", cccd="050000000001"),
                                      branch=world.branch, actor=None)
    rows = [
        NewRow(dict(PERSON, code="N-1", cccd="050000000002"), admitted(world.city, branch_votes_for=5), world.branch),
        NewRow(dict(PERSON, code="N-2", cccd="050000000001"), {}, world.branch),  # CCCD of OLD-1
        NewRow(dict(PERSON, code="OLD-1", cccd=None), {}, world.branch),  # code taken
        NewRow(dict(PERSON, code="N-4", cccd="050000000004"), {}, world.base),  # not a branch
        NewRow(dict(PERSON, code="N-5", cccd="050000000004"), {}, world.branch),  # same CCCD as row 4? row 4 failed
        NewRow(dict(PERSON, code="N-6", cccd="050000000005"), {}, world.branch),
        NewRow(dict(PERSON, code="N-7", cccd="050000000005"), {}, world.branch),  # same CCCD as N-6 in the sheet
        NewRow(dict(PERSON, code="N-8", cccd=None), admitted(world.other_city), world.branch),  # no authority
    ]
    outcomes = services.candidates_create_from_rows(rows=rows, actor=world.personas["board_city"])

    assert isinstance(outcomes[0].error, RuleRefusal) and outcomes[0].error.rule_ids == ["R-VOTE-BRANCH"]
    assert isinstance(outcomes[1].error, DuplicateCCCD) and "OLD-1" in outcomes[1].error.messages[0]
    assert "OLD-1 đã tồn tại" in outcomes[2].error.messages[0]
    assert "không phải là chi bộ" in outcomes[3].error.messages[0]
    assert outcomes[4].error is None and outcomes[5].error is None
    assert isinstance(outcomes[6].error, DuplicateCCCD) and "N-6" in outcomes[6].error.messages[0]
    assert isinstance(outcomes[7].error, RuleRefusal) and outcomes[7].error.rule_ids == ["R-AUTHORITY"]
    assert set(Person.objects.values_list("code", flat=True)) == {taken.person.code, "N-5", "N-6"}


def test_bulk_rows_outside_the_actors_subtree_are_refused(world):
    outcomes = services.candidates_create_from_rows(
        rows=[NewRow(dict(PERSON, code="X-1"), {}, world.other_branch)], actor=world.personas["staff_branch"])
    assert isinstance(outcomes[0].error, PermissionDenied)
    assert not Person.objects.filter(code="X-1").exists()


def test_bulk_rows_cost_a_few_queries_whatever_their_number(world):
    def run(prefix: str, n: int) -> int:
        rows = [NewRow(dict(PERSON, code=f"{prefix}-{i}", cccd=f"{len(prefix):02d}{i:010d}"), admitted(world.city),
                       world.branch) for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            outcomes = services.candidates_create_from_rows(rows=rows, actor=world.personas["board_city"])
        assert all(o.error is None for o in outcomes)
        return len(queries)

    assert run("Q", 3) == run("QQ", 60)
    assert Candidate.history.filter(person__code__startswith="QQ-").count() == 60  # one version per record
    log = AuditLog.objects.filter(action="candidate.create_many").order_by("-pk").first()
    assert log.detail["created"] == 60 and log.detail["by_stage"] == {Stage.ADMITTED: 60}
