"""Reads of the reports app: jobs (documents and imports) scoped to the user's subtree."""

from django.db.models import QuerySet
from django.http import Http404

from core.models import Job
from orgs.selectors import subtree_q
from reports.services import JOB_EXPORT, JOB_IMPORT


def jobs_visible(user, kind: str) -> QuerySet[Job]:
    return Job.objects.filter(kind=kind).filter(subtree_q(user, "org")).select_related("org", "created_by")


def get_job_for_user(user, pk: int, *, kind: str) -> Job:
    """A job of the user's subtree, or 404 (another subtree's report is 404 even with its URL)."""
    try:
        return jobs_visible(user, kind).get(pk=pk)
    except (Job.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Không tìm thấy") from exc


def past_documents(user, *, limit: int = 50) -> QuerySet[Job]:
    return jobs_visible(user, JOB_EXPORT).order_by("-created_at", "-pk")[:limit]


def past_imports(user, *, limit: int = 20) -> QuerySet[Job]:
    return jobs_visible(user, JOB_IMPORT).order_by("-created_at", "-pk")[:limit]
