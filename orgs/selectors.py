"""The one place that decides what a user may see: their organisation's subtree."""

from django.db.models import Q, QuerySet
from django.http import Http404

from orgs.models import OrgUnit


def user_root_path(user) -> str | None:
    """Materialised path of the user's node; "" means everything (superuser without a node)."""
    if not user.is_authenticated:
        return None
    if user.org_id is None:
        return "" if user.is_superuser else None
    return user.org.path


def visible_orgs(user) -> QuerySet[OrgUnit]:
    path = user_root_path(user)
    if path is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__startswith=path)


def subtree_q(user, org_field: str = "org") -> Q:
    """A filter for any model with a FK to OrgUnit: rows whose org lies in the user's subtree."""
    path = user_root_path(user)
    if path is None:
        return Q(pk__in=[])
    return Q(**{f"{org_field}__path__startswith": path})


def get_org_for_user(user, *, pk: int | None = None, code: str | None = None) -> OrgUnit:
    lookup = {"pk": pk} if pk is not None else {"code": code}
    try:
        return visible_orgs(user).get(**lookup)
    except (OrgUnit.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Không tìm thấy tổ chức") from exc


def org_in_subtree(org: OrgUnit, root: OrgUnit) -> bool:
    return org.path.startswith(root.path)


def subtree(org: OrgUnit, include_self: bool = True) -> QuerySet[OrgUnit]:
    qs = OrgUnit.objects.filter(path__startswith=org.path)
    return qs if include_self else qs.exclude(pk=org.pk)


def ancestors(org: OrgUnit, include_self: bool = False) -> QuerySet[OrgUnit]:
    """All ancestors in one query, from the root down."""
    step = OrgUnit.steplen
    paths = [org.path[:i] for i in range(step, len(org.path) + (step if include_self else 0), step)]
    return OrgUnit.objects.filter(path__in=paths).order_by("depth")


def decision_authority_for(branch: OrgUnit) -> OrgUnit | None:
    """The nearest ancestor above the branch whose committee holds admission authority."""
    return ancestors(branch).filter(has_admission_authority=True).order_by("-depth").first()
