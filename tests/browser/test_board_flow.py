"""The city's organisation board in a real browser: sets a child's quota with a reason and sees the revision
(who, when, why); reads the dashboard's progress bars; records an admission decision and sees the attainment
move (Celery runs eagerly in tests, on commit); downloads the results report as Excel and finds the admission
in it. The city's read-only viewer sees no edit buttons and is refused a write with 403."""

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from recruitment.models import Candidate, Stage
from tests.factories import CandidateFactory, PersonFactory

pytestmark = pytest.mark.browser

NAME = "Lương Thị Kết Nạp"


def _waiting_for_decision(world) -> Candidate:
    """Someone whose branch and base resolutions are recorded, waiting for the city's decision this year."""
    today = timezone.localdate()
    person = PersonFactory(branch=world.branch, full_name=NAME, birth_date=dt.date(1996, 4, 12))
    return CandidateFactory(
        person=person, org=world.branch, stage=Stage.BASE_RESOLUTION,
        sympathiser_date=today - dt.timedelta(days=400), certificate_date=today - dt.timedelta(days=300),
        certificate_number="CN-NTVĐ/077", application_date=today - dt.timedelta(days=60),
        personal_history_date=today - dt.timedelta(days=60), opinions_date=today - dt.timedelta(days=45),
        branch_resolution_date=today - dt.timedelta(days=20), branch_votes_for=9, branch_members_summoned=10,
        base_resolution_date=today - dt.timedelta(days=10), base_votes_for=7, base_committee_members=9,
    )


def _child_row(page, name: str):
    return page.locator("#children tbody tr", has_text=name)


def test_board_sets_a_quota_admits_and_reports(world, page, login, shot):
    board = world.persona("board_city")
    board_name = board.get_full_name() or board.username
    today = timezone.localdate()
    year = today.year
    candidate = _waiting_for_decision(world)

    # 1. Allocation page of the city: set the ward's quota, with a reason.
    login(page, board)
    page.goto("/chi-tieu/phan-bo/")
    expect(page.locator("h1")).to_contain_text(world.city.name)
    shot(page, "01-allocation")
    row = page.locator("#allocation tbody tr", has_text=world.base.name)
    row.get_by_role("link", name="Giao / sửa").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("h1")).to_contain_text(world.base.name)
    page.fill("[name=admission_quota]", "4")
    page.fill("[name=source_quota]", "10")
    page.fill("[name=reason]", "Giao đầu năm theo nghị quyết Thành ủy")
    shot(page, "02-quota-form")
    page.get_by_role("button", name="Lưu chỉ tiêu").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success")).to_contain_text(f"Đã lưu chỉ tiêu năm {year} của {world.base.name}")
    row = page.locator("#allocation tbody tr", has_text=world.base.name)
    expect(row.locator("td").nth(3)).to_have_text("4")
    revision = page.locator("#revisions tbody tr", has_text=world.base.name)
    expect(revision).to_contain_text(board_name)
    expect(revision).to_contain_text(today.strftime("%d/%m/%Y"))
    expect(revision).to_contain_text("Giao đầu năm theo nghị quyết Thành ủy")
    shot(page, "03-allocation-after")

    # 2. Dashboard: one row per child, with a progress bar; nothing admitted yet.
    page.goto("/chi-tieu/")
    ward = _child_row(page, world.base.name)
    expect(ward.locator(".progress")).to_have_count(1)
    expect(ward.locator(".progress-bar")).to_have_attribute("style", re.compile(r"width:\s*0(\.0)?%"))
    expect(page.locator("#children tbody tr .progress")).to_have_count(2)  # the ward and the school
    expect(page.get_by_test_id("own-admitted")).to_contain_text("0")
    shot(page, "04-dashboard-before")

    # 3. The admission decision, recorded by the board on the person page.
    page.goto(f"/ho-so/{candidate.person_id}/")
    expect(page.locator("#next-step")).to_contain_text(Stage.ADMITTED.label)
    expect(page.locator("[name='step-over_age_approval_date']")).to_have_count(0)  # 30 years old: not asked
    expect(page.locator("[name='step-deciding_org']")).to_have_value(str(world.city.pk))
    page.fill("[name='step-decision_date']", today.strftime("%d/%m/%Y"))
    page.fill("[name='step-decision_number']", "77-QĐ/TU")
    page.locator("#verdicts .verdict").first.wait_for()
    shot(page, "05-decision-form")
    page.click("#step-submit")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".alert-success")).to_contain_text(f"Đã ghi nhận: {Stage.ADMITTED.label}")
    expect(page.locator("#current-stage")).to_have_text(Stage.ADMITTED.label)
    shot(page, "06-person-admitted")

    # 4. The dashboard after the commit: the recompute ran; the ward is at 1 of 4 (25%).
    page.goto("/chi-tieu/")
    ward = _child_row(page, world.base.name)
    expect(ward.locator(".progress-bar")).to_have_attribute("style", re.compile(r"width:\s*25(\.0)?%"))
    expect(ward.locator(".progress-bar")).to_contain_text("25")
    expect(page.get_by_test_id("own-admitted")).to_contain_text("1")
    shot(page, "07-dashboard-after")

    # 5. The results report in Excel: queued, built in the background, downloaded, and it counts her.
    page.goto("/bao-cao/")
    page.select_option("[name=org]", str(world.city.pk))
    page.fill("[name=year]", str(year))
    page.select_option("[name=kind]", "results")
    page.select_option("[name=format]", "xlsx")
    shot(page, "08-documents-form")
    page.get_by_role("button", name="Tạo văn bản").click()
    page.wait_for_load_state("networkidle")
    link = page.get_by_role("link", name="Tải về").first
    expect(link).to_be_visible(timeout=60000)
    shot(page, "09-documents-done")
    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".xlsx")
    ws = load_workbook(io.BytesIO(Path(path).read_bytes()))["Theo loai hinh"]
    header = [c.value for c in ws[2]]
    column = header.index(str(year))
    totals = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    assert totals["Tổng số kết nạp"][column] == 1


def test_viewer_sees_no_edit_buttons_and_cannot_write(world, page, login, shot):
    viewer = world.persona("viewer_city")
    login(page, viewer)
    page.goto("/chi-tieu/phan-bo/")
    expect(page.locator("h1")).to_contain_text(world.city.name)
    expect(page.locator("#allocation tbody tr", has_text=world.base.name)).to_be_visible()
    expect(page.get_by_role("link", name="Giao / sửa")).to_have_count(0)
    expect(page.get_by_role("link", name="Giao / điều chỉnh")).to_have_count(0)
    expect(page.locator("#mass-org form")).to_have_count(0)
    shot(page, "01-viewer-allocation")
    page.goto("/chi-tieu/")
    expect(page.get_by_role("button", name="Tính lại")).to_have_count(0)
    shot(page, "02-viewer-dashboard")

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/chi-tieu/phan-bo/{world.base.pk}/sua/",
        form={"admission_quota": "9", "source_quota": "9", "reason": "thử", "version": "0", "year": "2026"},
        headers={"X-CSRFToken": token, "Referer": page.url},
    )
    assert response.status == 403
    page.goto(f"/chi-tieu/phan-bo/{world.base.pk}/sua/")
    shot(page, "03-viewer-403")
    from quotas.models import Quota

    assert not Quota.objects.filter(org=world.base).exists()
