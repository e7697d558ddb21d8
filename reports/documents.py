"""Document layout engine: one neutral description of a Party document, rendered to .docx, .pdf and .xlsx.

Layout follows Hướng dẫn 36-HD/VPTW: A4; top/bottom margins 2 cm, left 3 cm, right 1.5 cm; Times New
Roman (or its metric twin Liberation Serif) 13–14 pt; the issuing committee's name top left with its
superior above and a star below, "ĐẢNG CỘNG SẢN VIỆT NAM" top right with the place/date line in italics
under it; number; title; body; "Nơi nhận" bottom left; signature block bottom right.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

FONT_FAMILY_DOCX = "Times New Roman"
# Liberation Serif 2.x (Debian fonts-liberation2; 1.x lacks the Vietnamese letters ơ, ư, ạ…) is metric-compatible
# with Times New Roman; the PDF embeds it.
FONT_FILES = {
    ("normal", "normal"): "LiberationSerif-Regular.ttf",
    ("bold", "normal"): "LiberationSerif-Bold.ttf",
    ("normal", "italic"): "LiberationSerif-Italic.ttf",
    ("bold", "italic"): "LiberationSerif-BoldItalic.ttf",
}


def font_dir() -> Path:
    # Shipped with the project (SIL OFL, static/fonts/LICENSE-Liberation.txt) so no system package is needed.
    return Path(getattr(settings, "REPORT_FONT_DIR", settings.BASE_DIR / "static" / "fonts"))


@dataclass
class Header:
    superior: str  # "ĐẢNG BỘ TỈNH QUẢNG NINH" ("" for a root committee)
    issuer: str  # "THÀNH ỦY UÔNG BÍ"
    number: str  # "Số:     -BC/TU"
    place_date: str  # "Uông Bí, ngày 29 tháng 11 năm 2026"


@dataclass
class Para:
    text: str
    style: str = "body"  # body | heading | subheading | note
    bold: bool = False
    italic: bool = False


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]  # cells: str, int, float (a percentage is a float with `percent_cols`) or None
    widths: list[float] = field(default_factory=list)  # relative widths
    bold_rows: set[int] = field(default_factory=set)
    percent_cols: set[int] = field(default_factory=set)
    note: str = ""
    sheet: str = ""  # xlsx sheet name (≤ 31 chars)


@dataclass
class Document:
    header: Header
    title: str
    subtitle: str
    blocks: list[Para | Table]
    recipients: list[str]
    on_behalf: str  # "T/M BAN THƯỜNG VỤ"
    position: str  # "BÍ THƯ"
    signer: str = ""
    filename_stem: str = "van-ban"

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


# ---------------------------------------------------------------------------------------------------------
# Cell text


def fmt_int(value) -> str:
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")


def fmt_pct(value) -> str:
    if value is None:
        return "–"
    return f"{float(value):.1f}".replace(".", ",") + "%"


def cell_text(table: Table, col: int, value) -> str:
    if value is None:
        return "–"
    if col in table.percent_cols and is_number(value):
        return fmt_pct(value)
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------------------
# DOCX (python-docx)


def render_docx(doc: Document) -> bytes:
    from docx import Document as DocxDocument
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    out = DocxDocument()
    section = out.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)

    normal = out.styles["Normal"]
    normal.font.name = FONT_FAMILY_DOCX
    normal.font.size = Pt(14)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT_FAMILY_DOCX)
    normal.paragraph_format.space_after = Pt(0)

    def para(container, text="", *, bold=False, italic=False, size=14, align=None, underline=False,
             space_after=0, first_indent=None):
        p = container.add_paragraph()
        if text:
            run = p.add_run(text)
            run.bold, run.italic, run.underline = bold, italic, underline
            run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        p.paragraph_format.space_after = Pt(space_after)
        if first_indent is not None:
            p.paragraph_format.first_line_indent = Cm(first_indent)
        return p

    def borderless(table):
        tbl_pr = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            element = OxmlElement(f"w:{edge}")
            element.set(qn("w:val"), "nil")
            borders.append(element)
        tbl_pr.append(borders)

    def first_para(cell):
        p = cell.paragraphs[0]
        return p

    # Header: two columns, no borders.
    head = out.add_table(rows=1, cols=2)
    borderless(head)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.width, right.width = Cm(7.5), Cm(9)
    center = WD_ALIGN_PARAGRAPH.CENTER
    p = first_para(left)
    p.alignment = center
    if doc.header.superior:
        run = p.add_run(doc.header.superior)
        run.font.size = Pt(14)
        p = left.add_paragraph()
        p.alignment = center
    run = p.add_run(doc.header.issuer)
    run.bold = True
    run.font.size = Pt(14)
    para(left, "*", align=center, size=14)
    para(left, doc.header.number, align=center, size=14)
    p = first_para(right)
    p.alignment = center
    run = p.add_run("ĐẢNG CỘNG SẢN VIỆT NAM")
    run.bold, run.underline = True, True
    run.font.size = Pt(15)
    para(right, "")
    para(right, doc.header.place_date, italic=True, align=center, size=14)

    para(out, "")
    para(out, doc.title, bold=True, align=center, size=15)
    if doc.subtitle:
        para(out, doc.subtitle, bold=True, align=center, size=14)
    para(out, "-----", align=center, size=14, space_after=6)

    justify = WD_ALIGN_PARAGRAPH.JUSTIFY
    for block in doc.blocks:
        if isinstance(block, Para):
            if block.style == "heading":
                para(out, block.text, bold=True, size=14, align=justify, space_after=6, first_indent=1)
            elif block.style == "subheading":
                para(out, block.text, bold=True, italic=True, size=14, align=justify, space_after=6, first_indent=1)
            elif block.style == "note":
                para(out, block.text, italic=True, size=12, align=justify, space_after=6)
            else:
                para(out, block.text, bold=block.bold, italic=block.italic, size=14, align=justify,
                     space_after=6, first_indent=1)
            continue
        if block.title:
            para(out, block.title, bold=True, size=13, align=center, space_after=3)
        table = out.add_table(rows=1 + len(block.rows), cols=len(block.columns))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        total_width = 16.5
        widths = block.widths or [1] * len(block.columns)
        scale = total_width / sum(widths)
        for index, header in enumerate(block.columns):
            cell = table.rows[0].cells[index]
            cell.width = Cm(widths[index] * scale)
            p = cell.paragraphs[0]
            p.alignment = center
            run = p.add_run(header)
            run.bold = True
            run.font.size = Pt(12)
        for r, values in enumerate(block.rows, start=1):
            for c, value in enumerate(values):
                cell = table.rows[r].cells[c]
                cell.width = Cm(widths[c] * scale)
                p = cell.paragraphs[0]
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if is_number(value) else WD_ALIGN_PARAGRAPH.LEFT
                run = p.add_run(cell_text(block, c, value))
                run.font.size = Pt(12)
                run.bold = (r - 1) in block.bold_rows
        if block.note:
            para(out, block.note, italic=True, size=12, align=justify)
        para(out, "", space_after=6)

    # Recipients (left) and signature (right).
    tail = out.add_table(rows=1, cols=2)
    borderless(tail)
    left, right = tail.rows[0].cells
    left.width, right.width = Cm(8), Cm(8.5)
    p = first_para(left)
    run = p.add_run("Nơi nhận:")
    run.bold, run.italic, run.underline = True, False, True
    run.font.size = Pt(12)
    for line in doc.recipients:
        para(left, line, size=12)
    p = first_para(right)
    p.alignment = center
    run = p.add_run(doc.on_behalf)
    run.bold = True
    run.font.size = Pt(14)
    para(right, doc.position, bold=True, align=center, size=14)
    for _ in range(4):
        para(right, "")
    if doc.signer:
        para(right, doc.signer, bold=True, align=center, size=14)

    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# PDF (WeasyPrint)


class FetchRefused(ValueError):
    pass


def _fetch_local(url: str) -> tuple[bytes, str]:
    """Resolve only `font:NAME` (the Liberation files) and `static:PATH` (the project's own static files).

    The HTML is ours, but its text comes from users (organisation names): refusing every other URL means
    no request ever leaves the machine and no local file outside these two folders can be read."""
    parsed = urlparse(url)
    if parsed.scheme == "font":
        name = Path(unquote(parsed.path)).name
        if name not in FONT_FILES.values():
            raise FetchRefused(f"font not allowed: {name}")
        return (font_dir() / name).read_bytes(), "font/ttf"
    if parsed.scheme == "static":
        relative = unquote(parsed.path).lstrip("/")
        if ".." in Path(relative).parts:
            raise FetchRefused(url)
        found = finders.find(relative)
        if not found:
            raise FetchRefused(url)
        return Path(found).read_bytes(), "text/css" if relative.endswith(".css") else "application/octet-stream"
    raise FetchRefused(f"refused: {url[:80]}")


def document_url_fetcher():
    """A WeasyPrint fetcher that only knows `_fetch_local`; any failure stops the rendering (no silent tofu)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            body, mime = _fetch_local(url)
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})

    return LocalOnlyFetcher(fail_on_errors=True, allowed_protocols=("font", "static"))


def render_html(doc: Document) -> str:
    fonts = {
        "regular": f"font:{FONT_FILES['normal', 'normal']}",
        "bold": f"font:{FONT_FILES['bold', 'normal']}",
        "italic": f"font:{FONT_FILES['normal', 'italic']}",
        "bolditalic": f"font:{FONT_FILES['bold', 'italic']}",
    }
    return render_to_string(
        "reports/document.html", {"doc": doc, "blocks": [_html_block(b) for b in doc.blocks], "fonts": fonts}
    )


def _html_block(block: Para | Table) -> dict:
    if isinstance(block, Para):
        return {"para": block}
    total = sum(block.widths or [1] * len(block.columns))
    widths = [round(100 * w / total, 2) for w in (block.widths or [1] * len(block.columns))]
    rows = [
        {
            "bold": index in block.bold_rows,
            "cells": [{"text": cell_text(block, c, v), "num": is_number(v)} for c, v in enumerate(values)],
        }
        for index, values in enumerate(block.rows)
    ]
    return {"table": block, "widths": widths, "rows": rows}


def render_pdf(doc: Document) -> bytes:
    from weasyprint import HTML

    html = render_html(doc)
    return HTML(string=html, url_fetcher=document_url_fetcher(), base_url="static:/").write_pdf()


# ---------------------------------------------------------------------------------------------------------
# XLSX (openpyxl)


def _safe_sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(ch for ch in title if ch not in '[]:*?/\\')[:31] or "Bang"
    candidate, n = clean, 2
    while candidate in used:
        suffix = f" ({n})"
        candidate = clean[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate)
    return candidate


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def xlsx_safe(value):
    """A text cell that starts like a formula is prefixed with an apostrophe so no spreadsheet runs it."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def render_xlsx(doc: Document) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    cover = wb.active
    cover.title = "Van ban"
    bold = Font(name=FONT_FAMILY_DOCX, bold=True, size=13)
    plain = Font(name=FONT_FAMILY_DOCX, size=13)
    italic = Font(name=FONT_FAMILY_DOCX, italic=True, size=13)
    lines = [
        (doc.header.superior, plain), (doc.header.issuer, bold), (doc.header.number, plain),
        ("ĐẢNG CỘNG SẢN VIỆT NAM", bold), (doc.header.place_date, italic), ("", plain),
        (doc.title, bold), (doc.subtitle, bold), ("", plain),
    ]
    for text, font in lines:
        cover.append([xlsx_safe(text)])
        cover.cell(row=cover.max_row, column=1).font = font
    for block in doc.blocks:
        if isinstance(block, Para):
            cover.append([xlsx_safe(block.text)])
            cover.cell(row=cover.max_row, column=1).font = bold if block.style in ("heading", "subheading") else plain
    cover.column_dimensions["A"].width = 120
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    used = {cover.title}
    for block in doc.tables():
        ws = wb.create_sheet(_safe_sheet_title(block.sheet or block.title, used))
        ws.append([xlsx_safe(block.title)])
        ws["A1"].font = bold
        ws.append([xlsx_safe(c) for c in block.columns])
        for cell in ws[2]:
            cell.font = Font(name=FONT_FAMILY_DOCX, bold=True, size=12)
            cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
            cell.border = border
        for index, values in enumerate(block.rows):
            out = []
            for c, value in enumerate(values):
                if c in block.percent_cols and is_number(value):
                    out.append(round(float(value) / 100, 4))
                else:
                    out.append(xlsx_safe(value))
            ws.append(out)
            for c, cell in enumerate(ws[ws.max_row]):
                cell.border = border
                cell.font = Font(name=FONT_FAMILY_DOCX, size=12, bold=index in block.bold_rows)
                if c in block.percent_cols and is_number(values[c]):
                    cell.number_format = "0.0%"
                elif is_number(values[c]):
                    cell.number_format = "#,##0"
        if block.note:
            ws.append([])
            ws.append([xlsx_safe(block.note)])
            ws.cell(row=ws.max_row, column=1).font = italic
        widths = block.widths or [1] * len(block.columns)
        for c, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = max(10, min(60, width * 6))
        ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


RENDERERS = {"docx": render_docx, "pdf": render_pdf, "xlsx": render_xlsx}
CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(doc: Document, fmt: str) -> bytes:
    return RENDERERS[fmt](doc)
