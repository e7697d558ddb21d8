"""Reads of the quotas app. The dashboard, the API and the reports all read attainment through
`attainment_rows` / `attainment_for`, so a figure is computed in one place only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Substr

from orgs.models import OrgUnit, Sector, holds_people
from orgs.selectors import members_start_totals
from quotas.models import Attainment, MassOrgQuota, Quota, QuotaRevision
from quotas.pipeline import (
    FLAG_CONDITIONS,
    FLAGS_KEY,
    NO_ADMISSION_YEARS,
    SHOWN_PER_FLAG,
    flag_nodes_sql,
    flag_params,
    forecast_aggregates,
    subtree_figures,
)
from quotas.services import empty_by_group


def pct(part: int, whole: int) -> float | None:
    """Percentage rounded to one decimal, None when there is nothing to divide by."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass
class AttainmentRow:
    org_id: int
    code: str
    name: str
    kind: str
    sector: str
    path: str
    depth: int
    numchild: int
    is_active: bool
    year: int
    members_start: int = 0
    quota: int = 0
    source_quota: int = 0
    quota_version: int = 0
    allocated_to_children: int = 0
    admitted: int = 0
    recognized: int = 0
    sources: int = 0
    by_group: dict = field(default_factory=empty_by_group)
    computed_at: dt.datetime | None = None

    @property
    def unallocated(self) -> int:
        return self.quota - self.allocated_to_children

    @property
    def quota_pct(self) -> float | None:
        return pct(self.admitted, self.quota)

    @property
    def rate_pct_of_members(self) -> float | None:
        return pct(self.admitted, self.members_start)

    @property
    def source_pct(self) -> float | None:
        return pct(self.sources, self.source_quota)

    @property
    def pk(self) -> int:
        """The node's id under the name the orgs selectors read (members_start_totals takes rows as nodes)."""
        return self.org_id

    @property
    def is_leaf_branch(self) -> bool:
        """A node people belong to: a sub-branch, or a chi bộ cơ sở (a base organisation with no children)."""
        return holds_people(self.kind, self.numchild)

    def as_api(self) -> dict:
        """Exactly the fields of the attainment API (shared/spec/interfaces.md)."""
        return {
            "org": self.code,
            "name": self.name,
            "members_start_of_year": self.members_start,
            "quota": self.quota,
            "allocated_to_children": self.allocated_to_children,
            "admitted": self.admitted,
            "quota_pct": self.quota_pct,
            "rate_pct_of_members": self.rate_pct_of_members,
            "recognized": self.recognized,
            "sources": self.sources,
            "by_group": self.by_group,
        }


_ORG_COLUMNS = ("pk", "code", "name", "kind", "sector", "path", "depth", "numchild", "is_active")
_STORED_COLUMNS = ("admitted", "recognized", "sources", "by_group", "computed_at")


def _rows_for(nodes: list[tuple], year: int) -> list[AttainmentRow]:
    """Attainment of `nodes` (_ORG_COLUMNS tuples of one subtree, in tree order: a province's API answer lists
    ~10,000, so no model instances) for `year`: materialised counts, live quotas and members. Four queries
    whatever the size, each returning about one row per listed node."""
    rows = [AttainmentRow(*node, year=year) for node in nodes]  # _ORG_COLUMNS are its first fields, in order
    ids = [row.org_id for row in rows]
    stored = {
        values[0]: values[1:]
        for values in Attainment.objects.filter(year=year, org_id__in=ids).values_list("org_id", *_STORED_COLUMNS)
    }
    quotas = {
        q["org_id"]: q
        for q in Quota.objects.filter(year=year, org_id__in=ids).values(
            "org_id", "admission_quota", "source_quota", "version"
        )
    }
    members = members_start_totals(rows, year)
    allocated = _allocated_to_children(rows, year)
    for row in rows:
        att = stored.get(row.org_id)
        if att is not None:
            row.admitted, row.recognized, row.sources, by_group, row.computed_at = att
            row.by_group = by_group or empty_by_group()
        q = quotas.get(row.org_id)
        if q is not None:
            row.quota = q["admission_quota"]
            row.source_quota = q["source_quota"]
            row.quota_version = q["version"]
        row.allocated_to_children = allocated.get(row.path, 0)
        row.members_start = members.get(row.org_id, 0)
    return rows


def _allocated_to_children(orgs: list[AttainmentRow], year: int) -> dict[str, int]:
    """Parent path -> the admission quotas allocated to its children, for the listed nodes: summed in SQL."""
    if not orgs:
        return {}
    step = OrgUnit.steplen
    top_depth = min(org.depth for org in orgs)
    tops = Q()
    for path in {org.path for org in orgs if org.depth == top_depth}:
        tops |= Q(org__path__startswith=path)
    return dict(
        Quota.objects.filter(tops, year=year, org__depth__gt=top_depth, org__depth__lte=max(o.depth for o in orgs) + 1)
        .annotate(parent=Substr("org__path", 1, (F("org__depth") - 1) * step))
        .values_list("parent")
        .annotate(n=Sum("admission_quota"))
        .order_by()
    )


def attainment_rows(*, root: OrgUnit, year: int, depth: int | None = 1) -> list[AttainmentRow]:
    """The root and its descendants down to `depth` levels below it (None: the whole subtree), by path."""
    orgs = OrgUnit.objects.filter(path__startswith=root.path)
    if depth is not None:
        orgs = orgs.filter(depth__lte=root.depth + depth)
    return _rows_for(list(orgs.order_by("path").values_list(*_ORG_COLUMNS)), year)


def attainment_for(*, org: OrgUnit, year: int) -> AttainmentRow:
    return attainment_rows(root=org, year=year, depth=0)[0]


def attainment_trend(*, org: OrgUnit, years: list[int]) -> list[dict]:
    """One node's figures over several years: two queries."""
    stored = {a["year"]: a for a in Attainment.objects.filter(org=org, year__in=years).values()}
    quotas = dict(Quota.objects.filter(org=org, year__in=years).values_list("year", "admission_quota"))
    out = []
    for year in years:
        att = stored.get(year, {})
        quota = quotas.get(year, 0)
        admitted = att.get("admitted", 0)
        members = att.get("members_start", 0)
        out.append(
            {
                "year": year,
                "quota": quota,
                "admitted": admitted,
                "recognized": att.get("recognized", 0),
                "sources": att.get("sources", 0),
                "members_start": members,
                "quota_pct": pct(admitted, quota),
                "rate_pct_of_members": pct(admitted, members),
            }
        )
    return out


def leaf_admission_history(*, root: OrgUnit, years: list[int]) -> dict[int, dict[int, int]]:
    """{org_id: {year: admitted}} for every node of the subtree: one query (flags use it)."""
    out: dict[int, dict[int, int]] = {}
    for org_id, year, admitted in Attainment.objects.filter(
        org__path__startswith=root.path, year__in=years
    ).values_list("org_id", "year", "admitted"):
        out.setdefault(org_id, {})[year] = admitted
    return out


def last_admission_year(*, root: OrgUnit, before: int | None = None) -> dict[int, int]:
    """{org_id: last year (before `before`) with an admission} over the stored attainment of the subtree."""
    rows = Attainment.objects.filter(org__path__startswith=root.path, admitted__gt=0)
    if before is not None:
        rows = rows.filter(year__lt=before)
    return dict(rows.values("org_id").annotate(last=Max("year")).values_list("org_id", "last"))


def quota_of(*, org: OrgUnit, year: int) -> Quota | None:
    return Quota.objects.filter(org=org, year=year).select_related("updated_by").first()


def quota_revisions(*, org: OrgUnit, year: int) -> QuerySet[QuotaRevision]:
    return QuotaRevision.objects.filter(quota__org=org, quota__year=year).select_related("actor")


def revisions_in_subtree(*, root: OrgUnit, year: int, limit: int = 50) -> QuerySet[QuotaRevision]:
    """Revisions of the node's own quota and of what it allocated to its children (what its board decides)."""
    return (
        QuotaRevision.objects.filter(
            quota__org__path__startswith=root.path, quota__org__depth__lte=root.depth + 1, quota__year=year
        )
        .select_related("actor", "quota__org")
        .order_by("-at", "-pk")[:limit]
    )


def mass_org_quotas(*, org: OrgUnit, year: int) -> QuerySet[MassOrgQuota]:
    return MassOrgQuota.objects.filter(org=org, year=year).order_by("mass_org")


def pipeline_funnel(*, root: OrgUnit, figures: dict | None = None) -> dict[str, int]:
    """Candidates of the subtree (as it stands now) by current stage: one query, none with `candidate_figures`."""
    from recruitment.models import Candidate, Stage

    if figures is not None:
        return {stage: figures[f"n_stage_{stage}"] for stage in Stage.values if figures[f"n_stage_{stage}"]}
    return dict(
        Candidate.objects.filter(org__path__startswith=root.path)
        .values_list("stage")
        .annotate(n=Count("pk"))
        .order_by()
    )


SECTOR_TARGET_ONE_A_YEAR = (Sector.RESIDENTIAL, Sector.PRIVATE)


# --------------------------------------------------------------------------------------------------------
# Dashboard reads: flags, legal deadlines, year-end forecast. Each is a fixed number of queries.

DECISION_DUE_WD = 60  # R-DECISION-DUE
RECOGNITION_DECISION_DUE_WD = 30
CEREMONY_DUE_WD = 30  # R-CEREMONY-DUE
RECOGNITION_DUE_WD = 30  # R-RECOGNITION-DUE


@dataclass
class Flag:
    code: str
    title: str
    orgs: list = field(default_factory=list)  # [(org_id, name, detail)], the first SHOWN_PER_FLAG
    count: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.orgs)


def dashboard_flags(*, root: OrgUnit, year: int, figures: dict | None = None) -> list[Flag]:
    """The seeds' rule targets over the subtree (quotas.pipeline.FLAG_CONDITIONS): each flag's count and its first
    SHOWN_PER_FLAG nodes in tree order. From the node's row of today when `figures` (candidate_figures) is one,
    otherwise counted in SQL. Two queries, one with a row."""
    first = year - NO_ADMISSION_YEARS
    base_none = Flag("R-BASE-ZERO", f"Tổ chức cơ sở chưa kết nạp được đảng viên nào trong năm {year}")
    streak = Flag(
        "R-BRANCH-STREAK",
        f"Chi bộ nhiều năm liền không kết nạp được đảng viên: {NO_ADMISSION_YEARS} năm "
        f"{first}–{year - 1} và chưa kết nạp trong năm {year}",
    )
    residential = Flag(
        "R-RESIDENTIAL-ONE", f"Chi bộ khu dân cư chưa đạt mục tiêu kết nạp ít nhất 1 đảng viên năm {year}"
    )
    private = Flag(
        "R-PRIVATE-ONE", f"Chi bộ đơn vị kinh tế tư nhân chưa đạt mục tiêu kết nạp ít nhất 1 đảng viên năm {year}"
    )
    flags = [base_none, streak, residential, private]
    stored = figures.get(FLAGS_KEY) if figures is not None else None
    if stored is not None:
        for flag in flags:
            flag.count, shown = stored[flag.code]
            flag.orgs = [(pk, name, "") for pk, name in shown]
    else:
        _count_flags_live(root=root, year=year, flags=flags)
    _add_last_admission_years(streak, before=first)
    return flags


def _count_flags_live(*, root: OrgUnit, year: int, flags: list[Flag]) -> None:
    """Each flag's count and its first nodes in tree order over the subtree, in SQL with the conditions the stored
    rows use (quotas.pipeline.FLAG_CONDITIONS): a province has ~10,000 nodes, none read into Python. One query."""
    counts = ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS c{i}" for i, condition in enumerate(FLAG_CONDITIONS.values())
    )
    # Per flag: its first nodes in tree order (a top-N read, not a sort of every flagged node), each row carrying
    # the flag's count; a flag with no node has no row and keeps count 0.
    lists = [
        f"SELECT * FROM (SELECT {i} AS flag, id, name, path, (SELECT c{i} FROM counts) AS total FROM n "  # noqa: S608
        f"WHERE {condition} ORDER BY path LIMIT %(shown)s) f{i}"
        for i, condition in enumerate(FLAG_CONDITIONS.values())
    ]
    # The conditions are this code's constants, the values parameters.
    sql = "".join((
        flag_nodes_sql("path LIKE %(prefix)s"),
        f", counts AS (SELECT {counts} FROM n) ",  # noqa: S608
        f"SELECT flag, id, name, total FROM ({' UNION ALL '.join(lists)}) flagged ORDER BY flag, path",  # noqa: S608
    ))
    with connection.cursor() as cursor:
        cursor.execute(sql, flag_params(year, prefix=f"{root.path}%", shown=SHOWN_PER_FLAG))
        for flag_index, pk, name, total in cursor.fetchall():
            flag = flags[flag_index]
            flag.count = total
            flag.orgs.append((pk, name, ""))


def _add_last_admission_years(streak: Flag, *, before: int) -> None:
    """The last year (before `before`) with an admission, for the listed streak branches only: one query."""
    shown = [pk for pk, _name, _detail in streak.orgs]
    last = dict(  # `or [0]`: the query runs even with nothing to show, so the page's query count never varies
        Attainment.objects.filter(org_id__in=shown or [0], year__lt=before, admitted__gt=0)
        .values("org_id")
        .annotate(last=Max("year"))
        .values_list("org_id", "last")
    )
    streak.orgs = [
        (pk, name, f"lần gần nhất: năm {last[pk]}" if pk in last else "chưa có số liệu kết nạp")
        for pk, name, _detail in streak.orgs
    ]


class _WorkdayCounter:
    """Working days in (start, end] for many starts against one end: one holiday-override query in all."""

    def __init__(self, start: dt.date, end: dt.date):
        from recruitment import workdays

        self.start = start
        self.end = end
        overrides = workdays._overrides(start, end)
        self.cumulative: list[int] = []
        total = 0
        day = start
        while day <= end:
            if day != start and workdays._is_working(day, overrides):
                total += 1
            self.cumulative.append(total)
            day += dt.timedelta(days=1)

    def between(self, start: dt.date, end: dt.date) -> int:
        return self.cumulative[(end - self.start).days] - self.cumulative[(start - self.start).days]


@dataclass
class Overdue:
    rule: str
    title: str
    items: list = field(default_factory=list)  # [(person_id, name, branch, due date, days late)], the longest late
    count: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.items)


def candidate_figures(*, root: OrgUnit, year: int, today: dt.date) -> dict[str, int]:
    """Every count the dashboard takes from the subtree's candidates (quotas.pipeline.figure_aggregates): the
    node's materialised row of today, or one pass over the candidates."""
    return subtree_figures(root=root, year=year, today=today)


def overdue_deadlines(*, root: OrgUnit, today: dt.date, figures: dict | None = None) -> list[Overdue]:
    """Legal deadlines passed in the subtree (R-DECISION-DUE, R-CEREMONY-DUE, R-RECOGNITION-DUE): per rule a count
    and the longest overdue, over the due dates the pipeline stores (recruitment.deadlines), in SQL. Six queries;
    three with `candidate_figures` (the counts come from there)."""
    from recruitment.deadlines import KINDS_BY_KEY, open_deadline_q
    from recruitment.models import Candidate

    groups = {
        "decision": Overdue(
            "R-DECISION-DUE", "Quá 60 ngày làm việc kể từ nghị quyết chi bộ mà chưa có quyết định kết nạp"
        ),
        "ceremony": Overdue("R-CEREMONY-DUE", "Quá 30 ngày làm việc kể từ quyết định mà chưa tổ chức lễ kết nạp"),
        "recognition": Overdue(
            "R-RECOGNITION-DUE",
            "Quá 30 ngày làm việc sau khi hết 12 tháng dự bị mà chi bộ chưa xét công nhận chính thức",
        ),
    }
    in_subtree = Candidate.objects.filter(org__path__startswith=root.path)
    for key, group in groups.items():
        due_field = KINDS_BY_KEY[key].field
        late = in_subtree.filter(open_deadline_q(key, due_before=today - dt.timedelta(days=1)))
        group.count = figures[f"n_overdue_{key}"] if figures is not None else late.count()
        for person_id, name, branch, due in late.order_by(due_field, "pk").values_list(
            "person_id", "person__full_name", "org__name", due_field
        )[:SHOWN_PER_FLAG]:
            group.items.append((person_id, name, branch, due, (today - due).days))
    return list(groups.values())


@dataclass
class Forecast:
    year: int
    admitted: int
    voted_in_time: int
    voted_late: int
    ready_in_time: int
    ready_total: int
    lead_days: int
    quota: int
    explanation: list[str]

    @property
    def total(self) -> int:
        return self.admitted + self.voted_in_time + self.ready_in_time

    @property
    def quota_pct(self) -> float | None:
        return pct(self.total, self.quota)


def year_end_forecast(
    *, root: OrgUnit, year: int, today: dt.date, admitted: int, quota: int, figures: dict | None = None
) -> Forecast:
    """Admissions expected by 31/12 from the pipeline, using the legal lead times: three queries.

    - voted by the branch (or base committee), no decision yet: the decision is due within 60 working days of
      the branch resolution (R-DECISION-DUE, as stored by the pipeline), so those due by 31/12 are counted;
    - a valid certificate (≤ 60 months, R-CERT-VALID) and an application on file: counted only if a branch
      resolution today plus 60 working days still lands in the year."""
    from recruitment import workdays
    from recruitment.models import Candidate, Stage

    year_end = dt.date(year, 12, 31)
    voted_q = Q(stage__in=[Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION])
    subtree_rows = Candidate.objects.filter(org__path__startswith=root.path)
    # `figures` (candidate_figures) counted these in the dashboard's one pass; alone it is one aggregate here.
    counts = figures if figures is not None else subtree_rows.aggregate(**forecast_aggregates(year=year, today=today))
    voted_in_time, voted_late, ready_total = counts["voted_in_time"], counts["voted_late"], counts["ready_total"]
    # Records whose due date was never stored (written outside the services): count it here from the resolution.
    unstored = list(
        subtree_rows.filter(voted_q, decision_due__isnull=True, branch_resolution_date__isnull=False).values_list(
            "branch_resolution_date", flat=True
        )
    )
    counter = _WorkdayCounter(min([*unstored, year_end]), year_end)  # built even when empty: constant query count
    if unstored:
        for branch_date in unstored:
            if branch_date <= year_end and counter.between(branch_date, year_end) >= DECISION_DUE_WD:
                voted_in_time += 1
            else:
                voted_late += 1
    lead_end = workdays.add_working_days(max(today, dt.date(year, 1, 1)), DECISION_DUE_WD)
    in_time = lead_end <= year_end
    ready_in_time = ready_total if in_time else 0
    explanation = [
        f"Đã kết nạp từ 01/01/{year} đến nay: {admitted}.",
        f"Chi bộ đã biểu quyết đề nghị, chưa có quyết định: {voted_in_time + voted_late}; trong đó {voted_in_time} "
        f"người có hạn quyết định (60 ngày làm việc từ nghị quyết chi bộ, R-DECISION-DUE) trước 31/12/{year}.",
        f"Có giấy chứng nhận lớp nhận thức còn hạn (60 tháng, R-CERT-VALID) và đơn xin vào Đảng: {ready_total}; "
        + (
            f"xét kết nạp từ hôm nay thì quyết định chậm nhất ngày {lead_end:%d/%m/%Y}, còn trong năm: tính {ready_in_time}."
            if in_time
            else "không còn đủ 60 ngày làm việc trước cuối năm: không tính."
        ),
        f"Dự báo cả năm: {admitted} + {voted_in_time} + {ready_in_time} = {admitted + voted_in_time + ready_in_time}.",
    ]
    return Forecast(
        year=year,
        admitted=admitted,
        voted_in_time=voted_in_time,
        voted_late=voted_late,
        ready_in_time=ready_in_time,
        ready_total=ready_total,
        lead_days=DECISION_DUE_WD,
        quota=quota,
        explanation=explanation,
    )
