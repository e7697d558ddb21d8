"""The dashboard's counts over a subtree's candidates as they stand today: the funnel by current stage, the
overdue legal deadlines and the inputs of the year-end forecast.

A province has ~45,000 candidates: counting them on every request costs ~40 ms at the top of the tree and
grows with the tree. So each node also keeps its subtree's counts as of one day (`PipelineFigures`, written by
`quotas.services.pipeline_figures_recompute`): a pipeline change refreshes its branch's lineage after commit
through the attainment queue, and the nightly run refreshes every node for the new day. A row of another day
is never used; the counts are then taken live, as before."""

from __future__ import annotations

import calendar
import datetime as dt

from django.db import connection
from django.db.models import Count, Q

from orgs.models import Kind, OrgUnit, Sector
from quotas.models import PipelineFigures

CERT_VALID_MONTHS = 60  # R-CERT-VALID
OVERDUE_KEYS = ("decision", "ceremony", "recognition")
FLAGS_KEY = "flags"  # in a stored row: {flag code: [count, [[org id, name], ... the first SHOWN_PER_FLAG]]}
NO_ADMISSION_YEARS = 3  # "nhiều năm liền không kết nạp được đảng viên": this many full years in a row
SHOWN_PER_FLAG = 30  # a province has thousands of branches: the page lists the first ones and counts the rest


# The seeds' targets a node itself misses in a year, one SQL condition per flag over a row of `flag_nodes_sql`'s
# `n` (this_year: admissions in the year, a base organisation's including its branches'; any_year: in the year or
# the NO_ADMISSION_YEARS before it; a leaf holds people, as orgs.models.holds_people). The live reading
# (quotas.selectors.dashboard_flags) and the stored rows (own_flags_of) both use these, so the rule is written once.
_LEAF = "(kind = %(branch)s OR (kind = %(base)s AND numchild = 0))"
FLAG_CONDITIONS = {
    "R-BASE-ZERO": "(kind = %(base)s AND NOT this_year)",
    "R-BRANCH-STREAK": f"({_LEAF} AND NOT any_year)",
    "R-RESIDENTIAL-ONE": f"({_LEAF} AND NOT this_year AND sector = %(residential)s)",
    "R-PRIVATE-ONE": f"({_LEAF} AND NOT this_year AND sector = %(private)s)",
}
FLAG_CODES = tuple(FLAG_CONDITIONS)


def flag_nodes_sql(nodes_where: str) -> str:
    """`WITH sub, adm, n`: the active nodes matching `nodes_where` (an SQL condition on the OrgUnit table) with
    their this_year / any_year; the caller appends its SELECT over `n`. Parameters: flag_params()."""
    from quotas.models import Attainment

    org_table, att_table = OrgUnit._meta.db_table, Attainment._meta.db_table
    return f"""
        WITH sub AS (
            SELECT id, name, path, kind, sector, numchild FROM {org_table} WHERE ({nodes_where}) AND is_active
        ), adm AS (
            SELECT a.org_id, MAX(CASE WHEN a.year = %(year)s THEN 1 ELSE 0 END) AS this_year
              FROM {att_table} a JOIN sub ON sub.id = a.org_id
             WHERE a.year BETWEEN %(first)s AND %(year)s AND a.admitted > 0
             GROUP BY a.org_id
        ), n AS (
            SELECT sub.*, adm.org_id IS NOT NULL AS any_year, COALESCE(adm.this_year, 0) = 1 AS this_year
              FROM sub LEFT JOIN adm ON adm.org_id = sub.id
        )"""  # noqa: S608 - table names from model meta, the condition from this module's callers


def flag_params(year: int, **extra) -> dict:
    return {"year": year, "first": year - NO_ADMISSION_YEARS, "branch": Kind.BRANCH, "base": Kind.BASE,
            "residential": Sector.RESIDENTIAL, "private": Sector.PRIVATE, **extra}


def own_flags_of(org_ids: list[int] | None, *, year: int) -> dict[int, list[str]]:
    """The flags each node itself misses for `year` (every node, or `org_ids`), in FLAG_CODES order: one query;
    nodes missing none are left out."""
    where = "1 = 1" if org_ids is None else f"id IN ({', '.join(str(int(pk)) for pk in org_ids) or 'NULL'})"
    columns = ", ".join(f"{condition} AS f{i}" for i, condition in enumerate(FLAG_CONDITIONS.values()))
    any_flag = " OR ".join(f"f{i}" for i in range(len(FLAG_CODES)))
    sql = f"{flag_nodes_sql(where)} SELECT * FROM (SELECT id, {columns} FROM n) o WHERE {any_flag}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, flag_params(year))
        return {pk: [code for code, missed in zip(FLAG_CODES, marks, strict=True) if missed]
                for pk, *marks in cursor.fetchall()}


def merge_flags(total: dict, child: dict) -> None:
    """Add a child's flagged nodes after those already in `total`: subtrees are contiguous in tree order, so the
    first SHOWN_PER_FLAG of a node are its own then its children's, children in path order."""
    for code in FLAG_CODES:
        count, shown = total[code]
        child_count, child_shown = child[code]
        total[code] = [count + child_count, (shown + child_shown)[:SHOWN_PER_FLAG]]


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def forecast_aggregates(*, year: int, today: dt.date) -> dict:
    from recruitment.models import Stage

    year_end = dt.date(year, 12, 31)
    voted_q = Q(stage__in=[Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION])
    ready_q = Q(
        stage__in=[Stage.DOSSIER, Stage.COURSE_DONE],
        certificate_date__gte=add_months(today, -CERT_VALID_MONTHS),
        application_date__isnull=False,
    )
    return {
        "voted_in_time": Count("pk", filter=voted_q & Q(decision_due__lte=year_end)),
        "voted_late": Count("pk", filter=voted_q & Q(decision_due__gt=year_end)),
        "ready_total": Count("pk", filter=ready_q),
    }


def figure_aggregates(*, year: int, today: dt.date) -> dict:
    """Every count, as aggregates over Candidate rows: per current stage (`n_stage_<stage>`), overdue per rule
    (`n_overdue_<key>`) and the forecast's (`voted_in_time`, `voted_late`, `ready_total`)."""
    from recruitment.deadlines import open_deadline_q
    from recruitment.models import Stage

    aggregates = {f"n_stage_{stage}": Count("pk", filter=Q(stage=stage)) for stage in Stage.values}
    late_before = today - dt.timedelta(days=1)
    for key in OVERDUE_KEYS:
        aggregates[f"n_overdue_{key}"] = Count("pk", filter=open_deadline_q(key, due_before=late_before))
    aggregates.update(forecast_aggregates(year=year, today=today))
    return aggregates


def complete(figures: dict | None, keys) -> bool:
    """A stored row written before a count was added to the dashboard lacks it: it cannot be used."""
    return figures is not None and FLAGS_KEY in figures and all(key in figures for key in keys)


def subtree_figures(*, root: OrgUnit, year: int, today: dt.date) -> dict[str, int]:
    """The node's row when it is of today and of the year asked (the forecast counts depend on the year's end),
    otherwise the live counts in ONE pass over the subtree's candidates. One query, two without a usable row."""
    from recruitment.models import Candidate

    aggregates = figure_aggregates(year=year, today=today)
    stored = PipelineFigures.objects.filter(org=root, on=today).values_list("figures", flat=True).first()
    if year == today.year and complete(stored, aggregates):
        return stored
    return Candidate.objects.filter(org__path__startswith=root.path).aggregate(**aggregates)

