"""Celery tasks of the recruitment app: each takes plain values and calls one service."""

from celery import shared_task

from recruitment import services


@shared_task(name="recruitment.deadlines_refresh")
def deadlines_refresh(candidate_ids: list[int] | None = None) -> int:
    """Recompute stored due dates after the holiday calendar changed."""
    return services.deadlines_refresh(candidate_ids=candidate_ids)
