"""Select boxes rendered as one string. Django's Select renders one template per option: for a whole subtree (a
province has ~10,000 nodes) that costs about a second, and even the list's short filter boxes, shown on every
view of the list and the board, spent a third of the page's time there."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape

from django import forms
from django.forms.utils import flatatt
from django.utils.safestring import SafeString, mark_safe


def options_html(options: Iterable[tuple[int, str]], selected=None, empty_label: str | None = None) -> SafeString:
    """`<option>` tags for (value, label) pairs, the one equal to `selected` marked selected."""
    chosen = "" if selected is None else str(selected)
    parts = []
    if empty_label is not None:
        parts.append(f'<option value=""{" selected" if not chosen else ""}>{escape(empty_label)}</option>')
    for value, label in options:
        value = str(value)
        mark = " selected" if value == chosen else ""
        parts.append(f'<option value="{escape(value)}"{mark}>{escape(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value and label is escaped above


class SubtreeSelect(forms.Widget):
    """Renders like a Bootstrap select; `options` is called only when the widget is rendered (an htmx partial
    that does not show the form reads nothing)."""

    def __init__(self, options: Callable[[], Iterable[tuple[int, str]]], *, empty_label: str | None = None, attrs=None):
        super().__init__(attrs)
        self.options = options
        self.empty_label = empty_label

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        classes = [c for c in final.get("class", "").split() if c != "form-control"]
        final["class"] = " ".join(["form-select", *[c for c in classes if c != "form-select"]])
        final["name"] = name
        body = options_html(self.options(), value, self.empty_label)
        return mark_safe(f"<select{flatatt(final)}>{body}</select>")  # noqa: S308 - attributes escaped by flatatt


class ChoiceSelect(forms.Select):
    """A ChoiceField's select box (its "" choice as the empty option), like Django's but without the templates."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        classes = final.get("class", "").split()
        final["class"] = " ".join(["form-select", *[c for c in classes if c not in ("form-select", "form-control")]])
        choices = [(str(v), str(label)) for v, label in self.choices]
        empty = next((label for v, label in choices if v == ""), None)
        body = options_html([(v, label) for v, label in choices if v != ""], value, empty)
        return mark_safe(f"<select{flatatt(final)}>{body}</select>")  # noqa: S308 - attributes escaped by flatatt
