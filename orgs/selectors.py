"""The one place that decides what a user may see: their organisation's subtree."""

from collections.abc import Sequence

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Substr
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


def members_start_totals(orgs: Sequence[OrgUnit], year: int) -> dict[int, int]:
    """Members at the start of `year` for each of `orgs` (nodes, or anything with their `pk`, `path` and `depth`),
    summed over its subtree (counts are entered per node for its own members). Read live, so a corrected count shows at once. One query: the sums are grouped in SQL
    down to the deepest listed level, so a province page listing ~15 nodes reads ~15 sums, not ~9,000 rows."""
    if not orgs:
        return {}
    from orgs.models import OrgYearStat

    step = OrgUnit.steplen
    top_depth = min(org.depth for org in orgs)
    deepest = max(org.depth for org in orgs)
    tops = Q()
    for path in {org.path for org in orgs if org.depth == top_depth}:
        tops |= Q(org__path__startswith=path)
    sums = (
        OrgYearStat.objects.filter(tops, year=year)
        .annotate(prefix=Substr("org__path", 1, deepest * step))
        .values_list("prefix")
        .annotate(n=Sum("members_start"))
        .order_by()
    )
    listed = {org.path: org.pk for org in orgs}
    totals: dict[int, int] = {}
    for path, count in sums:
        for end in range(top_depth * step, len(path) + 1, step):
            pk = listed.get(path[:end])
            if pk is not None:
                totals[pk] = totals.get(pk, 0) + count
    return totals
