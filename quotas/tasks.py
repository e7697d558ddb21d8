"""Celery tasks of the quotas app: each takes plain values and calls one service."""

import datetime as dt

from celery import shared_task

from quotas import services


@shared_task(name="quotas.attainment_process_pending")
def attainment_process_pending() -> dict:
    """Recompute the nodes queued by attainment_schedule_recompute (coalesced; see AttainmentPending)."""
    done = services.attainment_process_pending_now()
    return {str(year): n for year, n in done.items()}


@shared_task(name="quotas.attainment_recompute_year")
def attainment_recompute_year(year: int | None = None, org_id: int | None = None) -> int:
    """Nightly (beat) or on-demand recompute: the whole province for `year` (default: this year and last)."""
    from orgs.models import OrgUnit

    org = OrgUnit.objects.get(pk=org_id) if org_id else None
    if year is not None:
        return services.attainment_recompute(year=year, org=org)
    today = dt.date.today()
    written = sum(services.attainment_recompute(year=y, org=org) for y in (today.year - 1, today.year))
    services.pipeline_figures_recompute(today=today)  # the dashboard's counts of the new day
    return written


@shared_task(name="quotas.pipeline_figures_refresh")
def pipeline_figures_refresh() -> int:
    """Recount every node's pipeline figures for today (after changes too wide to queue lineage by lineage)."""
    return services.pipeline_figures_recompute(today=dt.date.today())
