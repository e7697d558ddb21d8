"""The import workbook's layout (../shared/spec/interfaces.md): sheets, columns, cell parsing, blank template.

Headers are matched on their folded form (case, spaces and Vietnamese diacritics ignored), so
"Mã cấp trên", "MA CAP TREN" and "ma  cap tren" name the same column.
"""

import datetime as dt
import functools
import io
import re
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.text import fold, nfc
from members.models import Education, Gender, MassOrg, OccupationGroup
from orgs.models import Kind, Sector


class CellError(ValueError):
    """A cell whose content cannot be read; `rule_id` says which import check refused it."""

    def __init__(self, rule_id: str, message: str):
        super().__init__(message)
        self.rule_id = rule_id
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | code | int | date | flag | choice
    required: bool = False
    choices: tuple = ()  # for kind="choice": TextChoices members (value and label both accepted)
    width: int = 18


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def _choice_values(choices) -> tuple:
    return tuple(choices)


TOCHUC = Sheet(
    "ToChuc",
    "Tổ chức đảng",
    (
        Column("code", "Mã", "code", required=True, width=16),
        Column("name", "Tên", required=True, width=40),
        Column("parent_code", "Mã cấp trên", "code", width=16),
        Column("kind", "Cấp", "choice", required=True, choices=_choice_values(Kind), width=16),
        Column("sector", "Loại hình", "choice", required=True, choices=_choice_values(Sector), width=16),
        Column("has_admission_authority", "Thẩm quyền kết nạp", "flag", width=12),
    ),
)

MEMBERS = Sheet(
    "DangVienDauNam",
    "Số đảng viên đầu năm",
    (
        Column("org_code", "Mã tổ chức", "code", required=True, width=16),
        Column("year", "Năm", "int", required=True, width=8),
        Column("members", "Số đảng viên", "int", required=True, width=14),
    ),
)

QUOTAS = Sheet(
    "ChiTieu",
    "Chỉ tiêu",
    (
        Column("org_code", "Mã tổ chức", "code", required=True, width=16),
        Column("year", "Năm", "int", required=True, width=8),
        Column("admission_quota", "Chỉ tiêu kết nạp", "int", required=True, width=14),
        Column("source_quota", "Chỉ tiêu tạo nguồn", "int", width=14),
    ),
)

HOSO = Sheet(
    "HoSo",
    "Hồ sơ quần chúng, đảng viên mới",
    (
        Column("code", "Mã hồ sơ", "code", required=True, width=14),
        Column("full_name", "Họ và tên", required=True, width=26),
        Column("birth_date", "Ngày sinh", "date", required=True, width=12),
        Column("gender", "Giới tính", "choice", required=True, choices=_choice_values(Gender), width=9),
        Column("ethnicity", "Dân tộc", width=10),
        Column("religion", "Tôn giáo", width=10),
        Column("cccd", "Số CCCD", "code", width=15),
        Column("education", "Trình độ học vấn", "choice", required=True, choices=_choice_values(Education), width=16),
        Column("is_youth_union_member", "Đoàn viên", "flag", width=9),
        Column(
            "occupation_group", "Nhóm nghề nghiệp", "choice", required=True,
            choices=_choice_values(OccupationGroup), width=18,
        ),
        Column("branch_code", "Mã chi bộ", "code", required=True, width=16),
        Column("nominating_org", "Nguồn giới thiệu", "choice", choices=_choice_values(MassOrg), width=14),
        Column("source_date", "Ngày vào danh sách ưu tú", "date", width=12),
        Column("sympathiser_date", "Ngày cảm tình Đảng", "date", width=12),
        Column("certificate_number", "Số giấy chứng nhận", width=12),
        Column("certificate_date", "Ngày cấp giấy chứng nhận", "date", width=12),
        Column("branch_resolution_date", "Ngày nghị quyết chi bộ", "date", width=12),
        Column("branch_votes_for", "Số phiếu tán thành chi bộ", "int", width=10),
        Column("branch_members_summoned", "Số đảng viên chính thức triệu tập", "int", width=10),
        Column("base_resolution_date", "Ngày nghị quyết đảng ủy", "date", width=12),
        Column("base_votes_for", "Số phiếu tán thành đảng ủy", "int", width=10),
        Column("base_committee_members", "Số cấp ủy viên", "int", width=10),
        Column("deciding_org_code", "Mã cấp ủy quyết định", "code", width=14),
        Column("decision_number", "Số quyết định kết nạp", width=14),
        Column("decision_date", "Ngày quyết định kết nạp", "date", width=12),
        Column("ceremony_date", "Ngày lễ kết nạp", "date", width=12),
        Column("recognition_decision_number", "Số quyết định công nhận", width=14),
        Column("recognition_date", "Ngày công nhận chính thức", "date", width=12),
        Column("exit_date", "Ngày ra khỏi danh sách", "date", width=12),
        Column("exit_reason", "Lý do", width=24),
    ),
)

SHEETS: tuple[Sheet, ...] = (TOCHUC, MEMBERS, QUOTAS, HOSO)

PERSON_KEYS = (
    "code", "full_name", "birth_date", "gender", "ethnicity", "religion", "cccd", "education",
    "is_youth_union_member", "occupation_group", "nominating_org",
)
MILESTONE_KEYS = tuple(
    c.key for c in HOSO.columns if c.key not in PERSON_KEYS and c.key not in ("branch_code", "deciding_org_code")
)


def header_key(text) -> str:
    """Folded header: case, spacing and diacritics do not matter."""
    return fold(str(text or "")).replace(" ", "")


def sheet_for(name: str) -> Sheet | None:
    wanted = header_key(name)
    return next((s for s in SHEETS if header_key(s.name) == wanted), None)


@dataclass
class ParsedRow:
    sheet: str
    row: int  # 1-based row number in the workbook, as Excel shows it
    values: dict
    columns: dict = field(default_factory=dict)  # key -> 1-based column number (for marking cells)


_DATE_RE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


def parse_date(value) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An Excel serial number that openpyxl did not convert (cell not formatted as a date).
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    match = _DATE_RE.match(str(value))
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            pass
    raise CellError("IMP-DATE", f"“{value}” không phải ngày hợp lệ (dd/mm/yyyy)")


def parse_int(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError("IMP-NUMBER", f"“{value}” không phải số nguyên")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip().replace(".", "").replace(",", "")
        if not text.isdigit():
            raise CellError("IMP-NUMBER", f"“{value}” không phải số nguyên không âm")
        number = int(text)
    if number < 0:
        raise CellError("IMP-NUMBER", f"“{value}” không phải số nguyên không âm")
    return number


def parse_flag(value) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = fold(str(value))
    if text in ("", "0", "khong", "no", "false"):
        return False
    if text in ("x", "1", "co", "yes", "true"):
        return True
    raise CellError("IMP-FLAG", f"“{value}”: chỉ ghi “x” hoặc để trống")


def parse_choice(value, choices) -> str | None:
    if value is None or not str(value).strip():
        return None
    found = _choice_spellings(choices).get(fold(str(value)))
    if found is None:
        allowed = ", ".join(str(c.value) for c in choices)
        raise CellError("IMP-CHOICE", f"“{value}” không thuộc danh mục ({allowed})")
    return found


@functools.cache
def _choice_spellings(choices) -> dict[str, str]:
    """Folded value, label and "value with spaces" -> value (a sheet of 20,000 rows asks the same few)."""
    spellings: dict[str, str] = {}
    for choice in reversed(list(choices)):  # the first choice wins a clash, as a scan in order would
        for spelling in (fold(choice.value), fold(str(choice.label)), fold(choice.value).replace("_", " ")):
            spellings[spelling] = choice.value
    return spellings


def parse_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value))


def parse_cell(column: Column, value):
    if column.kind == "date":
        parsed = parse_date(value)
    elif column.kind == "int":
        parsed = parse_int(value)
    elif column.kind == "flag":
        parsed = parse_flag(value)
    elif column.kind == "choice":
        parsed = parse_choice(value, column.choices)
    else:
        parsed = parse_text(value)
    if column.required and parsed in (None, ""):
        raise CellError("IMP-REQUIRED", f"Thiếu “{column.header}”")
    return parsed


def header_map(sheet: Sheet, header_row: tuple) -> tuple[dict[str, int], list[str]]:
    """Column key -> 0-based index in the row; and the headers of required columns that are missing."""
    by_folded = {header_key(c.header): c for c in sheet.columns}
    found: dict[str, int] = {}
    for index, text in enumerate(header_row):
        column = by_folded.get(header_key(text))
        if column is not None and column.key not in found:
            found[column.key] = index
    missing = [c.header for c in sheet.columns if c.required and c.key not in found]
    return found, missing


def blank_template() -> bytes:
    """The workbook users fill in: the four sheets with their headers and a sheet of allowed values."""
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="B3131B")
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.name)
        for index, column in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=index, value=column.header)
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[get_column_letter(index)].width = column.width
            if column.kind == "date":
                for row in range(2, 202):
                    ws.cell(row=row, column=index).number_format = "DD/MM/YYYY"
        ws.freeze_panes = "A2"
    guide = wb.create_sheet("HuongDan")
    guide.append(["Cột", "Giá trị được chấp nhận"])
    guide["A1"].font = guide["B1"].font = Font(bold=True)
    for sheet in SHEETS:
        for column in sheet.columns:
            if column.kind == "choice":
                allowed = "; ".join(f"{c.value} ({c.label})" for c in column.choices)
            elif column.kind == "date":
                allowed = "ngày Excel hoặc dd/mm/yyyy"
            elif column.kind == "flag":
                allowed = "x hoặc để trống"
            elif column.kind == "int":
                allowed = "số nguyên không âm"
            else:
                continue
            guide.append([f"{sheet.name} · {column.header}", allowed])
    guide.append([])
    guide.append(["Ghi chú", "Tiêu đề cột không phân biệt hoa thường, dấu và khoảng trắng; cột thừa được bỏ qua."])
    guide.column_dimensions["A"].width = 42
    guide.column_dimensions["B"].width = 120
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
