import time

from celery import shared_task

from core.health import record_heartbeat


@shared_task(ignore_result=True)
def heartbeat(*, queue: str) -> None:
    """Sent by beat to each queue: the worker that picks it up proves that queue is being served."""
    record_heartbeat(queue=queue, at=time.time())
