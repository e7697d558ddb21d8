import datetime as dt
import io

import pytest
from docx import Document as DocxDocument
from openpyxl import load_workbook
from PIL import Image

from orgs.models import OrgUnit
from reports.content import date_line, header_for, issuer_name, party_org_name
from reports.documents import Document, FetchRefused, Header, Para, Table, _fetch_local, render
from reports.tests.pdfcheck import assert_fonts_embedded_liberation, first_page_png, pdf_text, squash

# Every letter of the Vietnamese alphabet with every tone, in words short enough to wrap.
VIETNAMESE = (
    "aàảãáạ ăằẳẵắặ âầẩẫấậ b c d đ eèẻẽéẹ êềểễếệ g h iìỉĩíị k l m n oòỏõóọ ôồổỗốộ ơờởỡớợ p q r s t "
    "uùủũúụ ưừửữứự v x yỳỷỹýỵ"
)


def _sample(text: str) -> Document:
    return Document(
        header=Header("ĐẢNG BỘ TỈNH QUẢNG NINH", "THÀNH ỦY UÔNG BÍ", "Số:      -BC/TU", "Uông Bí, ngày 29 tháng 11 năm 2026"),
        title="BÁO CÁO",
        subtitle="kết quả công tác phát triển đảng viên",
        blocks=[
            Para(text),
            Para(text.upper(), "heading"),
            Table("Biểu thử", ["Loại hình", "2023"], [["Khu dân cư", 79], ["=HYPERLINK(\"x\")", 1]], sheet="Bieu"),
        ],
        recipients=["- Ban Tổ chức Tỉnh ủy (b/c),", "- Lưu: VP, BTC."],
        on_behalf="T/M BAN THƯỜNG VỤ",
        position="BÍ THƯ",
    )


def test_pdf_embeds_liberation_serif_and_every_vietnamese_letter_round_trips(tmp_path):
    path = tmp_path / "sample.pdf"
    path.write_bytes(render(_sample(VIETNAMESE), "pdf"))
    assert_fonts_embedded_liberation(path)
    text = squash(pdf_text(path))
    assert VIETNAMESE in text
    assert VIETNAMESE.upper() in text
    for line in ("ĐẢNG CỘNG SẢN VIỆT NAM", "Uông Bí, ngày 29 tháng 11 năm 2026", "Nơi nhận:", "T/M BAN THƯỜNG VỤ"):
        assert line in text


def test_pdf_first_page_renders_to_a_non_blank_a4_image(tmp_path):
    path = tmp_path / "sample.pdf"
    path.write_bytes(render(_sample("Kết nạp đảng viên"), "pdf"))
    png = first_page_png(path, tmp_path / "page")
    with Image.open(png) as image:
        width, height = image.size
        assert abs(height / width - 297 / 210) < 0.01  # A4 portrait
        assert image.convert("L").getextrema()[0] < 100  # there is ink on the page


def test_fetcher_refuses_everything_but_the_fonts_and_static_files():
    assert _fetch_local("font:LiberationSerif-Regular.ttf")[0][:4] in (b"\x00\x01\x00\x00", b"true")
    for url in ("http://127.0.0.1/x.css", "file:///etc/passwd", "font:../../etc/passwd", "static:../config/x.py",
                "font:DejaVuSans.ttf", "data:text/css,body{}"):
        with pytest.raises(FetchRefused):
            _fetch_local(url)


def test_docx_is_a4_times_new_roman_with_header_and_tables():
    doc = DocxDocument(io.BytesIO(render(_sample("Nội dung"), "docx")))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert doc.styles["Normal"].font.name == "Times New Roman"
    head = doc.tables[0]
    assert "THÀNH ỦY UÔNG BÍ" in head.cell(0, 0).text and "ĐẢNG CỘNG SẢN VIỆT NAM" in head.cell(0, 1).text
    assert [c.text for c in doc.tables[1].rows[1].cells] == ["Khu dân cư", "79"]
    assert "Nơi nhận:" in doc.tables[-1].cell(0, 0).text


def test_xlsx_neutralises_text_that_would_run_as_a_formula():
    wb = load_workbook(io.BytesIO(render(_sample("x"), "xlsx")))
    ws = wb["Bieu"]
    assert ws["A4"].value == "'=HYPERLINK(\"x\")" and ws["A4"].data_type == "s"
    assert ws["B3"].value == 79


@pytest.mark.django_db
def test_header_names_follow_the_committee(world):
    assert party_org_name(world.city) == "Đảng bộ thành phố Thử nghiệm"
    uongbi = OrgUnit(name="Thành ủy Uông Bí")
    assert party_org_name(uongbi) == "Đảng bộ thành phố Uông Bí"
    assert issuer_name(OrgUnit(name="Đảng bộ phường Quang Trung")) == "Đảng ủy phường Quang Trung"
    assert date_line("Uông Bí", dt.date(2026, 2, 5)) == "Uông Bí, ngày 05 tháng 02 năm 2026"
    header = header_for(world.city, doc_code="BC", on=dt.date(2026, 11, 29))
    assert header.superior == "ĐẢNG BỘ TỈNH THỬ NGHIỆM" and header.issuer == "THÀNH ỦY THỬ NGHIỆM"
    assert header.number.endswith("-BC/TU") and header.place_date == "Thử nghiệm, ngày 29 tháng 11 năm 2026"


def test_the_font_files_the_pdf_loads_cover_every_vietnamese_letter():
    """Liberation 1.x lacks ơ, ư, ạ…: a fallback font would then fill in. The files we load must not need one."""
    from fontTools.ttLib import TTFont

    from reports.documents import FONT_FILES, font_dir

    letters = {ch for ch in VIETNAMESE + VIETNAMESE.upper() + "–" if not ch.isspace()}
    for name in FONT_FILES.values():
        cmap = TTFont(font_dir() / name).getBestCmap()
        missing = sorted(ch for ch in letters if ord(ch) not in cmap)
        assert not missing, f"{name} lacks {''.join(missing)}"


@pytest.mark.django_db
def test_a_sector_breakdown_that_does_not_add_up_shows_the_gap(world):
    """Seed 000's own sector lines leave admissions unassigned: the report shows such a gap, never hides it."""
    from quotas.models import Attainment
    from reports.content import _sector_table

    Attainment.objects.create(org=world.city, year=2023, admitted=10, by_group={"sector": {"giao_duc": 7}})
    table = _sector_table(world.city, [2022, 2023])
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows["Sự nghiệp giáo dục"] == [0, 7, 7]
    assert rows["Cộng theo loại hình"] == [0, 7, 7]
    assert rows["Tổng số kết nạp"] == [0, 10, 10]
    assert rows["Chênh lệch (chưa phân theo loại hình)"] == [0, 3, 3]
    assert "Chênh lệch" in table.note
