import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from core.audit import audit
from core.text import fold
from orgs.forms import MembersStartForm, MergeForm, MoveForm, OrgForm, UserForm
from orgs.models import OrgChange, OrgUnit, OrgYearStat
from orgs.selectors import ancestors, get_org_for_user, members_start_totals, visible_orgs
from orgs.services import members_start_set, org_create, org_merge, org_move, org_update


def _year_param(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return dt.date.today().year


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    year = _year_param(request)
    query = request.GET.get("q", "").strip()
    orgs = list(
        visible_orgs(request.user)
        .only("pk", "path", "depth", "numchild", "code", "name", "kind", "sector", "has_admission_authority", "is_active")
        .order_by("path")
    )
    totals = members_start_totals(orgs, year)
    matched_paths: set[str] | None = None
    if query:
        folded = fold(query)
        hits = [org.path for org in orgs if folded in org.name_folded or folded in org.code.lower()]
        step = OrgUnit.steplen
        matched_paths = {hit[:end] for hit in hits for end in range(step, len(hit) + 1, step)}
        orgs = [org for org in orgs if org.path in matched_paths or any(org.path.startswith(h) for h in hits)]
    base_depth = orgs[0].depth if orgs else 1
    rows = [
        {"org": org, "indent": org.depth - base_depth, "members": totals.get(org.pk)} for org in orgs
    ]
    return render(
        request,
        "orgs/tree.html",
        {"rows": rows, "year": year, "query": query, "years": range(dt.date.today().year, 2019, -1)},
    )


@login_required
def org_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    year = _year_param(request)
    children = list(OrgUnit.objects.get_children(org).only("pk", "path", "depth", "numchild", "code", "name", "kind", "sector", "has_admission_authority", "is_active"))
    subtree_orgs = [org, *children]
    totals = _subtree_totals(org, year)
    own_stats = list(OrgYearStat.objects.filter(org=org).order_by("-year"))
    user_root_depth = request.user.org.depth if request.user.org_id else 1
    crumbs = [a for a in ancestors(org) if a.depth >= user_root_depth]
    context = {
        "org": org,
        "year": year,
        "children": [{"org": c, "members": totals.get(c.pk)} for c in children],
        "members_total": totals.get(org.pk),
        "own_stats": own_stats,
        "crumbs": crumbs,
        "changes": OrgChange.objects.filter(org__in=subtree_orgs).select_related("old_parent", "new_parent", "target")[:20],
        "users": User.objects.filter(org=org).order_by("username") if request.user.can_manage_orgs else [],
        "can_manage": request.user.can_manage_orgs,
        "stat_form": MembersStartForm(initial={"year": year}),
    }
    return render(request, "orgs/detail.html", context)


def _subtree_totals(org: OrgUnit, year: int) -> dict[int, int]:
    orgs = list(OrgUnit.objects.filter(path__startswith=org.path).only("pk", "path", "depth").order_by("path"))
    return members_start_totals(orgs, year)


def _require_manager(request: HttpRequest) -> None:
    if not request.user.can_manage_orgs:
        raise PermissionDenied("Chỉ Ban Tổ chức được quản lý tổ chức và người dùng.")


@login_required
def org_add_child(request: HttpRequest, org_id: int) -> HttpResponse:
    parent = get_org_for_user(request.user, pk=org_id)
    _require_manager(request)
    form = OrgForm(request.POST or None, initial={"sector": parent.sector})
    if request.method == "POST" and form.is_valid():
        try:
            child = org_create(parent=parent, actor=request.user, **form.cleaned_data)
        except IntegrityError:
            form.add_error("code", "Mã: đã có tổ chức khác dùng mã này.")
        else:
            messages.success(request, f"Đã thêm {child.name}.")
            return redirect("orgs:detail", org_id=child.pk)
    return render(request, "orgs/form.html", {"form": form, "org": parent, "title": f"Thêm tổ chức trực thuộc {parent.name}"})


@login_required
def org_edit(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    _require_manager(request)
    initial = {f: getattr(org, f) for f in ("code", "name", "kind", "sector", "has_admission_authority")}
    form = OrgForm(request.POST or None, initial=initial, instance=org)
    if request.method == "POST" and form.is_valid():
        org_update(org=org, fields=form.cleaned_data, actor=request.user, request=request)
        messages.success(request, "Đã lưu.")
        return redirect("orgs:detail", org_id=org.pk)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"Sửa {org.name}"})


def _other_nodes(request: HttpRequest, org: OrgUnit):
    return visible_orgs(request.user).exclude(path__startswith=org.path).filter(is_active=True).order_by("path")


@login_required
def org_move_view(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    _require_manager(request)
    if request.user.org_id == org.pk:
        raise PermissionDenied("Không thể chuyển tổ chức gốc của chính mình.")
    form = MoveForm(request.POST or None, candidates=_other_nodes(request, org))
    if request.method == "POST" and form.is_valid():
        org_move(org=org, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Đã chuyển {org.name} về trực thuộc {form.cleaned_data['new_parent'].name}.")
        return redirect("orgs:detail", org_id=org.pk)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"Chuyển trực thuộc: {org.name}"})


@login_required
def org_merge_view(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    _require_manager(request)
    if request.user.org_id == org.pk:
        raise PermissionDenied("Không thể sáp nhập tổ chức gốc của chính mình.")
    form = MergeForm(request.POST or None, candidates=_other_nodes(request, org))
    if request.method == "POST" and form.is_valid():
        target = org_merge(source=org, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Đã sáp nhập {org.name} vào {target.name}.")
        return redirect("orgs:detail", org_id=target.pk)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"Sáp nhập: {org.name}"})


@login_required
def org_members_start(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    _require_manager(request)
    form = MembersStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            stat = members_start_set(org=org, **form.cleaned_data)
            audit(action="org.members_start", request=request, obj=stat, org=org, detail={"year": stat.year})
        messages.success(request, "Đã lưu số đảng viên đầu năm.")
        return redirect("orgs:detail", org_id=org.pk)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"Số đảng viên đầu năm: {org.name}"})


@login_required
def user_add(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    _require_manager(request)
    form = UserForm(request.POST or None, orgs=visible_orgs(request.user).order_by("path"), initial={"org": org})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            user = User.objects.create_user(
                username=data["username"], password=data["password"], first_name=data["full_name"],
                org=data["org"], role=data["role"],
            )
            audit(action="user.create", request=request, obj=user, org=data["org"])
        messages.success(request, f"Đã tạo tài khoản {user.username}.")
        return redirect("orgs:detail", org_id=data["org"].pk)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": "Thêm người dùng"})
