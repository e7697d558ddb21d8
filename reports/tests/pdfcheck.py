"""Reading generated PDFs back with poppler (pdffonts, pdftotext, pdftoppm), as a reader would see them."""

import re
import subprocess
import unicodedata
from pathlib import Path


def pdf_fonts(path: Path) -> list[dict]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 7:
            # name type… encoding emb sub uni object gen: the flags are the 5th, 4th and 3rd from the end
            fonts.append({"name": parts[0], "emb": parts[-5], "uni": parts[-3]})
    return fonts


def pdf_text(path: Path, *, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return unicodedata.normalize("NFC", subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def first_page_png(path: Path, out_prefix: Path) -> Path:
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(out_prefix)], check=True)
    return next(out_prefix.parent.glob(out_prefix.name + "*.png"))


def assert_fonts_embedded_liberation(path: Path) -> None:
    fonts = pdf_fonts(path)
    assert fonts, "no font in the PDF"
    for font in fonts:
        assert "Liberation-Serif" in font["name"], f"fallback font used (missing glyphs?): {font['name']}"
        assert font["emb"] == "yes" and font["uni"] == "yes", font
