from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache

from core.forms import AuditFilterForm, action_label, detail_items, object_label
from core.health import health
from core.selectors import audit_actions_for, audit_entries_for, audit_users_for
from orgs.selectors import visible_orgs


@login_required
def home(request: HttpRequest) -> HttpResponse:
    try:
        dashboard_url = reverse("quotas:dashboard")
    except NoReverseMatch:
        dashboard_url = None
    context = {"org_count": visible_orgs(request.user).count(), "dashboard_url": dashboard_url,
               "pipeline": _home_pipeline_counts(request.user)}
    return render(request, "core/home.html", context)


def _home_pipeline_counts(user) -> dict | None:
    """Open records, due and overdue deadlines in the user's subtree: one aggregate query (None without the app)."""
    from django.db.models import Count, Q
    from django.utils import timezone

    try:
        from recruitment.models import ACTIVE_STAGES
        from recruitment.selectors import candidates_visible, due_filter
    except ImportError:
        return None
    today = timezone.localdate()
    return candidates_visible(user).aggregate(
        active=Count("pk", filter=Q(stage__in=ACTIVE_STAGES)),
        due=Count("pk", filter=due_filter(today)),
        overdue=Count("pk", filter=due_filter(today, overdue_only=True)),
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis, and a recent heartbeat from a worker of each queue; 503 when any is missing."""
    healthy, body = health()
    return JsonResponse(body, status=200 if healthy else 503)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Boards browse the audit trail of their own subtree."""
    if not request.user.can_manage_orgs:
        raise PermissionDenied("Chỉ Ban Tổ chức được xem nhật ký.")
    users = audit_users_for(request.user)
    form = AuditFilterForm(request.GET or None, actions=audit_actions_for(request.user), users=users)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "action": data["action"],
            "actor_id": int(data["actor"]) if data["actor"] else None,
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
    entries = audit_entries_for(request.user, **filters) if form.is_valid() or not request.GET else []
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.action_label = action_label(entry.action)
        entry.object_label = object_label(entry.object_type)
        entry.detail_items = detail_items(entry.detail)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "core/audit_log.html", context)
