import datetime as dt
import unicodedata

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from members.models import Introducer, Person
from recruitment import services
from recruitment.models import AwarenessClass, Candidate, ClassEnrolment, Stage, Transition
from recruitment.services import RuleRefusal, StaleEdit
from tests.factories import CandidateFactory, PersonFactory

D = dt.date

STEPS = [
    (Stage.SYMPATHISER, {"sympathiser_date": D(2025, 2, 10)}),
    (Stage.COURSE_DONE, {"certificate_date": D(2025, 3, 20), "certificate_number": "CN-001"}),
    (Stage.DOSSIER, {"application_date": D(2025, 4, 1), "personal_history_date": D(2025, 4, 1),
                     "personal_history_verified_date": D(2025, 4, 15), "opinions_date": D(2025, 4, 20)}),
    (Stage.BRANCH_RESOLUTION, {"branch_resolution_date": D(2025, 5, 6), "branch_votes_for": 8,
                               "branch_members_summoned": 10}),
    (Stage.BASE_RESOLUTION, {"base_resolution_date": D(2025, 5, 15), "base_votes_for": 9,
                             "base_committee_members": 11}),
    (Stage.ADMITTED, {"decision_date": D(2025, 6, 16), "decision_number": "125-QĐ/TU"}),
    (Stage.PROBATIONARY, {"ceremony_date": D(2025, 7, 1)}),
    (Stage.FULL_MEMBER, {"recognition_branch_resolution_date": D(2026, 7, 2), "recognition_votes_for": 9,
                         "recognition_members_summoned": 10, "recognition_decision_number": "301-QĐ/TU",
                         "recognition_decision_date": D(2026, 7, 20)}),
]


@pytest.fixture
def recompute_calls(monkeypatch):
    calls = []
    import quotas.services

    monkeypatch.setattr(quotas.services, "attainment_schedule_recompute",
                        lambda *, lineage, year: calls.append((lineage, year)))
    return calls


def add_introducers(person, actor=None, on=D(2025, 4, 10)):
    services.introducer_add(person=person, actor=actor, kind=Introducer.Kind.MEMBER, name="Nguyễn Văn An",
                            is_official_member=True, months_known=24, introduced_on=on)
    services.introducer_add(person=person, actor=actor, kind=Introducer.Kind.MEMBER, name="Trần Thị Bình",
                            is_official_member=True, months_known=14, introduced_on=on)


def walk(candidate, actor, until: str, *, deciding_org, skip_base=False):
    for stage, data in STEPS:
        if stage == Stage.BASE_RESOLUTION and skip_base:
            continue
        data = dict(data)
        if stage == Stage.ADMITTED:
            data["deciding_org"] = deciding_org
        candidate = services.candidate_advance(candidate=candidate, to_stage=stage, data=data, actor=actor,
                                               expected_version=candidate.version)
        if stage == until:
            break
    return candidate


@pytest.fixture
def staff(world):
    return world.persona("staff_branch")


@pytest.fixture
def candidate(world):
    person = PersonFactory(branch=world.branch, full_name="Phạm Thị Hoa")
    add_introducers(person)
    return CandidateFactory(person=person, org=world.branch, source_date=D(2025, 1, 10))


class TestCreate:
    def test_it_creates_person_and_candidate_on_the_outstanding_list(self, world, staff):
        decomposed = unicodedata.normalize("NFD", "Nguyễn  Thị Ánh")
        candidate = services.candidate_create(
            person_data={"full_name": decomposed, "birth_date": D(2000, 3, 4), "gender": "nu", "education": "dai_hoc",
                         "occupation_group": "vien_chuc", "cccd": "099 300 001 234", "ethnicity": "Tày",
                         "source_date": D(2026, 3, 1)},
            branch=world.branch, actor=staff)
        person = candidate.person
        assert person.full_name == "Nguyễn Thị Ánh" and unicodedata.is_normalized("NFC", person.full_name)
        assert person.cccd == "099300001234" and person.code.startswith("HS")
        assert candidate.stage == Stage.OUTSTANDING and candidate.org == world.branch
        assert candidate.source_date == D(2026, 3, 1)
        assert Transition.objects.filter(candidate=candidate, to_stage=Stage.OUTSTANDING).count() == 1

    def test_cccd_must_have_12_digits(self, world, staff):
        with pytest.raises(ValidationError, match="12 chữ số"):
            services.candidate_create(person_data={"full_name": "Lê Văn Tâm", "birth_date": D(2000, 1, 1),
                                                   "gender": "nam", "education": "thpt", "occupation_group": "khac",
                                                   "cccd": "12345"}, branch=world.branch, actor=staff)

    def _data(self, cccd):
        return {"full_name": "Lê Văn Tâm", "birth_date": D(2000, 1, 1), "gender": "nam", "education": "thpt",
                "occupation_group": "khac", "cccd": cccd}

    def test_duplicate_cccd_says_where_only_to_who_may_see_it(self, world, staff):
        PersonFactory(branch=world.sibling, cccd="099300009999", full_name="Đỗ Văn Hùng")
        board = world.persona("board_city")
        with pytest.raises(services.DuplicateCCCD) as seen:
            services.candidate_create(person_data=self._data("099300009999"), branch=world.branch, actor=board)
        assert "Đỗ Văn Hùng" in str(seen.value) and seen.value.existing is not None
        with pytest.raises(services.DuplicateCCCD) as hidden:
            services.candidate_create(person_data=self._data("099300009999"), branch=world.branch, actor=staff)
        assert "Đỗ Văn Hùng" not in str(hidden.value) and hidden.value.existing is None
        assert "ngoài phạm vi" in str(hidden.value)

    def test_staff_cannot_create_in_another_branch(self, world, staff):
        with pytest.raises(PermissionDenied):
            services.candidate_create(person_data=self._data(None), branch=world.sibling, actor=staff)

    def test_branch_must_be_a_chi_bo(self, world):
        with pytest.raises(ValidationError):
            services.candidate_create(person_data=self._data(None), branch=world.base,
                                      actor=world.persona("board_city"))


class TestAdvance:
    def test_walks_every_stage_to_full_member(self, world, staff, candidate, recompute_calls):
        candidate = walk(candidate, staff, Stage.FULL_MEMBER, deciding_org=world.city)
        candidate.refresh_from_db()
        assert candidate.stage == Stage.FULL_MEMBER
        assert candidate.sympathiser_lineage == world.branch.lineage
        assert candidate.admitted_lineage == world.branch.lineage
        assert candidate.recognized_lineage == world.branch.lineage
        # R-PROBATION: effective at the end of probation, not on the decision's day.
        assert candidate.recognition_date == D(2026, 7, 1)
        transitions = list(candidate.transitions.order_by("pk"))
        assert [t.to_stage for t in transitions] == [Stage.OUTSTANDING] * 0 + [s for s, _ in STEPS]
        assert transitions[5].effective_date == D(2025, 6, 16) and transitions[5].actor == staff
        assert transitions[5].data["deciding_org"]["code"] == "T.C"
        assert {v["rule_id"] for v in transitions[5].verdicts} >= {"R-AUTHORITY", "R-DECISION-DUE"}
        assert candidate.version == 1 + len(STEPS)
        assert (world.branch.lineage, 2025) in recompute_calls and (world.branch.lineage, 2026) in recompute_calls

    def test_due_dates_are_stored_for_sql_filters(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.ADMITTED, deciding_org=world.city)
        candidate.refresh_from_db()
        assert candidate.decision_due is not None and candidate.ceremony_due is not None
        assert candidate.certificate_expiry == D(2030, 3, 20)
        assert candidate.probation_end is None

    def test_refusal_writes_nothing(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.DOSSIER, deciding_org=world.city)
        before = (candidate.version, Transition.objects.count())
        with pytest.raises(RuleRefusal) as refused:
            services.candidate_advance(candidate=candidate, to_stage=Stage.BRANCH_RESOLUTION, actor=staff,
                                       data={"branch_resolution_date": D(2025, 5, 6), "branch_votes_for": 5,
                                             "branch_members_summoned": 9})
        assert refused.value.rule_ids == ["R-VOTE-BRANCH"] and "R-VOTE-BRANCH" in str(refused.value)
        candidate.refresh_from_db()
        assert candidate.stage == Stage.DOSSIER and candidate.branch_resolution_date is None
        assert (candidate.version, Transition.objects.count()) == before

    def test_probationary_introducer_refuses_the_branch_resolution(self, world, staff):
        person = PersonFactory(branch=world.branch)
        services.introducer_add(person=person, actor=staff, kind=Introducer.Kind.MEMBER, name="Vũ Văn Dũng",
                                is_official_member=False, months_known=24, introduced_on=D(2025, 4, 10))
        services.introducer_add(person=person, actor=staff, kind=Introducer.Kind.MEMBER, name="Hồ Thị Lan",
                                is_official_member=True, months_known=24, introduced_on=D(2025, 4, 10))
        candidate = CandidateFactory(person=person, org=world.branch)
        candidate = walk(candidate, staff, Stage.DOSSIER, deciding_org=world.city)
        with pytest.raises(RuleRefusal) as refused:
            walk_step(candidate, staff, Stage.BRANCH_RESOLUTION)
        assert refused.value.rule_ids == ["R-INTRODUCER"]

    def test_stale_version_is_refused_with_who_and_when(self, world, staff, candidate):
        services.candidate_advance(candidate=candidate, to_stage=Stage.SYMPATHISER, actor=staff,
                                   data={"sympathiser_date": D(2025, 2, 10)}, expected_version=1)
        with pytest.raises(StaleEdit) as stale:
            services.candidate_advance(candidate=candidate, to_stage=Stage.SYMPATHISER, actor=staff,
                                       data={"sympathiser_date": D(2025, 2, 11)}, expected_version=1)
        assert stale.value.changed_by == staff.get_full_name() and stale.value.changed_at is not None
        assert "tải lại" in str(stale.value)

    def test_admission_cannot_be_recorded_twice(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.ADMITTED, deciding_org=world.city)
        with pytest.raises(RuleRefusal) as twice:
            services.candidate_advance(candidate=candidate, to_stage=Stage.ADMITTED, actor=staff,
                                       data={"decision_date": D(2025, 6, 17), "decision_number": "126-QĐ/TU",
                                             "deciding_org": world.city})
        assert twice.value.rule_ids == ["R-ORDER"]
        assert Transition.objects.filter(candidate=candidate, to_stage=Stage.ADMITTED).count() == 1

    def test_decision_by_node_without_authority_refused(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.BASE_RESOLUTION, deciding_org=world.city)
        with pytest.raises(RuleRefusal) as refused:
            services.candidate_advance(candidate=candidate, to_stage=Stage.ADMITTED, actor=staff,
                                       data={"decision_date": D(2025, 6, 16), "decision_number": "1",
                                             "deciding_org": world.base})
        assert refused.value.rule_ids == ["R-AUTHORITY"]

    def test_chi_bo_co_so_skips_base_resolution(self, world):
        board = world.persona("board_city")
        person = PersonFactory(branch=world.school)
        add_introducers(person)
        candidate = CandidateFactory(person=person, org=world.school, source_date=D(2025, 1, 10))
        candidate = walk(candidate, board, Stage.BRANCH_RESOLUTION, deciding_org=world.city)
        with pytest.raises(RuleRefusal):
            walk_step(candidate, board, Stage.BASE_RESOLUTION)
        candidate = walk_step(candidate, board, Stage.ADMITTED, deciding_org=world.city)
        assert candidate.stage == Stage.ADMITTED and candidate.base_resolution_date is None

    def test_warnings_never_refuse_and_are_logged(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.ADMITTED, deciding_org=world.city)
        candidate = services.candidate_advance(candidate=candidate, to_stage=Stage.PROBATIONARY, actor=staff,
                                               data={"ceremony_date": D(2025, 9, 30)})
        verdict = next(v for v in candidate.transitions.last().verdicts if v["rule_id"] == "R-CEREMONY-DUE")
        assert verdict["ok"] is False and verdict["severity"] == "warning"


def walk_step(candidate, actor, stage, deciding_org=None):
    data = dict(dict(STEPS)[stage])
    if deciding_org is not None:
        data["deciding_org"] = deciding_org
    return services.candidate_advance(candidate=candidate, to_stage=stage, data=data, actor=actor)


class TestExit:
    def test_removed_from_list_keeps_milestones(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.SYMPATHISER, deciding_org=world.city)
        candidate = services.candidate_exit(candidate=candidate, to_stage=Stage.REMOVED, exit_date=D(2025, 8, 1),
                                            reason="Chuyển công tác ra ngoài tỉnh", actor=staff)
        assert candidate.stage == Stage.REMOVED and candidate.sympathiser_date == D(2025, 2, 10)
        assert candidate.transitions.last().to_stage == Stage.REMOVED

    def test_struck_off_only_for_admitted(self, world, staff, candidate):
        with pytest.raises(RuleRefusal):
            services.candidate_exit(candidate=candidate, to_stage=Stage.STRUCK_OFF, exit_date=D(2025, 8, 1),
                                    reason="x", actor=staff)
        candidate = walk(candidate, staff, Stage.PROBATIONARY, deciding_org=world.city)
        candidate = services.candidate_exit(candidate=candidate, to_stage=Stage.STRUCK_OFF, exit_date=D(2025, 12, 1),
                                            reason="Vi phạm tư cách đảng viên", actor=staff)
        assert candidate.stage == Stage.STRUCK_OFF and candidate.admitted_lineage  # still counted where admitted

    def test_exit_date_before_last_milestone_refused(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.SYMPATHISER, deciding_org=world.city)
        with pytest.raises(RuleRefusal) as refused:
            services.candidate_exit(candidate=candidate, to_stage=Stage.REMOVED, exit_date=D(2025, 2, 1),
                                    reason="x", actor=staff)
        assert refused.value.rule_ids == ["R-ORDER"]


class TestPersonUpdate:
    def test_stale_edit(self, world, staff, candidate):
        person = candidate.person
        services.person_update(person=person, data={"phone": "0912345678"}, actor=staff, expected_version=1)
        with pytest.raises(StaleEdit):
            services.person_update(person=person, data={"phone": "0987654321"}, actor=staff, expected_version=1)
        person.refresh_from_db()
        assert person.phone == "0912345678" and person.version == 2


ROW_PERSON = {"code": "T-IMP-0001", "full_name": "Hoàng Văn Sơn", "birth_date": D(1995, 8, 2), "gender": "nam",
              "ethnicity": "Dao", "religion": "Không", "cccd": "099095000111", "education": "thpt",
              "is_youth_union_member": True, "occupation_group": "cong_nhan"}
ROW_MILESTONES = {"source_date": D(2025, 1, 6), "sympathiser_date": D(2025, 2, 3), "certificate_number": "UB-25-01",
                  "certificate_date": D(2025, 3, 14), "branch_resolution_date": D(2025, 6, 2),
                  "branch_votes_for": 7, "branch_members_summoned": 9, "base_resolution_date": D(2025, 6, 10),
                  "base_votes_for": 8, "base_committee_members": 9, "decision_number": "88-QĐ/TU",
                  "decision_date": D(2025, 7, 15)}


class TestApplyRow:
    def test_row_walks_the_pipeline_and_reapplying_changes_nothing(self, world):
        board = world.persona("board_city")
        milestones = dict(ROW_MILESTONES, deciding_org=world.city)
        candidate, verdicts = services.candidate_apply_row(person_data=ROW_PERSON, milestones=milestones,
                                                           branch=world.branch, actor=board)
        assert candidate.stage == Stage.ADMITTED and candidate.decision_date == D(2025, 7, 15)
        assert "R-INTRODUCER" not in {v.rule_id for v in verdicts}
        assert {"R-AGE-MIN", "R-CERT-VALID", "R-VOTE-BRANCH", "R-AUTHORITY"} <= {v.rule_id for v in verdicts}
        assert all(t.source == "import" for t in candidate.transitions.all())
        missing = services.missing_documents(candidate)
        assert any("1-KNĐ" in m for m in missing) and any("3-KNĐ" in m for m in missing)
        counts = (Transition.objects.count(), Person.objects.get(code="T-IMP-0001").version, candidate.version)
        again, _ = services.candidate_apply_row(person_data=ROW_PERSON, milestones=milestones, branch=world.branch,
                                                actor=board)
        assert (Transition.objects.count(), again.person.version, again.version) == counts

    def test_row_refused_by_a_rule_writes_nothing(self, world):
        board = world.persona("board_city")
        milestones = dict(ROW_MILESTONES, deciding_org=world.city, branch_votes_for=5)
        with pytest.raises(RuleRefusal) as refused:
            services.candidate_apply_row(person_data=ROW_PERSON, milestones=milestones, branch=world.branch,
                                         actor=board)
        assert refused.value.rule_ids == ["R-VOTE-BRANCH"]
        assert not Person.objects.filter(code="T-IMP-0001").exists()

    def test_later_row_continues_the_record(self, world):
        board = world.persona("board_city")
        first = {k: v for k, v in ROW_MILESTONES.items() if k in ("source_date", "sympathiser_date")}
        candidate, _ = services.candidate_apply_row(person_data=ROW_PERSON, milestones=first, branch=world.branch,
                                                    actor=board)
        assert candidate.stage == Stage.SYMPATHISER
        full = dict(ROW_MILESTONES, deciding_org=world.city, ceremony_date=D(2025, 8, 1),
                    recognition_decision_number="12-QĐ/TU", recognition_date=D(2026, 8, 1))
        candidate, _ = services.candidate_apply_row(person_data=ROW_PERSON, milestones=full, branch=world.branch,
                                                    actor=board)
        assert candidate.stage == Stage.FULL_MEMBER and candidate.recognition_date == D(2026, 8, 1)

    def test_row_contradicting_recorded_history_is_refused(self, world):
        board = world.persona("board_city")
        services.candidate_apply_row(person_data=ROW_PERSON, milestones={"source_date": D(2025, 1, 6),
                                                                         "sympathiser_date": D(2025, 2, 3)},
                                     branch=world.branch, actor=board)
        with pytest.raises(RuleRefusal, match="R-ORDER"):
            services.candidate_apply_row(person_data=ROW_PERSON, milestones={"sympathiser_date": D(2025, 2, 4)},
                                         branch=world.branch, actor=board)

    def test_row_in_chi_bo_co_so_has_no_base_step(self, world):
        board = world.persona("board_city")
        milestones = {k: v for k, v in ROW_MILESTONES.items() if not k.startswith("base_")}
        candidate, _ = services.candidate_apply_row(person_data=ROW_PERSON, milestones=dict(milestones,
                                                    deciding_org=world.city), branch=world.school, actor=board)
        assert candidate.stage == Stage.ADMITTED

    def test_exit_in_row(self, world):
        board = world.persona("board_city")
        milestones = {"source_date": D(2025, 1, 6), "sympathiser_date": D(2025, 2, 3), "exit_date": D(2025, 5, 1),
                      "exit_reason": "Chuyển đi nơi khác"}
        candidate, _ = services.candidate_apply_row(person_data=ROW_PERSON, milestones=milestones,
                                                    branch=world.branch, actor=board)
        assert candidate.stage == Stage.REMOVED


class TestClasses:
    def test_open_enrol_and_record_results(self, world):
        trainer = world.persona("training_city")
        klass = services.class_open(code="T-2025-01", name="Lớp bồi dưỡng nhận thức về Đảng khóa 1/2025",
                                    organiser=world.city, start_date=D(2025, 3, 10), end_date=D(2025, 3, 14),
                                    place="Trung tâm Chính trị thành phố", actor=trainer)
        people = []
        for name in ("Bùi Văn Khánh", "Ngô Thị Mai", "Đặng Văn Long"):
            person = PersonFactory(branch=world.branch, full_name=name)
            people.append(CandidateFactory(person=person, org=world.branch, stage=Stage.SYMPATHISER,
                                           sympathiser_date=D(2025, 2, 1)))
        outsider = CandidateFactory(person=PersonFactory(branch=world.other_branch), org=world.other_branch,
                                    stage=Stage.SYMPATHISER, sympathiser_date=D(2025, 2, 1))
        with pytest.raises(ValidationError):
            services.class_enrol(awareness_class=klass, candidates=people + [outsider], actor=trainer)
        assert services.class_enrol(awareness_class=klass, candidates=people, actor=trainer) == 3
        assert services.class_enrol(awareness_class=klass, candidates=people, actor=trainer) == 0
        results = {people[0].pk: "dat", people[1].pk: "khong_dat", people[2].pk: "dat"}
        issued = services.class_record_results(awareness_class=klass, results=results, certificate_date=D(2025, 3, 14),
                                               number_prefix="T25-", actor=trainer)
        assert issued == 2
        passed = Candidate.objects.filter(awareness_class=klass).order_by("certificate_number")
        # sequential, in name order: Bùi before Đặng
        assert [(c.person.full_name, c.certificate_number) for c in passed] == [
            ("Bùi Văn Khánh", "T25-001"), ("Đặng Văn Long", "T25-002")]
        assert all(c.stage == Stage.COURSE_DONE for c in passed)
        failed = ClassEnrolment.objects.get(candidate=people[1])
        assert failed.result == "khong_dat" and not failed.certificate_number
        assert Candidate.objects.get(pk=people[1].pk).stage == Stage.SYMPATHISER
        assert AwarenessClass.objects.get(pk=klass.pk).enrolments.count() == 3


class TestApplyRowRecognition:
    def test_stated_recognition_date_must_be_the_end_of_probation(self, world):
        board = world.persona("board_city")
        row = dict(ROW_MILESTONES, deciding_org=world.city, ceremony_date=D(2025, 8, 1),
                   recognition_decision_number="12-QĐ/TU", recognition_date=D(2026, 8, 20))
        with pytest.raises(RuleRefusal) as refused:
            services.candidate_apply_row(person_data=ROW_PERSON, milestones=row, branch=world.branch, actor=board)
        assert refused.value.rule_ids == ["R-PROBATION"] and "01/08/2026" in str(refused.value)


class TestRecognitionAuthority:
    def test_recognition_decided_by_a_node_without_authority_is_refused(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.PROBATIONARY, deciding_org=world.city)
        data = dict(dict(STEPS)[Stage.FULL_MEMBER], recognition_deciding_org=world.base)
        with pytest.raises(RuleRefusal) as refused:
            services.candidate_advance(candidate=candidate, to_stage=Stage.FULL_MEMBER, data=data, actor=staff)
        assert refused.value.rule_ids == ["R-AUTHORITY"] and "công nhận" in str(refused.value)
        data["recognition_deciding_org"] = world.city
        candidate = services.candidate_advance(candidate=candidate, to_stage=Stage.FULL_MEMBER, data=data, actor=staff)
        assert candidate.recognition_deciding_org == world.city


class TestDecisionExtension:
    def test_extension_once_up_to_30_working_days_moves_the_due_date(self, world, staff, candidate):
        candidate = walk(candidate, staff, Stage.BRANCH_RESOLUTION, deciding_org=world.city)
        before = candidate.decision_due
        with pytest.raises(ValidationError):
            services.decision_extend(candidate=candidate, days=31, actor=staff)
        candidate = services.decision_extend(candidate=candidate, days=30, actor=staff,
                                             expected_version=candidate.version)
        assert candidate.decision_due > before and candidate.decision_extended_days == 30
        with pytest.raises(ValidationError, match="một lần"):
            services.decision_extend(candidate=candidate, days=5, actor=staff)
