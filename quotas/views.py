"""Ban Tổ chức: dashboards of attainment and the quota allocation pages. Function-based, scoped by org_id."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from members.models import MassOrg
from orgs.models import OrgUnit, Sector
from orgs.selectors import ancestors, get_org_for_user, visible_orgs
from quotas import selectors
from quotas.forms import MassOrgQuotaForm, QuotaForm, SuggestForm
from quotas.models import AttainmentPending
from quotas.services import (
    AGE_BAND_LABELS,
    QuotaVersionConflict,
    mass_org_quota_set,
    quota_set,
    suggested_quota,
)

FIRST_YEAR = 2019


def _year_param(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", "") or request.POST.get("year", ""))
    except ValueError:
        return dt.date.today().year
    return year if 2000 <= year <= 2100 else dt.date.today().year


def _home_org(request: HttpRequest) -> OrgUnit:
    if request.user.org_id:
        return get_org_for_user(request.user, pk=request.user.org_id)
    root = visible_orgs(request.user).order_by("depth", "path").first()
    if root is None:
        raise PermissionDenied
    return root


def can_set_quota(user, org: OrgUnit) -> bool:
    """The board of the parent node sets a node's quota; the root's board sets its own."""
    if not user.can_manage_quotas:
        return False
    if user.is_superuser or user.role == "admin":
        return True
    if user.org_id is None:
        return False
    if org.pk == user.org_id:
        return org.depth == 1
    return org.depth == user.org.depth + 1 and org.path.startswith(user.org.path)


def pace_class(pct_value: float | None, expected: float) -> str:
    """Colour by pace against the calendar: at or ahead of the share of the year gone is green."""
    if pct_value is None:
        return "secondary"
    if pct_value >= expected:
        return "success"
    if pct_value >= expected * 0.75:
        return "warning"
    return "danger"


def _expected_share(year: int, today: dt.date) -> float:
    if year < today.year:
        return 100.0
    if year > today.year:
        return 0.0
    return round(today.timetuple().tm_yday / 365 * 100, 1)


LABELS = {
    "sector": dict(Sector.choices),
    "gender": {"nam": "Nam", "nu": "Nữ"},
    "age_band": AGE_BAND_LABELS,
}


def _breakdown_charts(by_group: dict) -> list[dict]:
    from members.models import Education, OccupationGroup

    labels = {**LABELS, "education": dict(Education.choices), "occupation_group": dict(OccupationGroup.choices)}
    titles = {
        "sector": "Theo loại hình tổ chức",
        "gender": "Theo giới tính",
        "age_band": "Theo độ tuổi (tại ngày quyết định)",
        "education": "Theo trình độ học vấn",
        "occupation_group": "Theo nhóm nghề nghiệp",
    }
    charts = []
    for dim, title in titles.items():
        values = by_group.get(dim) or {}
        order = list(labels[dim]) if dim != "age_band" else list(AGE_BAND_LABELS)
        keys = [k for k in order if values.get(k)] + [k for k in values if k not in order and values[k]]
        charts.append(
            {
                "id": f"chart-{dim}",
                "title": title,
                "labels": [labels[dim].get(k, k) for k in keys],
                "values": [values[k] for k in keys],
            }
        )
    return charts


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return dashboard_org(request, _home_org(request).pk)


@login_required
def dashboard_org(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    if request.method == "POST":
        return _recompute_request(request, org)
    today = dt.date.today()
    year = _year_param(request)
    expected = _expected_share(year, today)
    rows = selectors.attainment_rows(root=org, year=year, depth=1)
    own, children = rows[0], rows[1:]
    for row in rows:
        row.pace = pace_class(row.quota_pct, expected)
        row.bar = min(row.quota_pct or 0, 100)
    years = list(range(max(FIRST_YEAR, year - 6), year + 1))
    trend = selectors.attainment_trend(org=org, years=years)
    figures = selectors.candidate_figures(root=org, year=year, today=today)  # one pass over the candidates
    funnel_counts = selectors.pipeline_funnel(root=org, figures=figures)
    from recruitment.models import EXITS, PIPELINE, Stage

    funnel = [{"stage": s.value, "label": s.label, "n": funnel_counts.get(s.value, 0)} for s in PIPELINE]
    exits = [{"stage": s.value, "label": s.label, "n": funnel_counts.get(s.value, 0)} for s in EXITS]
    flags = selectors.dashboard_flags(root=org, year=year, figures=figures)
    overdue = selectors.overdue_deadlines(root=org, today=today, figures=figures)
    forecast = (
        selectors.year_end_forecast(
            root=org, year=year, today=today, admitted=own.admitted, quota=own.quota, figures=figures
        )
        if year >= today.year
        else None
    )
    crumbs = _crumbs(request, org)
    pending = AttainmentPending.objects.filter(year=year, org_id=org.pk).exists()
    context = {
        "org": org,
        "year": year,
        "years": list(range(today.year + 1, FIRST_YEAR - 1, -1)),
        "own": own,
        "children": children,
        "expected": expected,
        "trend": trend,
        "funnel": funnel,
        "exits": exits,
        "flags": flags,
        "overdue": overdue,
        "forecast": forecast,
        "crumbs": crumbs,
        "pending": pending,
        "charts": _breakdown_charts(own.by_group),
        "flag_years": selectors.NO_ADMISSION_YEARS,
        "children_chart_height": max(240, 26 * len(children) + 70),
        "chart_data": {
            "children": {
                "labels": [c.name for c in children],
                "quota": [c.quota for c in children],
                "admitted": [c.admitted for c in children],
            },
            "trend": {
                "labels": [t["year"] for t in trend],
                "quota": [t["quota"] for t in trend],
                "admitted": [t["admitted"] for t in trend],
                "recognized": [t["recognized"] for t in trend],
                "sources": [t["sources"] for t in trend],
            },
            "funnel": {"labels": [f["label"] for f in funnel], "values": [f["n"] for f in funnel]},
            "breakdowns": _breakdown_charts(own.by_group),
        },
        # Link prefixes for the flag and overdue lists (up to 210 links: one reverse() each cost ~10 % of the page).
        "org_url": reverse("quotas:dashboard_org", args=[0])[: -len("0/")],
        "person_url": reverse("recruitment:person_detail", args=[0])[: -len("0/")],
        "stage_admitted": Stage.ADMITTED,
        "can_recompute": request.user.can_manage_quotas,
    }
    return render(request, "quotas/dashboard.html", context)


def _recompute_request(request: HttpRequest, org: OrgUnit) -> HttpResponse:
    """Queue a recompute of this subtree; the page never waits for it."""
    if not request.user.can_manage_quotas:
        raise PermissionDenied
    from quotas.tasks import attainment_recompute_year

    year = _year_param(request)
    transaction.on_commit(lambda: attainment_recompute_year.delay(year=year, org_id=org.pk))
    messages.info(request, f"Đã yêu cầu tính lại kết quả năm {year}; số liệu sẽ cập nhật sau ít phút.")
    return redirect(f"{reverse('quotas:dashboard_org', args=[org.pk])}?year={year}")


@login_required
def allocation(request: HttpRequest) -> HttpResponse:
    return allocation_org(request, _home_org(request).pk)


@login_required
def allocation_org(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    year = _year_param(request)
    if request.method == "POST":
        return _mass_org_post(request, org, year)
    rows = selectors.attainment_rows(root=org, year=year, depth=1)
    own, children = rows[0], rows[1:]
    suggest_form = SuggestForm(request.GET if "rate" in request.GET else None)
    rate = suggest_form.cleaned_data["rate"] if suggest_form.is_bound and suggest_form.is_valid() else 3.5
    for row in [own, *children]:
        row.suggested = suggested_quota(members_start=row.members_start, rate_pct=float(rate))
        row.editable = can_set_quota(request.user, _as_org(row))
    context = {
        "org": org,
        "year": year,
        "years": list(range(dt.date.today().year + 1, FIRST_YEAR - 1, -1)),
        "own": own,
        "children": children,
        "children_quota_total": sum(c.quota for c in children),
        "children_source_total": sum(c.source_quota for c in children),
        "rate": rate,
        "suggest_form": suggest_form if suggest_form.is_bound else SuggestForm(initial={"rate": rate}),
        "revisions": selectors.revisions_in_subtree(root=org, year=year),
        "mass_org_quotas": [
            (dict(MassOrg.choices).get(m.mass_org, m.mass_org), m.quota)
            for m in selectors.mass_org_quotas(org=org, year=year)
        ],
        "mass_form": MassOrgQuotaForm(),
        "can_set_mass": request.user.can_manage_quotas and (request.user.org_id == org.pk or request.user.is_superuser),
        "crumbs": _crumbs(request, org),
    }
    return render(request, "quotas/allocation.html", context)


def _as_org(row) -> OrgUnit:
    return OrgUnit(pk=row.org_id, path=row.path, depth=row.depth)


def _mass_org_post(request: HttpRequest, org: OrgUnit, year: int) -> HttpResponse:
    if not (request.user.can_manage_quotas and (request.user.org_id == org.pk or request.user.is_superuser)):
        raise PermissionDenied
    form = MassOrgQuotaForm(request.POST)
    if form.is_valid():
        mass_org_quota_set(
            org=org,
            year=year,
            mass_org=form.cleaned_data["mass_org"],
            quota=form.cleaned_data["quota"],
            actor=request.user,
            request=request,
        )
        messages.success(request, "Đã lưu chỉ tiêu giới thiệu của đoàn thể.")
    else:
        messages.error(
            request, "Chỉ tiêu giới thiệu không hợp lệ: " + "; ".join(e for errs in form.errors.values() for e in errs)
        )
    return redirect(f"{reverse('quotas:allocation_org', args=[org.pk])}?year={year}")


@login_required
def quota_edit(request: HttpRequest, org_id: int) -> HttpResponse:
    org = get_org_for_user(request.user, pk=org_id)
    if not can_set_quota(request.user, org):
        raise PermissionDenied
    year = _year_param(request)
    quota = selectors.quota_of(org=org, year=year)
    current = selectors.attainment_for(org=org, year=year)
    revising = quota is not None
    if request.method == "POST":
        form = QuotaForm(request.POST, revising=revising)
        if form.is_valid():
            try:
                quota_set(
                    org=org,
                    year=year,
                    admission_quota=form.cleaned_data["admission_quota"],
                    source_quota=form.cleaned_data["source_quota"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    request=request,
                )
            except QuotaVersionConflict as exc:
                # Keep what the user typed; the hidden version moves on so a second save is a conscious override.
                quota = selectors.quota_of(org=org, year=year)
                data = request.POST.copy()
                data["version"] = quota.version if quota else 0
                form = QuotaForm(data, revising=quota is not None)
                form.is_valid()
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Đã lưu chỉ tiêu năm {year} của {org.name}.")
                parent = OrgUnit.objects.filter(path=org.path[: -OrgUnit.steplen]).first() if org.depth > 1 else None
                target = parent if parent is not None and parent.path.startswith(_user_path(request)) else org
                return redirect(f"{reverse('quotas:allocation_org', args=[target.pk])}?year={year}")
    else:
        form = QuotaForm(
            initial={
                "admission_quota": quota.admission_quota if quota else current.quota,
                "source_quota": quota.source_quota if quota else 0,
                "version": quota.version if quota else 0,
            },
            revising=revising,
        )
    return render(
        request,
        "quotas/quota_form.html",
        {
            "org": org,
            "year": year,
            "form": form,
            "quota": quota,
            "current": current,
            "suggested": suggested_quota(members_start=current.members_start, rate_pct=3.5),
            "revisions": selectors.quota_revisions(org=org, year=year),
        },
    )


def _crumbs(request: HttpRequest, org: OrgUnit) -> list[OrgUnit]:
    """Visible ancestors, root first. Includes the node itself in the query so the count never drops to zero."""
    chain = ancestors(org, include_self=True).filter(path__startswith=_user_path(request))
    return [a for a in chain if a.pk != org.pk]


def _user_path(request: HttpRequest) -> str:
    return request.user.org.path if request.user.org_id else ""
