import datetime as dt

import pytest

from recruitment.models import PIPELINE, Stage
from recruitment.selectors import (
    ListFilters,
    board_columns,
    branch_choices,
    candidate_list,
    candidates_visible,
    due_filter,
    due_groups,
    exit_choices,
    get_candidate_of_person_for_user,
    next_stage,
)
from tests.factories import CandidateFactory, PersonFactory

TODAY = dt.date(2026, 3, 2)


def _candidate(org, *, name="Nguyễn Văn An", stage=Stage.OUTSTANDING, **fields):
    person = PersonFactory(branch=org, full_name=name)
    return CandidateFactory(person=person, org=org, stage=stage, **fields)


@pytest.mark.django_db
class TestListFilters:
    def test_search_ignores_diacritics_and_finds_d_with_stroke(self, world):
        staff = world.persona("staff_branch")
        an = _candidate(world.branch, name="Nguyễn Văn An")
        duc = _candidate(world.branch, name="Trần Đức Bình")
        names = lambda q: {c.pk for c in candidate_list(staff, ListFilters(q=q))}  # noqa: E731
        assert names("nguyen") == {an.pk}
        assert names("duc") == {duc.pk}
        assert names("Đức") == {duc.pk}
        assert names("d") == {duc.pk}  # "đ" folds to "d"; "Nguyễn Văn An" has no d

    def test_list_stays_inside_the_subtree(self, world):
        mine = _candidate(world.branch)
        _candidate(world.sibling)
        _candidate(world.other_branch)
        assert {c.pk for c in candidate_list(world.persona("staff_branch"), ListFilters())} == {mine.pk}
        assert len(candidate_list(world.persona("board_city"), ListFilters())) == 2

    def test_node_filter_takes_the_whole_subtree_of_the_node(self, world):
        a = _candidate(world.branch)
        b = _candidate(world.sibling)
        _candidate(world.school)
        board = world.persona("board_city")
        assert {c.pk for c in candidate_list(board, ListFilters(org=world.base))} == {a.pk, b.pk}

    def test_stage_gender_and_group_filters(self, world):
        board = world.persona("board_city")
        target = _candidate(world.branch, stage=Stage.SYMPATHISER, sympathiser_date=dt.date(2025, 3, 1))
        target.person.gender = "nam"
        target.person.occupation_group = "cong_nhan"
        target.person.save()
        _candidate(world.branch, stage=Stage.SYMPATHISER, sympathiser_date=dt.date(2025, 3, 1))
        _candidate(world.branch)
        found = candidate_list(board, ListFilters(stage=Stage.SYMPATHISER, gender="nam", occupation_group="cong_nhan"))
        assert [c.pk for c in found] == [target.pk]

    def test_due_and_overdue_filters_read_the_stored_due_dates(self, world):
        board = world.persona("board_city")
        overdue = _candidate(world.branch, stage=Stage.ADMITTED, ceremony_due=TODAY - dt.timedelta(days=3))
        soon = _candidate(world.branch, stage=Stage.ADMITTED, ceremony_due=TODAY + dt.timedelta(days=10))
        _candidate(world.branch, stage=Stage.ADMITTED, ceremony_due=TODAY + dt.timedelta(days=100))
        # A ceremony deadline left behind once the person moved on is not open any more.
        _candidate(world.branch, stage=Stage.PROBATIONARY, ceremony_due=TODAY - dt.timedelta(days=3))
        due = {c.pk for c in candidate_list(board, ListFilters(due="due"), today=TODAY)}
        late = {c.pk for c in candidate_list(board, ListFilters(due="overdue"), today=TODAY)}
        assert due == {overdue.pk, soon.pk}
        assert late == {overdue.pk}
        assert set(candidates_visible(board).filter(due_filter(TODAY)).values_list("pk", flat=True)) == due


@pytest.mark.django_db
class TestDueGroups:
    def test_groups_sort_by_due_date_and_probation_end_is_never_late(self, world):
        board = world.persona("board_city")
        late = _candidate(world.branch, name="Lê Thị Muộn", stage=Stage.BRANCH_RESOLUTION,
                          decision_due=TODAY - dt.timedelta(days=5))
        early = _candidate(world.branch, name="Lê Thị Sớm", stage=Stage.BRANCH_RESOLUTION,
                           decision_due=TODAY + dt.timedelta(days=5))
        _candidate(world.branch, stage=Stage.PROBATIONARY, probation_end=TODAY - dt.timedelta(days=1))
        ending = _candidate(world.branch, stage=Stage.PROBATIONARY, probation_end=TODAY + dt.timedelta(days=7))
        cert = _candidate(world.branch, stage=Stage.DOSSIER, certificate_expiry=TODAY + dt.timedelta(days=80))
        groups = {g.key: g for g in due_groups(candidates_visible(board), today=TODAY)}
        assert [i.candidate.pk for i in groups["decision"].items] == [late.pk, early.pk]
        assert groups["decision"].items[0].deadline.overdue
        assert groups["decision"].items[0].days_overdue == 5
        assert not groups["decision"].items[1].deadline.overdue
        assert [i.candidate.pk for i in groups["probation_end"].items] == [ending.pk]
        assert [i.candidate.pk for i in groups["certificate"].items] == [cert.pk]


@pytest.mark.django_db
class TestSteps:
    def test_chi_bo_co_so_skips_the_base_committee_step(self, world):
        in_school = _candidate(world.school, stage=Stage.BRANCH_RESOLUTION)
        in_branch = _candidate(world.branch, stage=Stage.BRANCH_RESOLUTION)
        assert next_stage(in_school) == Stage.ADMITTED
        assert next_stage(in_branch) == Stage.BASE_RESOLUTION

    def test_full_member_and_exits_have_no_next_step(self, world):
        assert next_stage(_candidate(world.branch, stage=Stage.FULL_MEMBER)) is None
        assert next_stage(_candidate(world.branch, stage=Stage.REMOVED)) is None

    def test_only_a_probationary_member_can_be_struck_off(self, world):
        assert [s for s, _ in exit_choices(_candidate(world.branch, stage=Stage.PROBATIONARY))] == [Stage.STRUCK_OFF]
        sympathiser = [s for s, _ in exit_choices(_candidate(world.branch, stage=Stage.SYMPATHISER))]
        assert sympathiser == [Stage.REMOVED]
        assert exit_choices(_candidate(world.branch, stage=Stage.FULL_MEMBER)) == []


@pytest.mark.django_db
class TestBoardAndScope:
    def test_board_counts_every_stage_and_caps_the_cards(self, world, monkeypatch):
        import recruitment.selectors as selectors

        monkeypatch.setattr(selectors, "BOARD_CARDS_PER_STAGE", 2)
        for i in range(3):
            _candidate(world.branch, name=f"Người {i}", stage=Stage.SYMPATHISER)
        _candidate(world.sibling, stage=Stage.DOSSIER)
        _candidate(world.other_branch, stage=Stage.DOSSIER)
        _candidate(world.branch, stage=Stage.REMOVED)
        columns = {c.stage: c for c in board_columns(world.persona("board_city"), world.city)}
        assert list(columns) == list(PIPELINE)
        assert columns[Stage.SYMPATHISER].count == 3
        assert len(columns[Stage.SYMPATHISER].cards) == 2
        assert columns[Stage.DOSSIER].count == 1
        assert sum(c.count for c in columns.values()) == 4

    def test_board_of_a_node_counts_only_its_subtree(self, world):
        _candidate(world.branch, stage=Stage.SYMPATHISER)
        _candidate(world.sibling, stage=Stage.SYMPATHISER)
        columns = {c.stage: c for c in board_columns(world.persona("board_city"), world.branch)}
        assert columns[Stage.SYMPATHISER].count == 1

    def test_person_of_a_sibling_branch_is_404(self, world):
        from django.http import Http404

        other = _candidate(world.sibling)
        with pytest.raises(Http404):
            get_candidate_of_person_for_user(world.persona("staff_branch"), other.person_id)
        assert get_candidate_of_person_for_user(world.persona("board_city"), other.person_id).pk == other.pk

    def test_branch_choices_are_branches_and_chi_bo_co_so_of_the_subtree(self, world):
        codes = set(branch_choices(world.persona("board_city")).values_list("code", flat=True))
        assert codes == {"T.C.A.1", "T.C.A.2", "T.C.B"}
        assert set(branch_choices(world.persona("staff_branch")).values_list("code", flat=True)) == {"T.C.A.1"}


@pytest.mark.django_db
class TestStepper:
    def test_chi_bo_co_so_shows_the_base_step_as_skipped(self, world):
        from recruitment.selectors import stepper

        states = [state for _, _, state in stepper(_candidate(world.school, stage=Stage.ADMITTED))]
        assert states == ["done"] * 5 + ["skipped", "current", "todo", "todo"]

    def test_an_exit_marks_what_was_reached(self, world):
        from recruitment.selectors import stepper

        candidate = _candidate(world.branch, stage=Stage.REMOVED, sympathiser_date=dt.date(2025, 3, 1),
                               exit_date=dt.date(2025, 6, 1))
        states = [state for _, _, state in stepper(candidate)]
        assert states == ["done", "done"] + ["left"] * 7
