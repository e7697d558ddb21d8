"""Vietnamese text helpers: NFC normalisation and diacritics-insensitive folding for search."""

import unicodedata


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value or "").strip()


def fold(value: str) -> str:
    """Lower-case ASCII skeleton: "Nguyễn Đức" -> "nguyen duc", so "nguyen" and "d" find them."""
    decomposed = unicodedata.normalize("NFD", (value or "").replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())


def mask_cccd(cccd: str | None) -> str:
    """Show only the last 4 digits of a citizen ID in lists and exports."""
    if not cccd:
        return ""
    return "•" * max(len(cccd) - 4, 0) + cccd[-4:]
