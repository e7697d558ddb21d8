from typing import Any

from django.db import models
from django.http import HttpRequest

from core.models import AuditLog


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR")) or None


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
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
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
