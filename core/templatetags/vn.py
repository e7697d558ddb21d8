from django import template

from core.text import mask_cccd

register = template.Library()


@register.filter
def masked(value: str | None) -> str:
    return mask_cccd(value)


@register.filter
def pct(value, digits: int = 1) -> str:
    """Vietnamese percentage: 3,5%."""
    if value is None:
        return "–"
    return f"{float(value):.{digits}f}".replace(".", ",") + "%"


@register.filter
def vnint(value) -> str:
    """Vietnamese thousands separator: 7.894."""
    if value is None:
        return "–"
    return f"{int(value):,}".replace(",", ".")
