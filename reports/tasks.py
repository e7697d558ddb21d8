"""Celery tasks of the reports app: each takes a Job id and calls one service (routed to the "documents" queue)."""

from celery import shared_task

from reports import services


@shared_task(ignore_result=True, acks_late=True)
def report_export_task(*, job_id: int) -> None:
    services.report_export_run(job_id=job_id)


@shared_task(ignore_result=True, acks_late=True)
def import_task(*, job_id: int) -> None:
    services.import_run(job_id=job_id)
