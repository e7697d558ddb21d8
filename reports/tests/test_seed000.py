"""Done-when of issue #5: a workbook reproducing seed 000 (Uông Bí, 30/10/2023) imports, and the results report
shows the seed's figures in Word, PDF and Excel, read back as a user's tools would read them.

Expected figures are the seed's own (../shared/seeds/000, DOMAIN.md §7), not the fixture's."""

import datetime as dt
import io
import re

import pytest
from docx import Document as DocxDocument
from openpyxl import load_workbook
from PIL import Image

from fixtures.seed000_workbook import build
from members.models import Person
from orgs.models import OrgUnit
from quotas.selectors import attainment_for
from recruitment.models import Candidate, Transition
from reports.importer import import_workbook
from reports.services import report_generate
from reports.tests.pdfcheck import assert_fonts_embedded_liberation, first_page_png, pdf_text, squash

pytestmark = pytest.mark.django_db

YEARS = [2020, 2021, 2022, 2023]
ADMITTED = [150, 200, 213, 230]  # = 793
BY_SECTOR = {
    "Sự nghiệp giáo dục": [62, 95, 106, 88],
    "Sự nghiệp y tế": [15, 13, 6, 4],
    "Doanh nghiệp nhà nước": [14, 21, 14, 15],
    "Đơn vị kinh tế tư nhân": [36, 45, 31, 31],
    "Khu dân cư (thôn, tổ dân phố)": [13, 20, 47, 79],
}


def _numbers(cells) -> list[int]:
    return [int(str(c).replace(".", "")) for c in cells]


def _check_docx(data: bytes) -> None:
    doc = DocxDocument(io.BytesIO(data))
    by_label = {}
    for table in doc.tables:
        header = [c.text for c in table.rows[0].cells]
        if header[:1] == ["Loại hình"] and header[1:5] == [str(y) for y in YEARS]:
            by_label = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in table.rows[1:]}
    assert by_label, "no sector table in the Word document"
    assert _numbers(by_label["Tổng số kết nạp"]) == [*ADMITTED, 793]
    for label, counts in BY_SECTOR.items():
        assert _numbers(by_label[label]) == [*counts, sum(counts)], label
    assert "Chênh lệch (chưa phân theo loại hình)" not in by_label  # every person here has a branch and a sector


def _check_pdf(data: bytes, tmp_path) -> None:
    path = tmp_path / "results.pdf"
    path.write_bytes(data)
    assert_fonts_embedded_liberation(path)
    with Image.open(first_page_png(path, tmp_path / "results-page")) as page:
        assert abs(page.height / page.width - 297 / 210) < 0.01 and page.convert("L").getextrema()[0] < 100
    lines = pdf_text(path, layout=True).splitlines()

    def row(label: str) -> list[int]:
        for line in lines:
            if line.strip().startswith(label):
                return _numbers(re.findall(r"\d[\d.]*", line[line.index(label) + len(label):]))
        raise AssertionError(f"{label!r} not in the PDF text")

    assert row("Tổng số kết nạp") == [*ADMITTED, 793]
    for label, counts in BY_SECTOR.items():
        assert row(label) == [*counts, sum(counts)], label
    text = squash(pdf_text(path))
    assert "đã kết nạp 793 đảng viên mới (năm 2020: 150; năm 2021: 200; năm 2022: 213; năm 2023: 230)" in text
    for line in ("ĐẢNG BỘ TỈNH QUẢNG NINH", "THÀNH ỦY UÔNG BÍ", "ĐẢNG CỘNG SẢN VIỆT NAM",
                 "Uông Bí, ngày 29 tháng 11 năm 2026", "Số: -BC/TU", "Nơi nhận:", "T/M BAN THƯỜNG VỤ"):
        assert line in text, line


def _check_xlsx(data: bytes) -> None:
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Theo loai hinh"]
    assert [c.value for c in ws[2]][:6] == ["Loại hình", *[str(y) for y in YEARS], "Cộng"]
    by_label = {r[0]: list(r[1:6]) for r in ws.iter_rows(min_row=3, values_only=True) if r[0]}
    assert by_label["Tổng số kết nạp"] == [*ADMITTED, 793]
    for label, counts in BY_SECTOR.items():
        assert by_label[label] == [*counts, sum(counts)], label
    trend = {r[0]: r for r in wb["Qua cac nam"].iter_rows(min_row=3, values_only=True)}
    assert [trend[str(y)][3] for y in YEARS] == ADMITTED


def test_seed_000_imports_and_the_results_report_shows_its_figures_in_three_formats(tmp_path):
    data = build()
    result = import_workbook(data=data)
    assert result.errors == [], result.errors[:3]
    assert result.counts["HoSo"]["created"] == 793

    city = OrgUnit.objects.get(code="S0.UB")
    assert [attainment_for(org=city, year=y).admitted for y in YEARS] == ADMITTED
    assert attainment_for(org=city, year=2024).members_start == 7894

    on = dt.date(2026, 11, 29)
    _check_docx(report_generate(org=city, year=2023, kind="results", fmt="docx", on=on))
    _check_pdf(report_generate(org=city, year=2023, kind="results", fmt="pdf", on=on), tmp_path)
    _check_xlsx(report_generate(org=city, year=2023, kind="results", fmt="xlsx", on=on))

    # The 2024 plan: 3.5% of 7,894 members = 276 (seed 000).
    plan = tmp_path / "plan.pdf"
    plan.write_bytes(report_generate(org=city, year=2024, kind="plan", fmt="pdf", on=on))
    assert_fonts_embedded_liberation(plan)
    assert "phấn đấu kết nạp 276 đảng viên, bằng 3,5% so với 7.894 đảng viên đầu năm" in squash(pdf_text(plan))

    # Importing the same workbook again changes nothing.
    versions = list(Candidate.objects.order_by("pk").values_list("pk", "version", "stage"))
    people = list(Person.objects.order_by("pk").values_list("pk", "version"))
    transitions = Transition.objects.count()
    again = import_workbook(data=data)
    assert again.ok and again.changed == 0, again.counts
    assert list(Candidate.objects.order_by("pk").values_list("pk", "version", "stage")) == versions
    assert list(Person.objects.order_by("pk").values_list("pk", "version")) == people
    assert Transition.objects.count() == transitions
