"""One person walked through every stage of the pipeline in a real browser, by the people who do each step:
branch staff (entry, sympathiser, dossier, resolutions, ceremony, recognition), the training centre (the
awareness course), the city's organisation board (the admission decision). One refusal on the way
(branch vote below 2/3) must name its rule and keep what was typed."""

import re

import pytest
from playwright.sync_api import expect

from members.models import Person
from recruitment.models import Stage

pytestmark = pytest.mark.browser

NAME = "Đinh Thị Hoàng Yến"


def _fill(page, values: dict[str, str]) -> None:
    for name, value in values.items():
        selector = f"[name='step-{name}']"
        if page.locator(selector).evaluate("el => el.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)


def _step(page, shot, label: str, values: dict[str, str], name: str) -> None:
    expect(page.locator("#next-step")).to_contain_text(label)
    _fill(page, values)
    page.locator("#verdicts .verdict").first.wait_for()
    shot(page, f"{name}-form")
    page.click("#step-submit")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success")).to_contain_text(f"Đã ghi nhận: {label}")
    expect(page.locator("#current-stage")).to_have_text(label)


def _switch(page, login, user) -> None:
    page.context.clear_cookies()
    login(page, user)


def test_one_person_through_every_stage(world, page, login, shot):
    staff = world.persona("staff_branch")
    board = world.persona("board_city")
    trainer = world.persona("training_city")

    # 1. Outstanding mass: branch staff add her.
    login(page, staff)
    page.goto("/ho-so/")
    shot(page, "01-list-empty")
    page.click("text=+ Thêm quần chúng ưu tú")
    page.fill("[name=full_name]", NAME)
    page.fill("[name=birth_date]", "17/05/1998")
    page.select_option("[name=gender]", "nu")
    page.fill("[name=cccd]", "022198012345")
    page.select_option("[name=branch]", str(world.branch.pk))
    page.fill("[name=source_date]", "10/01/2024")
    page.select_option("[name=nominating_org]", "doan_tn")
    page.select_option("[name=occupation_group]", "vien_chuc")
    page.select_option("[name=education]", "dai_hoc")
    shot(page, "02-create-form")
    page.click("#candidate-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_contain_text(NAME)
    expect(page.locator("#current-stage")).to_have_text(Stage.OUTSTANDING.label)
    person = Person.objects.get(cccd="022198012345")
    person_url = f"/ho-so/{person.pk}/"
    shot(page, "03-person-outstanding")

    # 2. Sympathiser, with the helping member.
    _step(page, shot, Stage.SYMPATHISER.label,
          {"sympathiser_date": "01/03/2024", "helping_member": "Đồng chí Lý Văn Giúp"}, "04-sympathiser")
    expect(page.locator("#identity")).to_contain_text("Lý Văn Giúp")

    # 3. Awareness course: the training centre opens a class, enrols her, records the results.
    _switch(page, login, trainer)
    page.goto("/ho-so/lop/")
    page.click("text=+ Mở lớp")
    page.fill("[name=code]", "T-NTVĐ-2024-01")
    page.fill("[name=name]", "Lớp bồi dưỡng nhận thức về Đảng khóa 1/2024")
    page.select_option("[name=organiser]", str(world.city.pk))
    page.fill("[name=start_date]", "01/04/2024")
    page.fill("[name=end_date]", "05/04/2024")
    page.fill("[name=place]", "Trung tâm Chính trị thành phố")
    shot(page, "05-class-open")
    page.click("#class-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.check(f"#enrol-form label:has-text('{NAME}') >> xpath=preceding-sibling::input")
    shot(page, "06-class-enrol")
    page.click("#enrol-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.click("#all-passed")  # the bulk helper runs under the CSP nonce
    expect(page.locator(f"select[name=result_{person.candidate.pk}]")).to_have_value("dat")
    page.fill("[name=certificate_date]", "05/04/2024")
    page.fill("[name=number_prefix]", "CN-NTVĐ/2024/")
    page.click("#results-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success")).to_contain_text("cấp 1 giấy chứng nhận")
    expect(page.locator("#enrolments")).to_contain_text("CN-NTVĐ/2024/001")
    shot(page, "07-class-results")

    # 4. Dossier: staff record the two introducers and the documents.
    _switch(page, login, staff)
    page.goto(person_url)
    expect(page.locator("#current-stage")).to_have_text(Stage.COURSE_DONE.label)
    for introducer in ("Nguyễn Văn Giới", "Trần Thị Thiệu"):
        page.click("#introducers summary")
        page.fill("[name=intro-name]", introducer)
        page.fill("[name=intro-months_known]", "24")
        page.fill("[name=intro-introduced_on]", "15/06/2024")
        page.click("#introducer-form button[type=submit]")
        page.wait_for_load_state("networkidle")
        expect(page.locator("#introducers")).to_contain_text(introducer)
    _step(page, shot, Stage.DOSSIER.label, {
        "application_date": "03/06/2024", "personal_history_date": "10/06/2024",
        "personal_history_verified_date": "20/06/2024", "opinions_date": "01/07/2024",
    }, "08-dossier")

    # 5. Branch resolution: first 5 of 9 votes, refused by R-VOTE-BRANCH before and after saving.
    _fill(page, {"branch_resolution_date": "15/07/2024", "branch_votes_for": "5", "branch_members_summoned": "9"})
    page.locator("#verdicts [data-rule='R-VOTE-BRANCH'][data-ok='0']", has_text="5/9").wait_for()
    expect(page.locator("#verdicts [data-rule='R-AGE-MIN'][data-ok='1']")).to_be_visible()
    expect(page.locator("#verdicts [data-rule='R-INTRODUCER'][data-ok='1']")).to_be_visible()
    shot(page, "09-branch-preview-refused")
    page.click("#step-submit")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#step-error")).to_contain_text("R-VOTE-BRANCH")
    expect(page.locator("#step-error")).to_contain_text("chưa đạt 2/3")
    expect(page.locator("[name='step-branch_resolution_date']")).to_have_value("15/07/2024")
    expect(page.locator("[name='step-branch_votes_for']")).to_have_value("5")
    expect(page.locator("[name='step-branch_members_summoned']")).to_have_value("9")
    expect(page.locator("#current-stage")).to_have_text(Stage.DOSSIER.label)
    shot(page, "10-branch-refused")
    _step(page, shot, Stage.BRANCH_RESOLUTION.label, {"branch_votes_for": "6"}, "11-branch")

    # 6. Base committee resolution (Chi bộ Khu 1 sits under a đảng bộ cơ sở).
    _step(page, shot, Stage.BASE_RESOLUTION.label,
          {"base_resolution_date": "25/07/2024", "base_votes_for": "5", "base_committee_members": "7"}, "12-base")
    expect(page.locator("#deadlines")).to_contain_text("R-DECISION-DUE")

    # 7. Admission decision by the city's organisation board.
    _switch(page, login, board)
    page.goto(person_url)
    expect(page.locator("[name='step-deciding_org'] option:checked")).to_have_text(world.city.name)
    _step(page, shot, Stage.ADMITTED.label,
          {"decision_date": "20/08/2024", "decision_number": "125-QĐ/TU"}, "13-decision")

    # 8. Probationary member: the ceremony.
    _switch(page, login, staff)
    page.goto(person_url)
    _step(page, shot, Stage.PROBATIONARY.label,
          {"ceremony_date": "10/09/2024", "new_member_course_date": "15/10/2024"}, "14-ceremony")
    expect(page.locator("#deadlines")).to_contain_text("10/09/2025")  # probation ends 12 months later

    # 9. Full member.
    _step(page, shot, Stage.FULL_MEMBER.label, {
        "recognition_branch_resolution_date": "15/09/2025", "recognition_votes_for": "8",
        "recognition_members_summoned": "10", "recognition_decision_number": "310-QĐ/TU",
        "recognition_decision_date": "25/09/2025",
    }, "15-full-member")
    expect(page.locator("#next-step")).to_have_count(0)
    timeline = page.locator("#timeline")
    for label in (Stage.SYMPATHISER.label, Stage.COURSE_DONE.label, Stage.ADMITTED.label, Stage.FULL_MEMBER.label):
        expect(timeline).to_contain_text(label)
    expect(timeline).to_contain_text("125-QĐ/TU")
    expect(page.locator("#history")).to_contain_text("Đảng viên giúp đỡ")
    shot(page, "16-person-full-member")

    person.candidate.refresh_from_db()
    assert person.candidate.stage == Stage.FULL_MEMBER
    assert person.candidate.recognition_date.strftime("%d/%m/%Y") == "10/09/2025"

    # The other pages show her where she is.
    page.goto(f"/ho-so/bang-tien-trinh/?org={world.branch.pk}")
    expect(page.locator("[data-stage='chinh_thuc']")).to_contain_text(NAME)
    shot(page, "17-board")
    page.goto("/ho-so/")
    page.fill("#id_q", "hoang yen")  # htmx swaps the table as she types, no diacritics needed
    expect(page).to_have_url(re.compile(r"q=hoang(%20|\+)yen"))
    expect(page.locator("#candidates tbody tr")).to_have_count(1)
    expect(page.locator("#candidates")).to_contain_text(NAME)
    expect(page.locator("#candidates")).to_contain_text("022198012345")  # staff see the full CCCD
    shot(page, "18-list-search")
    page.goto("/ho-so/den-han/")
    expect(page.locator("h1")).to_have_text(re.compile("đến hạn"))
    shot(page, "19-due")
