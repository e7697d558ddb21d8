from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from core.models import AuditLog

# The request being served, so services that do not take one still record who and from where.
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address. X-Forwarded-For is trusted only as far as our own proxies wrote it: clients
    can send any value, so with N proxies in front the N-th entry from the right is the real client."""
    if request is None:
        return None
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def audit(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    org=None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Record who did what to which object from where. `detail` must not carry personal data."""
    if request is None:
        request = current_request.get()
    user = getattr(request, "user", None)
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    return AuditLog.objects.create(
        action=action,
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        org=org,
        org_path=org.path if org is not None else "",
        ip=client_ip(request),
        detail=detail or {},
    )
