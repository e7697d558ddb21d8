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

from orgs.models import OrgUnit
from quotas.models import PipelineFigures

CERT_VALID_MONTHS = 60  # R-CERT-VALID
OVERDUE_KEYS = ("decision", "ceremony", "recognition")


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
    return figures is not None and all(key in figures for key in keys)


def subtree_figures(*, root: OrgUnit, year: int, today: dt.date) -> dict[str, int]:
    """The node's row when it is of today and of the year asked (the forecast counts depend on the year's end),
    otherwise the live counts in ONE pass over the subtree's candidates. One query, two without a usable row."""
    from recruitment.models import Candidate

    aggregates = figure_aggregates(year=year, today=today)
    stored = PipelineFigures.objects.filter(org=root, on=today).values_list("figures", flat=True).first()
    if year == today.year and complete(stored, aggregates):
        return stored
    return Candidate.objects.filter(org__path__startswith=root.path).aggregate(**aggregates)
