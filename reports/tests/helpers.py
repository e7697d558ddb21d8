"""Small workbooks for tests, built in code (the fixture of seed 000 lives in fixtures/seed000_workbook.py)."""

import datetime as dt
import io

from openpyxl import Workbook

from fixtures.seed000_workbook import HOSO_HEADERS


def make_workbook(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def person_row(number: int, *, branch: str = "T.C.A.1", decider: str = "T.C", votes: int = 9, summoned: int = 10,
               decision: dt.date = dt.date(2025, 6, 16), name: str | None = None, **overrides) -> list:
    """A HoSo row admitted on `decision`, every rule satisfied unless an override breaks one."""
    values = {
        "Mã hồ sơ": f"THS-{number:03d}",
        "Họ và tên": name or f"Nguyễn Thị Thử {number}",
        "Ngày sinh": dt.date(1998, 5, 17),
        "Giới tính": "Nữ",
        "Dân tộc": "Kinh",
        "Tôn giáo": "Không",
        "Số CCCD": f"0229{number:08d}",
        "Trình độ học vấn": "Đại học",
        "Đoàn viên": "x",
        "Nhóm nghề nghiệp": "vien_chuc",
        "Mã chi bộ": branch,
        "Nguồn giới thiệu": "Đoàn Thanh niên",
        "Ngày vào danh sách ưu tú": decision - dt.timedelta(days=400),
        "Ngày cảm tình Đảng": decision - dt.timedelta(days=300),
        "Số giấy chứng nhận": f"CN-{number}",
        "Ngày cấp giấy chứng nhận": decision - dt.timedelta(days=200),
        "Ngày nghị quyết chi bộ": decision - dt.timedelta(days=28),
        "Số phiếu tán thành chi bộ": votes,
        "Số đảng viên chính thức triệu tập": summoned,
        "Ngày nghị quyết đảng ủy": decision - dt.timedelta(days=14),
        "Số phiếu tán thành đảng ủy": 7,
        "Số cấp ủy viên": 9,
        "Mã cấp ủy quyết định": decider,
        "Số quyết định kết nạp": f"{number}-QĐ/TU",
        "Ngày quyết định kết nạp": decision,
        "Ngày lễ kết nạp": decision + dt.timedelta(days=10),
    }
    values.update(overrides)
    return [values.get(header) for header in HOSO_HEADERS]


def hoso_sheet(*rows: list) -> list[list]:
    return [list(HOSO_HEADERS), *rows]
