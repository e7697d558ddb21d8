import datetime as dt

from django.db import transaction

from core.audit import audit
from orgs.models import Kind, OrgChange, OrgUnit, OrgYearStat, Sector


def _lineage_for(parent: OrgUnit | None, node_id: int) -> str:
    return f"{parent.lineage if parent else '/'}{node_id}/"


@transaction.atomic
def org_create(
    *,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    sector: str = Sector.OTHER,
    has_admission_authority: bool = False,
    actor=None,
) -> OrgUnit:
    fields = dict(code=code, name=name, kind=kind, sector=sector, has_admission_authority=has_admission_authority)
    node = (
        OrgUnit.objects.add_child(parent, create_kwargs=fields) if parent else OrgUnit.objects.add_root(create_kwargs=fields)
    )
    node.lineage = _lineage_for(parent, node.pk)
    node.save(update_fields=["lineage"])
    if actor is not None:
        audit(action="org.create", actor=actor, obj=node, org=node)
    _pipeline_changed(node.lineage)  # a new branch with no admission yet is flagged on its ancestors' dashboards
    return node


def _refresh_lineage(root: OrgUnit) -> None:
    """Rewrite the lineage of a moved subtree (each node: its parent's lineage plus itself)."""
    nodes = list(OrgUnit.objects.filter(path__startswith=root.path).order_by("path"))
    parent_lineage = {}
    root_parent = OrgUnit.objects.get_parent(root)
    for node in nodes:
        parent_path = node.path[: -OrgUnit.steplen]
        base = parent_lineage.get(parent_path, root_parent.lineage if root_parent else "/")
        node.lineage = f"{base}{node.pk}/"
        parent_lineage[node.path] = node.lineage
    OrgUnit.objects.bulk_update(nodes, ["lineage"])


ORG_EDITABLE = ("code", "name", "kind", "sector", "has_admission_authority")


@transaction.atomic
def org_update(*, org: OrgUnit, fields: dict, actor=None, request=None, source: str = "web") -> list[str]:
    """Change a node's own attributes (not its place: org_move). Returns the names of the fields that changed."""
    changed = [name for name in ORG_EDITABLE if name in fields and getattr(org, name) != fields[name]]
    if not changed:
        return []
    for name in changed:
        setattr(org, name, fields[name])
    org.save(update_fields=changed)
    audit(action="org.update", actor=actor, request=request, obj=org, org=org, detail={"fields": changed, "source": source})
    _pipeline_changed(org.lineage)  # its kind, sector or name decide its dashboard flags
    return changed


def _pipeline_changed(*lineages: str) -> None:
    from quotas.services import pipeline_changed  # quotas owns the dashboard's counts

    pipeline_changed(*lineages)


@transaction.atomic
def org_move(*, org: OrgUnit, new_parent: OrgUnit, effective_date: dt.date, actor=None, note: str = "") -> OrgUnit:
    """Move a node (and its subtree) under another parent. Past events keep the lineage they had."""
    if new_parent.path.startswith(org.path):
        raise ValueError("Không thể chuyển một tổ chức vào chính nó hoặc tổ chức cấp dưới của nó")
    old_parent = OrgUnit.objects.get_parent(org)
    OrgUnit.objects.move(org, new_parent, pos="sorted-child")
    org = OrgUnit.objects.get(pk=org.pk)
    _refresh_lineage(org)
    OrgChange.objects.create(
        org=org, kind=OrgChange.ChangeKind.MOVE, effective_date=effective_date,
        old_parent=old_parent, new_parent=new_parent, actor=actor, note=note,
    )
    audit(action="org.move", actor=actor, obj=org, org=org, detail={"to": new_parent.code})
    moved = OrgUnit.objects.get(pk=org.pk)  # with the lineage _refresh_lineage wrote
    _pipeline_changed(old_parent.lineage if old_parent else "", moved.lineage)  # its candidates count elsewhere now
    return moved


@transaction.atomic
def org_merge(*, source: OrgUnit, target: OrgUnit, effective_date: dt.date, actor=None, note: str = "") -> OrgUnit:
    """Merge `source` into `target`: its children and people move, `source` is closed but keeps its past."""
    if source.pk == target.pk or target.path.startswith(source.path):
        raise ValueError("Không thể sáp nhập một tổ chức vào chính nó hoặc tổ chức cấp dưới của nó")
    for child in list(OrgUnit.objects.get_children(source)):
        org_move(org=child, new_parent=target, effective_date=effective_date, actor=actor, note=f"Sáp nhập {source.code}")
    from members.services import people_transfer_all  # members owns its table

    people_transfer_all(from_org=source, to_org=target, actor=actor, effective_date=effective_date)
    OrgUnit.objects.filter(pk=source.pk).update(is_active=False, dissolved_on=effective_date, merged_into=target)
    OrgChange.objects.create(
        org=source, kind=OrgChange.ChangeKind.MERGE, effective_date=effective_date,
        old_parent=OrgUnit.objects.get_parent(source), target=target, actor=actor, note=note,
    )
    audit(action="org.merge", actor=actor, obj=source, org=target, detail={"into": target.code})
    _pipeline_changed(source.lineage, target.lineage)  # the closed node's flags go
    return OrgUnit.objects.get(pk=target.pk)


def members_start_set(*, org: OrgUnit, year: int, members: int) -> OrgYearStat:
    stat, _ = OrgYearStat.objects.update_or_create(org=org, year=year, defaults={"members_start": members})
    return stat


__all__ = ["Kind", "Sector", "org_create", "org_update", "org_move", "org_merge", "members_start_set"]
