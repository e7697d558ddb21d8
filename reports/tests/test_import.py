import datetime as dt
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from accounts.models import Role
from members.models import Person
from orgs.models import OrgUnit, OrgYearStat
from quotas.models import Quota
from recruitment.models import Candidate, Stage, Transition
from reports.importer import import_workbook, marked_workbook
from reports.tests.helpers import hoso_sheet, make_workbook, person_row
from reports.workbook import HOSO, SHEETS, blank_template, header_key, header_map, parse_date
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _good_workbook(*, bad: dict | None = None) -> bytes:
    rows = [person_row(1), person_row(2), person_row(3, branch="T.C.NEW.1"), person_row(4)]
    if bad:
        rows[2] = person_row(3, branch="T.C.NEW.1", **bad)
    return make_workbook({
        "ToChuc": [
            ["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại hình", "Thẩm quyền kết nạp"],
            ["T.C.NEW.1", "Chi bộ Khu 5", "T.C.NEW", "chi_bo", "khu_dan_cu", ""],  # child before its parent
            ["T.C.NEW", "Đảng bộ phường Hòa Bình", "T.C", "co_so", "khu_dan_cu", ""],
        ],
        "DangVienDauNam": [["Mã tổ chức", "Năm", "Số đảng viên"], ["T.C.NEW.1", 2025, 31], ["T.C.A.1", 2025, 40]],
        "ChiTieu": [["Mã tổ chức", "Năm", "Chỉ tiêu kết nạp", "Chỉ tiêu tạo nguồn"], ["T.C.A", 2025, 5, 8]],
        "HoSo": hoso_sheet(*rows),
    })


def _snapshot() -> dict:
    return {
        "orgs": list(OrgUnit.objects.order_by("code").values_list("code", "name", "path", "sector")),
        "stats": list(OrgYearStat.objects.order_by("org__code", "year").values_list("org__code", "year", "members_start")),
        "quotas": list(Quota.objects.order_by("org__code", "year").values_list("org__code", "year", "admission_quota",
                                                                               "version")),
        "people": list(Person.objects.order_by("code").values_list("code", "version", "full_name", "branch__code")),
        "candidates": list(Candidate.objects.order_by("person__code").values_list("person__code", "stage", "version",
                                                                                  "decision_date")),
        "transitions": Transition.objects.count(),
        "person_history": Person.history.count(),
        "candidate_history": Candidate.history.count(),
    }


# --------------------------------------------------------------------------------------------------------- layout


def test_headers_match_ignoring_case_spaces_and_diacritics():
    found, missing = header_map(HOSO, ["MA HO SO", " họ  và TÊN ", "ngay sinh", "Giới Tính", "TRINH DO HOC VAN",
                                       "nhom nghe nghiep", "Mã  Chi   Bộ", "Cột thừa"])
    assert missing == []
    assert found["code"] == 0 and found["full_name"] == 1 and found["branch_code"] == 6
    assert header_key("Đảng viên") == header_key("dang VIEN")


def test_dates_read_as_excel_dates_or_dd_mm_yyyy():
    assert parse_date("05/03/2024") == dt.date(2024, 3, 5)
    assert parse_date(dt.datetime(2024, 3, 5, 0, 0)) == dt.date(2024, 3, 5)
    assert parse_date(45356) == dt.date(2024, 3, 5)
    with pytest.raises(ValueError):
        parse_date("31/02/2024")


def test_blank_template_has_the_four_sheets_with_matching_headers():
    wb = load_workbook(io.BytesIO(blank_template()))
    for sheet in SHEETS:
        headers = [c.value for c in wb[sheet.name][1]]
        assert headers == [c.header for c in sheet.columns]


# --------------------------------------------------------------------------------------------------------- import


def test_good_workbook_imports_every_sheet_through_the_services(world):
    result = import_workbook(data=_good_workbook())
    assert result.errors == []
    new = OrgUnit.objects.get(code="T.C.NEW.1")
    parent = OrgUnit.objects.get_parent(new)
    assert parent.code == "T.C.NEW" and OrgUnit.objects.get_parent(parent) == world.city
    assert OrgYearStat.objects.get(org=new, year=2025).members_start == 31
    assert Quota.objects.get(org=world.base, year=2025).admission_quota == 5
    candidate = Candidate.objects.get(person__code="THS-003")
    assert candidate.org == new
    assert candidate.stage == Stage.PROBATIONARY
    assert candidate.decision_date == dt.date(2025, 6, 16)
    assert Transition.objects.filter(candidate=candidate, source="import").exists()


def test_one_bad_row_writes_nothing_and_names_the_row_and_the_rule(world):
    before = _snapshot()
    result = import_workbook(data=_good_workbook(bad={"Số phiếu tán thành chi bộ": 5}))
    assert [(e.sheet, e.row, e.rule_id) for e in result.errors] == [("HoSo", 4, "R-VOTE-BRANCH")]
    assert result.errors[0].column == "Số phiếu tán thành chi bộ"
    assert "R-VOTE-BRANCH" in result.errors[0].message
    assert _snapshot() == before
    assert not OrgUnit.objects.filter(code__startswith="T.C.NEW").exists()


def test_a_minor_is_refused_with_the_age_rule(world):
    rows = hoso_sheet(person_row(1, **{"Ngày sinh": dt.date(2008, 1, 10)}))
    result = import_workbook(data=make_workbook({"HoSo": rows}))
    assert [(e.row, e.rule_id, e.column) for e in result.errors] == [(2, "R-AGE-MIN", "Ngày sinh")]
    assert not Person.objects.filter(code="THS-001").exists()


def test_unreadable_cells_are_reported_with_sheet_row_column(world):
    rows = hoso_sheet(person_row(1, **{"Ngày sinh": "31/13/1999"}), person_row(2, **{"Số CCCD": "12345"}),
                      person_row(3, **{"Giới tính": "Khác"}), person_row(4))
    result = import_workbook(data=make_workbook({"HoSo": rows}))
    assert [(e.sheet, e.row, e.column, e.rule_id) for e in result.errors] == [
        ("HoSo", 2, "Ngày sinh", "IMP-DATE"), ("HoSo", 3, "Số CCCD", "IMP-CCCD"), ("HoSo", 4, "Giới tính", "IMP-CHOICE"),
    ]
    assert not Person.objects.filter(code__startswith="THS-").exists()


def test_reimporting_the_same_workbook_changes_nothing(world):
    data = _good_workbook()
    first = import_workbook(data=data)
    assert first.ok and first.changed > 0
    before = _snapshot()
    second = import_workbook(data=data)
    assert second.ok
    assert second.changed == 0, second.counts
    assert _snapshot() == before


def test_dry_run_checks_everything_and_writes_nothing(world):
    before = _snapshot()
    result = import_workbook(data=_good_workbook(), dry_run=True)
    assert result.ok and result.counts["HoSo"]["created"] == 4
    assert _snapshot() == before


def test_staff_cannot_import_outside_their_subtree(world):
    staff = world.persona("staff_branch")
    rows = hoso_sheet(person_row(1, branch="T.C.A.2"))
    result = import_workbook(data=make_workbook({"HoSo": rows}), actor=staff)
    assert [(e.row, e.rule_id) for e in result.errors] == [(2, "IMP-SCOPE")]
    assert not Person.objects.filter(code__startswith="THS-").exists()


def test_marked_workbook_fills_and_comments_the_bad_cell(world):
    data = _good_workbook(bad={"Số phiếu tán thành chi bộ": 5})
    result = import_workbook(data=data)
    marked = load_workbook(io.BytesIO(marked_workbook(data, result.errors)))
    assert marked.sheetnames[0] == "LoiNhap"
    assert [c.value for c in marked["LoiNhap"][2]][:4] == ["HoSo", 4, "Số phiếu tán thành chi bộ", "R-VOTE-BRANCH"]
    column = [c.value for c in marked["HoSo"][1]].index("Số phiếu tán thành chi bộ") + 1
    cell = marked["HoSo"].cell(row=4, column=column)
    assert cell.comment is not None and "R-VOTE-BRANCH" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("F8CBAD")
    assert marked["HoSo"].cell(row=3, column=column).comment is None


def test_command_exits_1_with_one_line_per_rejected_row(world, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(_good_workbook(bad={"Số phiếu tán thành chi bộ": 5}))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_workbook", str(path))
    assert exit_info.value.code == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    sheet, row, column, rule_id, message = lines[0].split("\t")
    assert (sheet, row, column, rule_id) == ("HoSo", "4", "Số phiếu tán thành chi bộ", "R-VOTE-BRANCH")
    assert message
    assert not Person.objects.filter(code__startswith="THS-").exists()


def test_command_imports_a_good_workbook(world, tmp_path):
    path = tmp_path / "good.xlsx"
    path.write_bytes(_good_workbook())
    call_command("import_workbook", str(path), "--dry-run")
    assert not Person.objects.filter(code__startswith="THS-").exists()
    call_command("import_workbook", str(path))
    assert Person.objects.filter(code__startswith="THS-").count() == 4


def test_board_import_of_root_org_is_refused(world):
    board = UserFactory(role=Role.BOARD, org=world.city)
    data = make_workbook({"ToChuc": [["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại hình", "Thẩm quyền kết nạp"],
                                     ["X", "Tỉnh ủy Khác", "", "tinh", "hanh_chinh", "x"]]})
    result = import_workbook(data=data, actor=board)
    assert [(e.row, e.rule_id) for e in result.errors] == [(2, "IMP-SCOPE")]
    assert not OrgUnit.objects.filter(code="X").exists()


def test_board_may_restate_its_own_node_whose_parent_is_above_it(world):
    board = world.persona("board_city")
    data = make_workbook({"ToChuc": [["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại hình", "Thẩm quyền kết nạp"],
                                     ["T.C", "Thành ủy Thử nghiệm", "T", "cap_tren_co_so", "hanh_chinh", "x"],
                                     ["T.C.Z", "Chi bộ Công ty Z", "T.C", "co_so", "dn_tu_nhan", ""],
                                     ["T.O", "Thành ủy Khác", "T", "cap_tren_co_so", "khac", "x"]]})
    result = import_workbook(data=data, actor=board)
    assert [(e.row, e.rule_id) for e in result.errors] == [(4, "IMP-SCOPE")]  # only the other city is refused
    result = import_workbook(data=make_workbook({"ToChuc": [["Mã", "Tên", "Mã cấp trên", "Cấp", "Loại hình",
                                                             "Thẩm quyền kết nạp"],
                                                            ["T.C", "Thành ủy Thử nghiệm", "T", "cap_tren_co_so",
                                                             "hanh_chinh", "x"],
                                                            ["T.C.Z", "Chi bộ Công ty Z", "T.C", "co_so",
                                                             "dn_tu_nhan", ""]]}), actor=board)
    assert result.ok and result.counts["ToChuc"] == {"created": 1, "updated": 0, "unchanged": 1}
