import datetime as dt

import pytest

from members.models import Education, Introducer
from recruitment import rules
from recruitment.models import Stage
from recruitment.rules import (
    add_months,
    age_in_months,
    check_age_max,
    check_age_min,
    check_authority,
    check_ceremony_due,
    check_cert_valid,
    check_decision_due,
    check_dossier_stale,
    check_edu,
    check_introducer,
    check_order,
    check_probation,
    check_recognition_due,
    check_vote_base,
    check_vote_branch,
    evaluate,
    regime_on,
)
from tests.factories import CandidateFactory, PersonFactory

D = dt.date


def intro(name="Nguyễn Văn An", official=True, months=12, kind=Introducer.Kind.MEMBER, on=D(2024, 3, 1)):
    return {"name": name, "is_official_member": official, "months_known": months, "kind": kind, "introduced_on": on}


class TestAge:
    def test_age_counts_whole_months_from_the_birth_month(self):
        assert age_in_months(D(2006, 5, 31), D(2024, 5, 1)) == 216
        assert age_in_months(D(2006, 5, 1), D(2024, 4, 30)) == 215

    def test_17_years_11_months_is_refused_with_rule_id(self):
        verdict = check_age_min(birth_date=D(2006, 5, 31), on=D(2024, 4, 30))
        assert not verdict.ok and verdict.severity == "error"
        assert verdict.message.startswith("R-AGE-MIN")
        assert "17 tuổi 11 tháng" in verdict.message

    def test_18_years_0_months_is_accepted_on_any_day_of_the_birth_month(self):
        assert check_age_min(birth_date=D(2006, 5, 31), on=D(2024, 5, 1)).ok
        assert check_age_min(birth_date=D(2006, 5, 1), on=D(2024, 5, 31)).ok

    def test_60_throughout_the_birth_month_over_60_from_the_next(self):
        assert check_age_max(birth_date=D(1964, 5, 1), on=D(2024, 5, 31), at_decision=True,
                             decision_date=D(2024, 7, 1)).ok
        over = check_age_max(birth_date=D(1964, 5, 31), on=D(2024, 6, 1), at_decision=True,
                             decision_date=D(2024, 7, 1))
        assert not over.ok and over.severity == "error" and "R-AGE-MAX" in over.message

    def test_over_60_at_branch_step_without_approval_only_warns(self):
        verdict = check_age_max(birth_date=D(1964, 5, 31), on=D(2024, 6, 1))
        assert not verdict.ok and verdict.severity == "warning"

    def test_over_60_needs_provincial_approval_dated_before_the_decision(self):
        kwargs = dict(birth_date=D(1960, 1, 1), on=D(2024, 6, 1), decision_date=D(2024, 7, 10), at_decision=True)
        assert check_age_max(approval_date=D(2024, 7, 9), **kwargs).ok
        same_day = check_age_max(approval_date=D(2024, 7, 10), **kwargs)
        assert not same_day.ok and same_day.severity == "error"
        assert not check_age_max(approval_date=None, **kwargs).ok


class TestEducation:
    def test_lower_secondary_passes_primary_refused_unless_exception(self):
        assert check_edu(education=Education.LOWER_SECONDARY, disadvantaged_exception=False).ok
        refused = check_edu(education=Education.PRIMARY, disadvantaged_exception=False)
        assert not refused.ok and refused.message.startswith("R-EDU")
        assert check_edu(education=Education.PRIMARY, disadvantaged_exception=True).ok


class TestCertificate:
    def test_valid_on_its_60th_month_day_and_refused_the_day_after(self):
        assert check_cert_valid(certificate_date=D(2020, 3, 15), on=D(2025, 3, 15)).ok
        refused = check_cert_valid(certificate_date=D(2020, 3, 15), on=D(2025, 3, 16))
        assert not refused.ok and "R-CERT-VALID" in refused.message and "15/03/2025" in refused.message

    def test_leap_day_certificate_expires_on_the_last_day_of_february(self):
        assert add_months(D(2020, 2, 29), 60) == D(2025, 2, 28)
        assert check_cert_valid(certificate_date=D(2020, 2, 29), on=D(2025, 2, 28)).ok
        assert not check_cert_valid(certificate_date=D(2020, 2, 29), on=D(2025, 3, 1)).ok

    def test_missing_certificate_is_refused(self):
        assert not check_cert_valid(certificate_date=None, on=D(2025, 3, 1)).ok


class TestVotes:
    def test_exactly_two_thirds_accepted_one_fewer_refused(self):
        assert check_vote_branch(votes_for=6, summoned=9, on=D(2025, 3, 1)).ok
        refused = check_vote_branch(votes_for=5, summoned=9, on=D(2025, 3, 1))
        assert not refused.ok and refused.message.startswith("R-VOTE-BRANCH")

    def test_two_thirds_rounds_up_for_uneven_counts(self):
        assert check_vote_branch(votes_for=7, summoned=10, on=D(2025, 3, 1)).ok
        assert not check_vote_branch(votes_for=6, summoned=10, on=D(2025, 3, 1)).ok

    def test_more_votes_than_members_is_refused(self):
        assert not check_vote_branch(votes_for=10, summoned=9, on=D(2025, 3, 1)).ok

    def test_base_committee_two_thirds(self):
        assert check_vote_base(votes_for=10, members=15, on=D(2025, 3, 1)).ok
        refused = check_vote_base(votes_for=9, members=15, on=D(2025, 3, 1))
        assert not refused.ok and refused.message.startswith("R-VOTE-BASE")


class TestIntroducers:
    on = D(2024, 6, 1)

    def test_two_official_members_of_12_months_accepted(self):
        assert check_introducer(introducers=[intro(), intro("Trần Thị Bình")], on=self.on).ok

    def test_probationary_introducer_is_refused(self):
        verdict = check_introducer(introducers=[intro(), intro("Lê Văn Cường", official=False)], on=self.on)
        assert not verdict.ok and "R-INTRODUCER" in verdict.message and "Lê Văn Cường" in verdict.message
        assert "dự bị" in verdict.message

    def test_introducer_known_11_months_refused_12_accepted(self):
        assert not check_introducer(introducers=[intro(), intro("Bình", months=11)], on=self.on).ok
        assert check_introducer(introducers=[intro(), intro("Bình", months=12)], on=self.on).ok

    def test_one_member_plus_union_resolution_accepted(self):
        union = intro("Đoàn TNCS Hồ Chí Minh phường", kind=Introducer.Kind.UNION_RESOLUTION)
        assert check_introducer(introducers=[intro(), union], on=self.on).ok

    def test_one_member_alone_refused(self):
        assert not check_introducer(introducers=[intro()], on=self.on).ok

    def test_introductions_and_opinions_older_than_12_months_must_be_redone(self):
        fresh = [intro(on=D(2023, 6, 1))]
        assert check_dossier_stale(introducers=fresh, opinions_date=D(2023, 6, 1), on=D(2024, 6, 1)).ok
        stale = check_dossier_stale(introducers=[intro(on=D(2023, 5, 31))], opinions_date=D(2024, 1, 1),
                                    on=D(2024, 6, 1))
        assert not stale.ok and stale.message.startswith("R-DOSSIER-STALE")
        assert not check_dossier_stale(introducers=fresh, opinions_date=D(2023, 5, 31), on=D(2024, 6, 1)).ok


@pytest.mark.django_db
class TestAuthority:
    def test_node_without_authority_refused(self, world):
        verdict = check_authority(deciding_org=world.base, branch=world.branch, on=D(2025, 3, 1))
        assert not verdict.ok and verdict.message.startswith("R-AUTHORITY")

    def test_authority_above_the_branch_accepted(self, world):
        assert check_authority(deciding_org=world.city, branch=world.branch, on=D(2025, 3, 1)).ok
        assert check_authority(deciding_org=world.province, branch=world.branch, on=D(2025, 3, 1)).ok

    def test_authority_not_above_the_branch_refused(self, world):
        assert not check_authority(deciding_org=world.other_city, branch=world.branch, on=D(2025, 3, 1)).ok


@pytest.mark.django_db
class TestDeadlines:
    def test_decision_after_60_working_days_warns_but_never_refuses(self):
        resolution = D(2025, 1, 2)
        on_time = check_decision_due(resolution_date=resolution, decision_date=D(2025, 3, 31))
        late = check_decision_due(resolution_date=resolution, decision_date=D(2025, 4, 30))
        assert on_time.ok
        assert not late.ok and late.severity == "warning" and not late.refuses

    def test_extension_moves_the_decision_deadline(self):
        resolution = D(2025, 1, 2)
        due = rules.decision_due_date(resolution)
        assert not check_decision_due(resolution_date=resolution, decision_date=due + dt.timedelta(days=1)).ok
        assert check_decision_due(resolution_date=resolution, decision_date=due + dt.timedelta(days=1),
                                  extended_days=30).ok

    def test_ceremony_due_30_working_days_across_tet(self):
        # Decision 2/1/2025; 30 working days skip the Tết block: due 20/2/2025.
        assert check_ceremony_due(decision_date=D(2025, 1, 2), ceremony_date=D(2025, 2, 20)).ok
        late = check_ceremony_due(decision_date=D(2025, 1, 2), ceremony_date=D(2025, 2, 21))
        assert not late.ok and late.severity == "warning"

    def test_probation_ends_12_months_after_ceremony(self):
        assert rules.probation_end(D(2025, 3, 10)) == D(2026, 3, 10)
        early = check_probation(ceremony_date=D(2025, 3, 10), consideration_date=D(2026, 3, 9))
        assert not early.ok and early.severity == "error" and early.message.startswith("R-PROBATION")
        assert check_probation(ceremony_date=D(2025, 3, 10), consideration_date=D(2026, 3, 10)).ok

    def test_recognition_consideration_within_30_working_days(self):
        end = D(2026, 1, 5)
        due = rules.recognition_due_date(end)
        assert check_recognition_due(probation_end_date=end, consideration_date=due).ok
        assert not check_recognition_due(probation_end_date=end, consideration_date=due + dt.timedelta(days=1)).ok


class TestOrder:
    def test_skipping_a_stage_refused(self):
        verdict = check_order(from_stage=Stage.SYMPATHISER, to_stage=Stage.DOSSIER, skips_base=False,
                              step_dates=[("application_date", D(2025, 3, 1))], previous=None, today=D(2026, 1, 1))
        assert not verdict.ok and verdict.message.startswith("R-ORDER")

    def test_date_before_previous_milestone_refused(self):
        verdict = check_order(from_stage=Stage.OUTSTANDING, to_stage=Stage.SYMPATHISER, skips_base=False,
                              step_dates=[("sympathiser_date", D(2025, 1, 9))],
                              previous=("source_date", D(2025, 1, 10)), today=D(2026, 1, 1))
        assert not verdict.ok and "10/01/2025" in verdict.message

    def test_same_day_accepted_future_refused(self):
        kwargs = dict(from_stage=Stage.OUTSTANDING, to_stage=Stage.SYMPATHISER, skips_base=False,
                      previous=("source_date", D(2025, 1, 10)), today=D(2026, 1, 1))
        assert check_order(step_dates=[("sympathiser_date", D(2025, 1, 10))], **kwargs).ok
        assert not check_order(step_dates=[("sympathiser_date", D(2026, 1, 2))], **kwargs).ok

    def test_chi_bo_co_so_has_no_base_resolution(self):
        kwargs = dict(from_stage=Stage.BRANCH_RESOLUTION, previous=None, today=D(2026, 1, 1))
        assert not check_order(to_stage=Stage.BASE_RESOLUTION, skips_base=True,
                               step_dates=[("base_resolution_date", D(2025, 5, 1))], **kwargs).ok
        assert check_order(to_stage=Stage.ADMITTED, skips_base=True,
                           step_dates=[("decision_date", D(2025, 5, 1))], **kwargs).ok
        assert not check_order(to_stage=Stage.ADMITTED, skips_base=False,
                               step_dates=[("decision_date", D(2025, 5, 1))], **kwargs).ok

    def test_struck_off_only_after_admission(self):
        kwargs = dict(to_stage=Stage.STRUCK_OFF, skips_base=False, step_dates=[("exit_date", D(2025, 5, 1))],
                      previous=None, today=D(2026, 1, 1))
        assert not check_order(from_stage=Stage.DOSSIER, **kwargs).ok
        assert check_order(from_stage=Stage.PROBATIONARY, **kwargs).ok


class TestRegimes:
    def test_regime_changes_on_1_july_2025(self):
        assert "232-QĐ/TW" in regime_on(D(2025, 6, 30)).regulation
        assert "294-QĐ/TW" in regime_on(D(2025, 7, 1)).regulation
        assert "24-QĐ/TW" in regime_on(D(2023, 1, 1)).regulation

    def test_source_names_the_regime_in_force_on_the_step_date(self):
        before = check_age_min(birth_date=D(2000, 1, 1), on=D(2025, 6, 30))
        after = check_age_min(birth_date=D(2000, 1, 1), on=D(2025, 7, 1))
        assert "232-QĐ/TW" in before.source and "294-QĐ/TW" in after.source
        assert "Điều lệ Đảng" in after.source


@pytest.mark.django_db
class TestEvaluate:
    def _candidate(self, org, **fields):
        person = PersonFactory(branch=org, birth_date=fields.pop("birth_date", D(1998, 5, 17)))
        return CandidateFactory(person=person, org=org, **fields)

    def test_branch_resolution_runs_every_rule_of_the_step(self, world):
        candidate = self._candidate(
            world.branch, stage=Stage.DOSSIER, source_date=D(2024, 1, 5), sympathiser_date=D(2024, 2, 1),
            certificate_date=D(2024, 3, 1), certificate_number="CN-1", application_date=D(2024, 4, 1),
            personal_history_date=D(2024, 4, 1), opinions_date=D(2024, 5, 1),
        )
        data = {"branch_resolution_date": D(2024, 6, 1), "branch_votes_for": 6, "branch_members_summoned": 9,
                "introducers": [intro(on=D(2024, 5, 1)), intro("Trần Thị Bình", on=D(2024, 5, 1))]}
        verdicts = evaluate(candidate=candidate, person=candidate.person, to_stage=Stage.BRANCH_RESOLUTION,
                            data=data, today=D(2026, 1, 1))
        ids = [v.rule_id for v in verdicts]
        assert ids == ["R-ORDER", "R-AGE-MIN", "R-AGE-MAX", "R-CERT-VALID", "R-INTRODUCER", "R-DOSSIER-STALE",
                       "R-VOTE-BRANCH"]
        assert all(v.ok for v in verdicts), [v.message for v in verdicts if not v.ok]
        data["branch_votes_for"] = 5
        failing = rules.refusals(evaluate(candidate=candidate, person=candidate.person,
                                          to_stage=Stage.BRANCH_RESOLUTION, data=data, today=D(2026, 1, 1)))
        assert [v.rule_id for v in failing] == ["R-VOTE-BRANCH"]

    def test_partial_mode_skips_rules_a_sheet_cannot_carry(self, world):
        candidate = self._candidate(world.branch, stage=Stage.DOSSIER, certificate_date=D(2024, 3, 1))
        verdicts = evaluate(candidate=candidate, person=candidate.person, to_stage=Stage.BRANCH_RESOLUTION,
                            data={"branch_resolution_date": D(2024, 6, 1), "branch_votes_for": 3,
                                  "branch_members_summoned": 3}, today=D(2026, 1, 1), partial=True)
        assert "R-INTRODUCER" not in {v.rule_id for v in verdicts}
        assert "R-DOSSIER-STALE" not in {v.rule_id for v in verdicts}

    def test_decision_rules(self, world):
        candidate = self._candidate(world.branch, stage=Stage.BASE_RESOLUTION, branch_resolution_date=D(2025, 1, 2),
                                    base_resolution_date=D(2025, 1, 10))
        verdicts = evaluate(candidate=candidate, person=candidate.person, to_stage=Stage.ADMITTED,
                            data={"decision_date": D(2025, 2, 10), "decision_number": "123-QĐ/TU",
                                  "deciding_org": world.base}, today=D(2026, 1, 1))
        assert [v.rule_id for v in rules.refusals(verdicts)] == ["R-AUTHORITY"]
        assert {v.rule_id for v in verdicts} == {"R-ORDER", "R-AGE-MAX", "R-AUTHORITY", "R-DECISION-DUE"}


def test_recognition_before_probation_ends_is_refused_even_without_dates():
    # An imported row may carry only the recognition decision's number: the end of probation must have passed.
    refused = check_probation(ceremony_date=D(2026, 6, 1), consideration_date=None, today=D(2026, 11, 29))
    assert not refused.ok and "01/06/2027" in refused.message
    assert check_probation(ceremony_date=D(2025, 6, 1), consideration_date=None, today=D(2026, 11, 29)).ok
