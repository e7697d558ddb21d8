import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from core.models import AuditLog
from orgs.selectors import user_root_path


def audit_entries_for(
    user,
    *,
    action: str = "",
    actor_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditLog]:
    """The audit trail of the user's subtree (by the org path copied on each entry), newest first."""
    root = user_root_path(user)
    if root is None:
        return AuditLog.objects.none()
    entries = AuditLog.objects.filter(org_path__startswith=root).select_related("actor", "org")
    if action:
        entries = entries.filter(action=action)
    if actor_id is not None:
        entries = entries.filter(actor_id=actor_id)
    if date_from is not None:
        entries = entries.filter(at__date__gte=date_from)
    if date_to is not None:
        entries = entries.filter(at__date__lte=date_to)
    return entries.order_by("-at", "-pk")


def audit_actions_for(user) -> list[str]:
    root = user_root_path(user)
    if root is None:
        return []
    return list(
        AuditLog.objects.filter(org_path__startswith=root).order_by("action").values_list("action", flat=True).distinct()
    )


def audit_users_for(user) -> QuerySet:
    """Accounts whose entries a board may filter by: those of its own subtree."""
    root = user_root_path(user)
    if root is None:
        return get_user_model().objects.none()
    users = get_user_model().objects.filter(org__path__startswith=root) if root else get_user_model().objects.all()
    return users.order_by("username")
