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

from django.db.models import Count, Q

from orgs.models import Kind, OrgUnit, Sector
from quotas.models import PipelineFigures

CERT_VALID_MONTHS = 60  # R-CERT-VALID
OVERDUE_KEYS = ("decision", "ceremony", "recognition")
FLAGS_KEY = "flags"  # in a stored row: {flag code: [count, [[org id, name], ... the first SHOWN_PER_FLAG]]}
NO_ADMISSION_YEARS = 3  # "nhiều năm liền không kết nạp được đảng viên": this many full years in a row
SHOWN_PER_FLAG = 30  # a province has thousands of branches: the page lists the first ones and counts the rest
FLAG_CODES = ("R-BASE-ZERO", "R-BRANCH-STREAK", "R-RESIDENTIAL-ONE", "R-PRIVATE-ONE")


def own_flags(*, kind: str, sector: str, numchild: int, is_active: bool, this_year: bool, any_year: bool) -> list[str]:
    """The seeds' targets a node itself misses for a year (quotas.selectors.dashboard_flags counts them over a
    subtree). `this_year`: admissions in the year (a base organisation's include its branches'); `any_year`: in
    the year or the NO_ADMISSION_YEARS before it. A leaf is a sub-branch or a chi bộ cơ sở without children."""
    if not is_active:
        return []
    leaf = kind == Kind.BRANCH or (kind == Kind.BASE and numchild == 0)
    missed = {
        "R-BASE-ZERO": kind == Kind.BASE and not this_year,
        "R-BRANCH-STREAK": leaf and not any_year,
        "R-RESIDENTIAL-ONE": leaf and not this_year and sector == Sector.RESIDENTIAL,
        "R-PRIVATE-ONE": leaf and not this_year and sector == Sector.PRIVATE,
    }
    return [code for code in FLAG_CODES if missed[code]]


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

