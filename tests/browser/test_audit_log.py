"""A board browses and filters its subtree's audit log in the browser."""

import pytest

from core.audit import audit

pytestmark = pytest.mark.browser


def test_board_filters_the_log_of_its_subtree(world, page, login, shot):
    staff, other = world.persona("staff_branch"), world.persona("board_other")
    audit(action="person.view", actor=staff, org=world.branch, detail={"tab": "timeline"})
    audit(action="candidate.advance", actor=staff, org=world.branch, detail={"to": "cam_tinh"})
    audit(action="person.view", actor=other, org=world.other_branch)
    login(page, world.persona("board_city"))
    page.click("text=Nhật ký")
    table = page.inner_text("#audit-table")
    assert "t.canbo.khu1" in table and "Chuyển giai đoạn" in table
    assert "t.btc.khac" not in table
    page.select_option("select[name=action]", "person.view")
    page.click("button:has-text('Lọc')")
    rows = page.locator("#audit-table tbody tr")
    assert rows.count() == 1 and "Xem hồ sơ" in rows.first.inner_text()
    shot(page, "audit-log-filtered")
