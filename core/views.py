from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from orgs.selectors import visible_orgs


@login_required
def home(request: HttpRequest) -> HttpResponse:
    try:
        dashboard_url = reverse("quotas:dashboard")
    except NoReverseMatch:
        dashboard_url = None
    context = {"org_count": visible_orgs(request.user).count(), "dashboard_url": dashboard_url}
    return render(request, "core/home.html", context)


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        checks["database"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
