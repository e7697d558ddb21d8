from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()

# (url name, label, predicate on user). Links to features whose URLs are not installed are skipped.
NAV = [
    ("home", "Tổng quan", lambda u: True),
    ("orgs:tree", "Tổ chức", lambda u: True),
    ("recruitment:candidate_list", "Hồ sơ", lambda u: True),
    ("recruitment:board", "Tiến trình", lambda u: True),
    ("recruitment:due", "Đến hạn", lambda u: True),
    ("recruitment:class_list", "Lớp học", lambda u: True),
    ("quotas:dashboard", "Kết quả", lambda u: True),
    ("quotas:allocation", "Chỉ tiêu", lambda u: True),
    ("reports:documents", "Báo cáo", lambda u: True),
    ("reports:import", "Nhập Excel", lambda u: u.can_edit_people),
    ("core:audit_log", "Nhật ký", lambda u: u.can_manage_orgs),
]


@register.simple_tag(takes_context=True)
def nav_items(context) -> list[dict]:
    user = context["request"].user
    items = []
    for name, label, allowed in NAV:
        if not allowed(user):
            continue
        try:
            items.append({"name": name.split(":")[-1], "url": reverse(name), "label": label})
        except NoReverseMatch:
            continue
    return items
