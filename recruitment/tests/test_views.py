import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditLog
from members.models import Introducer, Person
from recruitment.models import AwarenessClass, Candidate, ClassEnrolment, Stage, Transition
from tests.factories import CandidateFactory, PersonFactory

D = dt.date


def _candidate(org, *, name=None, stage=Stage.OUTSTANDING, cccd=None, **fields) -> Candidate:
    extra = {"full_name": name} if name else {}
    if cccd:
        extra["cccd"] = cccd
    person = PersonFactory(branch=org, **extra)
    return CandidateFactory(person=person, org=org, stage=stage, **fields)


def _at_dossier(org) -> Candidate:
    """Someone whose dossier is complete: two official introducers, certificate, opinions."""
    candidate = _candidate(
        org, name="Phạm Thị Hồ Sơ", stage=Stage.DOSSIER, sympathiser_date=D(2025, 3, 1),
        certificate_date=D(2025, 6, 1), certificate_number="CN-NTVĐ/001", application_date=D(2026, 1, 5),
        personal_history_date=D(2026, 1, 10), opinions_date=D(2026, 2, 1),
    )
    for name in ("Nguyễn Văn Giới", "Trần Thị Thiệu"):
        Introducer.objects.create(person=candidate.person, name=name, is_official_member=True, months_known=24,
                                  introduced_on=D(2026, 1, 15))
    return candidate


def _step_post(candidate, to_stage, **fields):
    data = {"step-to_stage": to_stage, "step-version": candidate.version}
    data.update({f"step-{k}": v for k, v in fields.items()})
    return data


# ---------------------------------------------------------------- list


@pytest.mark.django_db
class TestCandidateList:
    def test_it_lists_only_the_subtree_with_cccd_masked_for_the_board(self, world, client_for):
        _candidate(world.branch, name="Nguyễn Thị Mai", cccd="022199001234")
        _candidate(world.other_branch, name="Lê Văn Ngoài")
        response = client_for(world.persona("board_city")).get(reverse("recruitment:candidate_list"))
        body = response.content.decode()
        assert response.status_code == 200
        assert "Nguyễn Thị Mai" in body
        assert "Lê Văn Ngoài" not in body
        assert "022199001234" not in body
        assert "••••••••1234" in body
        assert "10/01/2025" in body  # latest milestone: put on the list

    def test_staff_see_the_full_cccd(self, world, client_for):
        _candidate(world.branch, cccd="022199001234")
        body = client_for(world.persona("staff_branch")).get(reverse("recruitment:candidate_list")).content.decode()
        assert "022199001234" in body

    def test_search_without_diacritics_and_htmx_returns_the_table_only(self, world, client_for):
        _candidate(world.branch, name="Đặng Văn Đông")
        _candidate(world.branch, name="Nguyễn Thị Mai")
        client = client_for(world.persona("staff_branch"))
        response = client.get(reverse("recruitment:candidate_list"), {"q": "dang van dong"}, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert "Đặng Văn Đông" in body and "Nguyễn Thị Mai" not in body
        assert "<html" not in body and 'id="candidates"' in body

    def test_pages_hold_fifty(self, world, client_for):
        for i in range(53):
            _candidate(world.branch, name=f"Người Thứ {i:02d}")
        client = client_for(world.persona("staff_branch"))
        first = client.get(reverse("recruitment:candidate_list"))
        assert len(first.context["page"].object_list) == 50
        second = client.get(reverse("recruitment:candidate_list"), {"page": 2})
        assert len(second.context["page"].object_list) == 3

    def test_query_count_does_not_grow_with_the_rows(self, world, client_for):
        client = client_for(world.persona("board_city"))
        for i in range(3):
            _candidate(world.branch, name=f"Ít {i}")
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("recruitment:candidate_list"))
        for i in range(30):
            _candidate(world.sibling, name=f"Nhiều {i}")
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("recruitment:candidate_list"))
        assert len(many) == len(few)

    def test_overdue_filter(self, world, client_for):
        today = dt.date.today()
        _candidate(world.branch, name="Trễ Lễ", stage=Stage.ADMITTED, ceremony_due=today - dt.timedelta(days=2))
        _candidate(world.branch, name="Còn Xa", stage=Stage.ADMITTED, ceremony_due=today + dt.timedelta(days=200))
        body = client_for(world.persona("staff_branch")).get(
            reverse("recruitment:candidate_list"), {"due": "overdue"}).content.decode()
        assert "Trễ Lễ" in body and "Còn Xa" not in body


# ---------------------------------------------------------------- create


def _create_data(branch, **over):
    data = {
        "full_name": "Hoàng  Thị Lan", "birth_date": "12/04/2000", "gender": "nu", "ethnicity": "Kinh",
        "religion": "Không", "cccd": "022300004567", "education": "dai_hoc", "occupation_group": "vien_chuc",
        "branch": branch.pk, "source_date": "10/01/2026", "nominating_org": "doan_tn",
    }
    data.update(over)
    return data


@pytest.mark.django_db
class TestCandidateCreate:
    def test_staff_adds_an_outstanding_mass_to_its_branch(self, world, client_for):
        client = client_for(world.persona("staff_branch"))
        response = client.post(reverse("recruitment:candidate_create"), _create_data(world.branch))
        person = Person.objects.get(cccd="022300004567")
        assert response.status_code == 302
        assert response.url == reverse("recruitment:person_detail", args=[person.pk])
        assert person.full_name == "Hoàng Thị Lan"
        assert person.candidate.stage == Stage.OUTSTANDING
        assert person.candidate.source_date == D(2026, 1, 10)

    def test_branch_outside_the_subtree_is_not_a_choice(self, world, client_for):
        client = client_for(world.persona("staff_branch"))
        response = client.post(reverse("recruitment:candidate_create"), _create_data(world.sibling))
        assert response.status_code == 422
        assert "branch" in response.context["form"].errors
        assert not Person.objects.filter(cccd="022300004567").exists()

    def test_duplicate_cccd_names_the_existing_record_when_visible(self, world, client_for):
        existing = _candidate(world.branch, name="Vũ Văn Cũ", cccd="022300004567")
        response = client_for(world.persona("board_city")).post(
            reverse("recruitment:candidate_create"), _create_data(world.sibling))
        body = response.content.decode()
        assert response.status_code == 422
        assert "Vũ Văn Cũ" in body and "Chi bộ Khu 1" in body
        assert reverse("recruitment:person_detail", args=[existing.person_id]) in body
        assert 'value="12/04/2000"' in body  # what was typed is kept

    def test_duplicate_cccd_outside_the_subtree_does_not_leak_the_name(self, world, client_for):
        _candidate(world.sibling, name="Vũ Văn Cũ", cccd="022300004567")
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:candidate_create"), _create_data(world.branch))
        body = response.content.decode()
        assert response.status_code == 422
        assert "ngoài phạm vi" in body
        assert "Vũ Văn Cũ" not in body and "Chi bộ Khu 2" not in body

    def test_viewer_gets_403(self, world, client_for):
        client = client_for(world.persona("viewer_city"))
        assert client.get(reverse("recruitment:candidate_create")).status_code == 403
        assert client.post(reverse("recruitment:candidate_create"), _create_data(world.branch)).status_code == 403


# ---------------------------------------------------------------- person page


@pytest.mark.django_db
class TestPersonPage:
    def test_reading_writes_an_audit_row_without_personal_data(self, world, client_for):
        candidate = _candidate(world.branch, cccd="022199001234")
        user = world.persona("board_city")
        response = client_for(user).get(reverse("recruitment:person_detail", args=[candidate.person_id]))
        assert response.status_code == 200
        row = AuditLog.objects.get(action="person.view")
        assert row.actor == user and row.object_id == str(candidate.person_id)
        assert "022199001234" not in str(row.detail)

    def test_viewer_reads_but_has_no_forms_and_writes_are_403(self, world, client_for):
        candidate = _at_dossier(world.branch)
        client = client_for(world.persona("viewer_city"))
        body = client.get(reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert "Phạm Thị Hồ Sơ" in body and 'id="step-form"' not in body
        for name in ("step", "step_preview", "exit", "introducer_add", "person_edit"):
            response = client.post(reverse(f"recruitment:{name}", args=[candidate.person_id]), {})
            assert response.status_code == 403, name

    def test_page_shows_timeline_introducers_and_next_step(self, world, client_for):
        candidate = _at_dossier(world.branch)
        body = client_for(world.persona("staff_branch")).get(
            reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert "Nguyễn Văn Giới" in body
        assert "CN-NTVĐ/001" in body
        assert "Bước tiếp theo: <strong>Chi bộ đề nghị kết nạp</strong>" in body
        assert 'name="step-branch_votes_for"' in body

    def test_chi_bo_co_so_goes_from_branch_resolution_to_decision(self, world, client_for):
        candidate = _candidate(world.school, stage=Stage.BRANCH_RESOLUTION, branch_resolution_date=D(2026, 3, 2))
        body = client_for(world.persona("board_city")).get(
            reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert "Bước tiếp theo: <strong>Có quyết định kết nạp</strong>" in body

    def test_query_count_does_not_grow_with_history(self, world, client_for):
        client = client_for(world.persona("staff_branch"))
        small = _at_dossier(world.branch)
        big = _at_dossier(world.branch)
        for i in range(15):
            big.person.phone = f"09{i:08d}"
            big.person.save()
            big.save()
            Introducer.objects.create(person=big.person, name=f"Người {i}", introduced_on=D(2026, 1, 15))
            Transition.objects.create(candidate=big, to_stage=Stage.DOSSIER, effective_date=D(2026, 1, 5),
                                      org=world.branch, org_lineage=world.branch.lineage,
                                      actor=world.persona("staff_branch"))
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("recruitment:person_detail", args=[small.person_id]))
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("recruitment:person_detail", args=[big.person_id]))
        assert len(many) == len(few)

    def test_history_says_who_changed_what(self, world, client_for):
        from recruitment import services

        candidate = _candidate(world.branch)
        staff = world.persona("staff_branch")
        services.person_update(person=candidate.person, data={"phone": "0912345678"}, actor=staff,
                               expected_version=candidate.person.version)
        body = client_for(staff).get(reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert "Điện thoại: – → 0912345678" in body
        assert (staff.get_full_name() or staff.username) in body


# ---------------------------------------------------------------- next step


@pytest.mark.django_db
class TestNextStep:
    def test_branch_vote_below_two_thirds_is_refused_with_rule_id_and_input_kept(self, world, client_for):
        candidate = _at_dossier(world.branch)
        client = client_for(world.persona("staff_branch"))
        data = _step_post(candidate, Stage.BRANCH_RESOLUTION, branch_resolution_date="02/03/2026",
                          branch_votes_for=5, branch_members_summoned=9)
        response = client.post(reverse("recruitment:step", args=[candidate.person_id]), data)
        body = response.content.decode()
        assert response.status_code == 422
        assert "R-VOTE-BRANCH" in body and "chưa đạt 2/3" in body
        assert 'value="02/03/2026"' in body and 'value="5"' in body and 'value="9"' in body
        candidate.refresh_from_db()
        assert candidate.stage == Stage.DOSSIER and candidate.branch_resolution_date is None

    def test_exactly_two_thirds_is_recorded(self, world, client_for):
        candidate = _at_dossier(world.branch)
        client = client_for(world.persona("staff_branch"))
        data = _step_post(candidate, Stage.BRANCH_RESOLUTION, branch_resolution_date="02/03/2026",
                          branch_votes_for=6, branch_members_summoned=9)
        response = client.post(reverse("recruitment:step", args=[candidate.person_id]), data)
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.stage == Stage.BRANCH_RESOLUTION
        assert candidate.branch_votes_for == 6
        assert Transition.objects.filter(candidate=candidate, to_stage=Stage.BRANCH_RESOLUTION).exists()

    def test_preview_shows_which_rules_pass_before_saving(self, world, client_for):
        candidate = _at_dossier(world.branch)
        client = client_for(world.persona("staff_branch"))
        data = _step_post(candidate, Stage.BRANCH_RESOLUTION, branch_resolution_date="02/03/2026",
                          branch_votes_for=5, branch_members_summoned=9)
        response = client.post(reverse("recruitment:step_preview", args=[candidate.person_id]), data,
                               HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200
        assert 'data-rule="R-VOTE-BRANCH" data-ok="0"' in body
        assert 'data-rule="R-AGE-MIN" data-ok="1"' in body
        assert 'data-rule="R-INTRODUCER" data-ok="1"' in body
        candidate.refresh_from_db()
        assert candidate.stage == Stage.DOSSIER

    def test_stale_version_says_who_changed_it_and_keeps_the_input(self, world, client_for):
        from recruitment import services

        candidate = _at_dossier(world.branch)
        old_version = candidate.version
        other = world.persona("board_city")
        services.candidate_advance(candidate=candidate, to_stage=Stage.BRANCH_RESOLUTION, actor=other,
                                   data={"branch_resolution_date": D(2026, 3, 2), "branch_votes_for": 7,
                                         "branch_members_summoned": 9})
        data = _step_post(candidate, Stage.BRANCH_RESOLUTION, branch_resolution_date="03/03/2026",
                          branch_votes_for=8, branch_members_summoned=9)
        data["step-version"] = old_version
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:step", args=[candidate.person_id]), data)
        body = response.content.decode()
        assert response.status_code == 409
        assert f"Hồ sơ đã được {other.get_full_name() or other.username} thay đổi lúc" in body
        assert "vui lòng tải lại" in body
        assert 'value="03/03/2026"' in body and 'value="8"' in body
        candidate.refresh_from_db()
        assert candidate.branch_votes_for == 7

    def test_decision_by_a_node_without_authority_is_refused(self, world, client_for):
        candidate = _candidate(world.branch, stage=Stage.BASE_RESOLUTION, certificate_date=D(2025, 6, 1),
                               branch_resolution_date=D(2026, 3, 2), base_resolution_date=D(2026, 3, 10))
        data = _step_post(candidate, Stage.ADMITTED, decision_date="20/03/2026", decision_number="123-QĐ/TU",
                          deciding_org=world.base.pk)
        response = client_for(world.persona("board_city")).post(
            reverse("recruitment:step", args=[candidate.person_id]), data)
        assert response.status_code == 422
        assert "R-AUTHORITY" in response.content.decode()

    def test_decision_by_the_city_is_recorded_with_its_extension(self, world, client_for):
        candidate = _candidate(world.branch, stage=Stage.BASE_RESOLUTION, certificate_date=D(2025, 6, 1),
                               branch_resolution_date=D(2026, 3, 2), base_resolution_date=D(2026, 3, 10))
        client = client_for(world.persona("board_city"))
        page = client.get(reverse("recruitment:person_detail", args=[candidate.person_id]))
        assert page.context["step_form"]["deciding_org"].value() == world.city.pk  # nearest authority above
        data = _step_post(candidate, Stage.ADMITTED, decision_date="20/03/2026", decision_number="123-QĐ/TU",
                          deciding_org=world.city.pk, decision_extended_days=20)
        response = client.post(reverse("recruitment:step", args=[candidate.person_id]), data)
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.stage == Stage.ADMITTED and candidate.deciding_org == world.city
        assert candidate.decision_extended_days == 20 and candidate.ceremony_due is not None

    def test_sympathiser_step_records_the_helping_member(self, world, client_for):
        candidate = _candidate(world.branch, source_date=D(2025, 1, 10))
        data = _step_post(candidate, Stage.SYMPATHISER, sympathiser_date="01/03/2025",
                          helping_member="Đồng chí Lý Văn Giúp")
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:step", args=[candidate.person_id]), data)
        assert response.status_code == 302
        candidate.refresh_from_db()
        candidate.person.refresh_from_db()
        assert candidate.stage == Stage.SYMPATHISER
        assert candidate.person.helping_member == "Đồng chí Lý Văn Giúp"

    def test_exit_removes_from_the_list(self, world, client_for):
        candidate = _candidate(world.branch, stage=Stage.SYMPATHISER, sympathiser_date=D(2025, 3, 1))
        data = {"exit-version": candidate.version, "exit-to_stage": Stage.REMOVED, "exit-exit_date": "01/06/2025",
                "exit-reason": "Chuyển công tác"}
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:exit", args=[candidate.person_id]), data)
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.stage == Stage.REMOVED and candidate.exit_reason == "Chuyển công tác"
        body = client_for(world.persona("staff_branch")).get(response.url).content.decode()
        assert 'data-stage="ra_khoi_ds"' in body and "Chuyển công tác" in body
        assert 'id="step-form"' not in body and 'id="exit-form"' not in body

    def test_introducer_is_added(self, world, client_for):
        candidate = _candidate(world.branch)
        data = {"intro-kind": "member", "intro-name": "Đỗ Văn Giới", "intro-is_official_member": "on",
                "intro-months_known": 30, "intro-introduced_on": "15/01/2026"}
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:introducer_add", args=[candidate.person_id]), data)
        assert response.status_code == 302
        assert candidate.person.introducers.get().name == "Đỗ Văn Giới"


@pytest.mark.django_db
class TestPersonEdit:
    def test_stale_person_edit_keeps_the_typed_name(self, world, client_for):
        from recruitment import services

        candidate = _candidate(world.branch, name="Ngô Văn Cũ")
        person = candidate.person
        version = person.version
        services.person_update(person=person, data={"phone": "0900000000"}, actor=world.persona("board_city"),
                               expected_version=version)
        client = client_for(world.persona("staff_branch"))
        form = client.get(reverse("recruitment:person_edit", args=[person.pk])).context["form"]
        data = {k: v for k, v in form.initial.items() if v not in (None, False)}
        data.update({"full_name": "Ngô Văn Mới", "birth_date": "17/05/1998", "version": version})
        response = client.post(reverse("recruitment:person_edit", args=[person.pk]), data)
        body = response.content.decode()
        assert response.status_code == 422
        assert "vui lòng tải lại" in body and 'value="Ngô Văn Mới"' in body
        person.refresh_from_db()
        assert person.full_name == "Ngô Văn Cũ"

    def test_board_transfers_a_person_to_another_branch_keeping_the_past(self, world, client_for):
        candidate = _candidate(world.branch, name="Ngô Văn Chuyển", stage=Stage.SYMPATHISER,
                               sympathiser_date=D(2025, 3, 1), sympathiser_lineage=world.branch.lineage)
        person = candidate.person
        client = client_for(world.persona("board_city"))
        form = client.get(reverse("recruitment:person_edit", args=[person.pk])).context["form"]
        data = {k: v for k, v in form.initial.items() if v not in (None, False)}
        data.update({"birth_date": "17/05/1998", "branch": world.sibling.pk})
        response = client.post(reverse("recruitment:person_edit", args=[person.pk]), data)
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.org == world.sibling
        assert candidate.sympathiser_lineage == world.branch.lineage
        staff = client_for(world.persona("staff_branch"))
        assert staff.get(reverse("recruitment:person_detail", args=[person.pk])).status_code == 404


# ---------------------------------------------------------------- board and due


@pytest.mark.django_db
class TestBoardAndDue:
    def test_board_columns_and_constant_queries(self, world, client_for):
        client = client_for(world.persona("board_city"))
        _candidate(world.branch, name="Cảm Tình Một", stage=Stage.SYMPATHISER)
        client.get(reverse("recruitment:board"))  # first request of a session may set up session/audit state
        with CaptureQueriesContext(connection) as few:
            response = client.get(reverse("recruitment:board"))
        body = response.content.decode()
        assert "Cảm Tình Một" in body and body.count('class="card board-col') == 9
        for i, stage in enumerate([Stage.DOSSIER, Stage.ADMITTED, Stage.PROBATIONARY] * 8):
            _candidate(world.sibling, name=f"Thẻ {i}", stage=stage)
        with CaptureQueriesContext(connection) as many:
            client.get(reverse("recruitment:board"))
        assert len(many) == len(few)

    def test_board_node_selector_swaps_the_columns_only(self, world, client_for):
        _candidate(world.branch, name="Ở Khu Một", stage=Stage.DOSSIER)
        _candidate(world.sibling, name="Ở Khu Hai", stage=Stage.DOSSIER)
        response = client_for(world.persona("board_city")).get(
            reverse("recruitment:board"), {"org": world.sibling.pk}, HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert "<html" not in body and 'id="board-columns"' in body
        assert "Ở Khu Hai" in body and "Ở Khu Một" not in body

    def test_board_node_selector_rejects_foreign_nodes(self, world, client_for):
        client = client_for(world.persona("staff_branch"))
        assert client.get(reverse("recruitment:board"), {"org": world.sibling.pk}).status_code == 404
        assert client.get(reverse("recruitment:board"), {"org": world.branch.pk}).status_code == 200

    def test_due_page_lists_overdue_ceremonies_of_the_subtree(self, world, client_for):
        today = dt.date.today()
        _candidate(world.branch, name="Chờ Lễ Kết Nạp", stage=Stage.ADMITTED, ceremony_due=today - dt.timedelta(days=4))
        _candidate(world.other_branch, name="Ngoài Phạm Vi", stage=Stage.ADMITTED,
                   ceremony_due=today - dt.timedelta(days=4))
        response = client_for(world.persona("board_city")).get(reverse("recruitment:due"))
        body = response.content.decode()
        assert "Chờ Lễ Kết Nạp" in body and "Ngoài Phạm Vi" not in body
        assert "quá 4 ngày" in body
        assert response.context["overdue_count"] == 1


# ---------------------------------------------------------------- classes


@pytest.mark.django_db
class TestClasses:
    def test_training_centre_opens_enrols_and_issues_certificates(self, world, client_for):
        trainer = world.persona("training_city")
        client = client_for(trainer)
        response = client.post(reverse("recruitment:class_create"), {
            "code": "T-LOP-01", "name": "Lớp nhận thức khóa 1/2026", "organiser": world.city.pk,
            "start_date": "02/03/2026", "end_date": "06/03/2026", "place": "Trung tâm Chính trị",
        })
        klass = AwarenessClass.objects.get(code="T-LOP-01")
        assert response.status_code == 302
        a = _candidate(world.branch, name="Học Viên A", stage=Stage.SYMPATHISER, sympathiser_date=D(2025, 3, 1))
        b = _candidate(world.sibling, name="Học Viên B", stage=Stage.SYMPATHISER, sympathiser_date=D(2025, 3, 1))
        _candidate(world.other_branch, name="Học Viên Ngoài", stage=Stage.SYMPATHISER)
        page = client.get(reverse("recruitment:class_detail", args=[klass.pk])).content.decode()
        assert "Học Viên A" in page and "Học Viên Ngoài" not in page
        response = client.post(reverse("recruitment:class_enrol", args=[klass.pk]), {"candidates": [a.pk, b.pk]})
        assert response.status_code == 302
        assert klass.enrolments.count() == 2
        response = client.post(reverse("recruitment:class_results", args=[klass.pk]), {
            f"result_{a.pk}": "dat", f"result_{b.pk}": "khong_dat",
            "certificate_date": "06/03/2026", "number_prefix": "CN-T/",
        })
        assert response.status_code == 302
        a.refresh_from_db()
        b.refresh_from_db()
        assert a.stage == Stage.COURSE_DONE and a.certificate_number == "CN-T/001"
        assert b.stage == Stage.SYMPATHISER
        assert ClassEnrolment.objects.get(candidate=b).result == "khong_dat"

    def test_enrolling_someone_outside_the_organiser_subtree_is_refused(self, world, client_for):
        klass = AwarenessClass.objects.create(code="T-LOP-02", name="Lớp", organiser=world.base,
                                              start_date=D(2026, 3, 2), end_date=D(2026, 3, 6))
        outsider = _candidate(world.school, stage=Stage.SYMPATHISER)
        response = client_for(world.persona("training_city")).post(
            reverse("recruitment:class_enrol", args=[klass.pk]), {"candidates": [outsider.pk]})
        assert response.status_code == 422
        assert not klass.enrolments.exists()

    def test_staff_and_viewers_cannot_run_classes(self, world, client_for):
        klass = AwarenessClass.objects.create(code="T-LOP-03", name="Lớp", organiser=world.city,
                                              start_date=D(2026, 3, 2), end_date=D(2026, 3, 6))
        client = client_for(world.persona("viewer_city"))
        assert client.get(reverse("recruitment:class_detail", args=[klass.pk])).status_code == 200
        assert client.get(reverse("recruitment:class_create")).status_code == 403
        assert client.post(reverse("recruitment:class_enrol", args=[klass.pk]), {}).status_code == 403
        assert client.post(reverse("recruitment:class_results", args=[klass.pk]), {}).status_code == 403



# ---------------------------------------------------------------- demo province: constant queries

# Measured bounds: session/user/messages/audit plus the page's own fixed set of queries. A page that
# queried per row would blow past these on thousands of demo people.
# Measured on the demo province (2,000+ people in Uông Bí): list 10, board 9, due 11, class 10, person 12-16
# (the person page's deadlines count working days, one holiday-override lookup each).
MAX_QUERIES = {"list": 12, "board": 11, "person": 18, "due": 13, "class": 12}


@pytest.mark.django_db
class TestDemoProvinceQueryCounts:
    @pytest.fixture
    def board_client(self, demo_province, client_for):
        from accounts.models import User

        return client_for(User.objects.get(username="btc.uongbi"))

    def test_list_pages_do_not_query_per_row(self, board_client, django_assert_max_num_queries):
        with django_assert_max_num_queries(MAX_QUERIES["list"]):
            response = board_client.get(reverse("recruitment:candidate_list"))
        assert response.context["page"].paginator.count > 1000
        assert len(response.context["page"].object_list) == 50
        with django_assert_max_num_queries(MAX_QUERIES["list"]):
            board_client.get(reverse("recruitment:candidate_list"), {"due": "due", "q": "nguyen"})

    def test_board_is_a_fixed_number_of_queries(self, board_client, django_assert_max_num_queries):
        with django_assert_max_num_queries(MAX_QUERIES["board"]):
            response = board_client.get(reverse("recruitment:board"))
        assert response.context["total"] > 1000
        assert all(len(col.cards) > 0 for col in response.context["columns"])

    def test_person_pages_at_every_stage_cost_the_same(self, board_client, django_assert_max_num_queries):
        from orgs.models import OrgUnit

        city = OrgUnit.objects.get(code="QN.UB")
        for stage in Stage.values:
            candidate = (Candidate.objects.filter(stage=stage, org__path__startswith=city.path)
                         .order_by("pk").first())
            if candidate is None:
                continue
            with django_assert_max_num_queries(MAX_QUERIES["person"]):
                response = board_client.get(reverse("recruitment:person_detail", args=[candidate.person_id]))
            assert response.status_code == 200, stage

    def test_due_page_has_overdue_items(self, board_client, django_assert_max_num_queries):
        with django_assert_max_num_queries(MAX_QUERIES["due"]):
            response = board_client.get(reverse("recruitment:due"))
        assert response.context["overdue_count"] > 0

    def test_class_page_does_not_query_per_student(self, board_client, django_assert_max_num_queries):
        klass = AwarenessClass.objects.filter(organiser__code="QN.UB").order_by("-start_date").first()
        assert klass.enrolments.count() > 20
        with django_assert_max_num_queries(MAX_QUERIES["class"]):
            response = board_client.get(reverse("recruitment:class_detail", args=[klass.pk]))
        assert response.status_code == 200
        with django_assert_max_num_queries(MAX_QUERIES["class"]):
            board_client.get(reverse("recruitment:class_list"))


# ---------------------------------------------------------------- follow-ups: documents, enrol errors, recognition


def _probationary(org) -> Candidate:
    return _candidate(
        org, name="Đặng Thị Dự Bị", stage=Stage.PROBATIONARY, sympathiser_date=D(2025, 2, 10),
        certificate_date=D(2025, 3, 20), certificate_number="CN-001", application_date=D(2025, 4, 1),
        personal_history_date=D(2025, 4, 1), opinions_date=D(2025, 4, 20), branch_resolution_date=D(2025, 5, 6),
        branch_votes_for=8, branch_members_summoned=10, base_resolution_date=D(2025, 5, 15), base_votes_for=9,
        base_committee_members=11, decision_date=D(2025, 6, 16), decision_number="125-QĐ/TU",
        ceremony_date=D(2025, 7, 1),
    )


def _recognition_post(candidate, **extra):
    return _step_post(candidate, Stage.FULL_MEMBER, recognition_branch_resolution_date="02/07/2026",
                      recognition_votes_for=9, recognition_members_summoned=10,
                      recognition_decision_number="301-QĐ/TU", recognition_decision_date="20/07/2026", **extra)


@pytest.mark.django_db
class TestPersonPageFollowUps:
    def test_an_imported_record_shows_the_documents_it_lacks(self, world, client_for):
        candidate = _candidate(world.branch, stage=Stage.ADMITTED, sympathiser_date=D(2025, 2, 10),
                               branch_resolution_date=D(2025, 5, 6), decision_date=D(2025, 6, 16))
        body = client_for(world.persona("staff_branch")).get(
            reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert 'id="missing-documents"' in body
        assert "Hồ sơ còn thiếu 4 văn bản" in body
        assert "Đơn xin vào Đảng" in body and "(3-KNĐ, 4-KNĐ)" in body

    def test_a_complete_record_shows_no_missing_documents(self, world, client_for):
        candidate = _probationary(world.branch)
        for name in ("Nguyễn Văn Giới", "Trần Thị Thiệu"):
            Introducer.objects.create(person=candidate.person, name=name, is_official_member=True, months_known=24,
                                      introduced_on=D(2025, 4, 15))
        body = client_for(world.persona("staff_branch")).get(
            reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert 'id="missing-documents"' not in body

    def test_recognition_form_offers_only_committees_with_authority_above_the_branch(self, world, client_for):
        candidate = _probationary(world.branch)
        Candidate.objects.filter(pk=candidate.pk).update(deciding_org=world.city)
        # A branch clerk: the committees sit above the clerk's own node and are still offered.
        page = client_for(world.persona("staff_branch")).get(
            reverse("recruitment:person_detail", args=[candidate.person_id]))
        field = page.context["step_form"]["recognition_deciding_org"]
        assert list(field.field.queryset) == [world.province, world.city]
        assert field.value() == world.city.pk  # the committee that decided the admission
        assert "Cấp ủy quyết định công nhận" in page.content.decode()

    def test_recognition_by_a_committee_outside_the_line_is_refused_then_recorded(self, world, client_for):
        candidate = _probationary(world.branch)
        client = client_for(world.persona("staff_branch"))
        url = reverse("recruitment:step", args=[candidate.person_id])
        response = client.post(url, _recognition_post(candidate, recognition_deciding_org=world.base.pk))
        assert response.status_code == 422  # not an authority: not even a choice
        response = client.post(url, _recognition_post(candidate, recognition_deciding_org=world.other_city.pk))
        assert response.status_code == 422
        candidate.refresh_from_db()
        assert candidate.stage == Stage.PROBATIONARY
        response = client.post(url, _recognition_post(candidate, recognition_deciding_org=world.city.pk))
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.stage == Stage.FULL_MEMBER and candidate.recognition_deciding_org == world.city
        transition = Transition.objects.get(candidate=candidate, to_stage=Stage.FULL_MEMBER)
        assert any(v["rule_id"] == "R-AUTHORITY" and v["ok"] for v in transition.verdicts)
        body = client.get(reverse("recruitment:person_detail", args=[candidate.person_id])).content.decode()
        assert "Cấp ủy quyết định công nhận:</span> Thành ủy Thử nghiệm" in body

    def test_recognition_authority_stays_optional(self, world, client_for):
        candidate = _probationary(world.branch)
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:step", args=[candidate.person_id]), _recognition_post(candidate))
        assert response.status_code == 302
        candidate.refresh_from_db()
        assert candidate.stage == Stage.FULL_MEMBER and candidate.recognition_deciding_org is None

    def test_helping_member_and_step_are_saved_together_or_not_at_all(self, world, client_for, monkeypatch):
        from recruitment import services

        candidate = _candidate(world.branch, source_date=D(2025, 1, 10))

        def broken_update(**kwargs):
            raise services.StaleEdit(changed_by="Người Khác", changed_at=None)

        monkeypatch.setattr(services, "person_update", broken_update)
        data = _step_post(candidate, Stage.SYMPATHISER, sympathiser_date="01/03/2025", helping_member="Lý Văn Giúp")
        response = client_for(world.persona("staff_branch")).post(
            reverse("recruitment:step", args=[candidate.person_id]), data)
        assert response.status_code == 409
        candidate.refresh_from_db()
        assert candidate.stage == Stage.OUTSTANDING  # the step was rolled back with the person's update
        assert not Transition.objects.filter(candidate=candidate).exists()

    def test_over_age_approval_is_asked_only_for_someone_over_60(self, world, client_for):
        def at_base(birth):
            c = _candidate(world.branch, stage=Stage.BASE_RESOLUTION, certificate_date=D(2025, 6, 1),
                           branch_resolution_date=D(2026, 3, 2), base_resolution_date=D(2026, 3, 10))
            Person.objects.filter(pk=c.person_id).update(birth_date=birth)
            return c

        client = client_for(world.persona("board_city"))
        young = at_base(D(1990, 5, 1))
        page = client.get(reverse("recruitment:person_detail", args=[young.person_id]))
        assert "over_age_approval_date" not in page.context["step_form"].fields
        old = at_base(D(1965, 2, 1))  # 61 years 1 month on 02/03/2026
        page = client.get(reverse("recruitment:person_detail", args=[old.person_id]))
        assert "over_age_approval_date" in page.context["step_form"].fields
        assert "trên 60 tuổi" in page.content.decode()
        data = _step_post(old, Stage.ADMITTED, decision_date="20/03/2026", decision_number="1-QĐ/TU",
                          deciding_org=world.city.pk)
        response = client.post(reverse("recruitment:step", args=[old.person_id]), data)
        assert response.status_code == 422 and "R-AGE-MAX" in response.content.decode()  # still checked
        data["step-over_age_approval_date"] = "15/03/2026"
        response = client.post(reverse("recruitment:step", args=[old.person_id]), data)
        assert response.status_code == 302


@pytest.mark.django_db
class TestEnrolErrors:
    def test_an_ineligible_person_is_named_in_vietnamese(self, world, client_for):
        klass = AwarenessClass.objects.create(code="T-LOP-09", name="Lớp", organiser=world.base,
                                              start_date=D(2026, 3, 2), end_date=D(2026, 3, 6))
        outsider = _candidate(world.school, name="Vũ Văn Trường", stage=Stage.SYMPATHISER)
        not_yet = _candidate(world.branch, name="Hà Thị Chưa", stage=Stage.OUTSTANDING)
        client = client_for(world.persona("training_city"))
        for candidate in (outsider, not_yet):
            response = client.post(reverse("recruitment:class_enrol", args=[klass.pk]), {"candidates": [candidate.pk]})
            body = response.content.decode()
            assert response.status_code == 422
            assert 'id="enrol-error"' in body
            assert "Chỉ ghi danh cảm tình Đảng thuộc các tổ chức do Đảng bộ phường An Bình phụ trách" in body
            assert candidate.person.full_name in body
        assert not klass.enrolments.exists()

    def test_a_record_outside_the_users_scope_is_an_invalid_choice(self, world, client_for):
        klass = AwarenessClass.objects.create(code="T-LOP-10", name="Lớp", organiser=world.city,
                                              start_date=D(2026, 3, 2), end_date=D(2026, 3, 6))
        foreign = _candidate(world.other_branch, name="Người Nơi Khác", stage=Stage.SYMPATHISER)
        response = client_for(world.persona("training_city")).post(
            reverse("recruitment:class_enrol", args=[klass.pk]), {"candidates": [foreign.pk]})
        body = response.content.decode()
        assert response.status_code == 422
        assert "không còn trong phạm vi của bạn" in body and "Người Nơi Khác" not in body
        assert not klass.enrolments.exists()
