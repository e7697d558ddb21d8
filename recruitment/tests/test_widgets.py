"""The string-built select boxes render what Django's Select would: the same options, the chosen one selected,
every label escaped, Bootstrap's class."""

from django import forms

from recruitment.widgets import ChoiceSelect


class Filters(forms.Form):
    stage = forms.ChoiceField(required=False, widget=ChoiceSelect,
                              choices=[("", "Tất cả"), ("a", "Cảm tình Đảng"), ("b", "<b>Đ&ảng</b>")])


def test_choice_select_marks_the_chosen_value_and_escapes_labels():
    html = str(Filters({"stage": "b"})["stage"])
    assert html.startswith('<select class="form-select" id="id_stage" name="stage">')
    assert '<option value="">Tất cả</option>' in html
    assert '<option value="a">Cảm tình Đảng</option>' in html
    assert '<option value="b" selected>&lt;b&gt;Đ&amp;ảng&lt;/b&gt;</option>' in html


def test_choice_select_selects_the_empty_option_when_nothing_is_chosen():
    html = str(Filters({})["stage"])
    assert '<option value="" selected>Tất cả</option>' in html and html.count(" selected") == 1


def test_choice_select_keeps_other_classes_but_never_form_control():
    html = ChoiceSelect(choices=[("x", "X")], attrs={"class": "form-control form-select-sm"}).render("s", "x")
    assert 'class="form-select form-select-sm"' in html and '<option value="x" selected>X</option>' in html
