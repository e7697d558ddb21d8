"""What each URL keyword argument names, and how to get such an object that a persona must not see.

The access-matrix test discovers every URL pattern; each keyword it meets must be registered here, so a
new view with a new kind of id cannot slip past the 404 check. A provider gets (world, persona name,
helpers) and returns an id that lies outside that persona's subtree.
"""

import datetime as dt
from collections.abc import Callable

from conftest import World
from recruitment.models import AwarenessClass

# For each persona: a node outside its subtree (the sibling branch for branch staff, another city for boards).
FOREIGN_ORG = {
    "board_city": "other_branch",
    "viewer_city": "other_branch",
    "training_city": "other_branch",
    "staff_branch": "sibling",
    "staff_sibling": "branch",
    "board_other": "branch",
}


def foreign_org(world: World, persona: str):
    return getattr(world, FOREIGN_ORG[persona])


Provider = Callable[[World, str, dict], int | str]


def _foreign_class(world: World, persona: str):
    """An awareness class organised by a node outside the persona's subtree."""
    org = foreign_org(world, persona)
    return AwarenessClass.objects.create(
        code=f"T-LOP-{org.code}", name=f"Lớp nhận thức {org.name}", organiser=org,
        start_date=dt.date(2025, 3, 3), end_date=dt.date(2025, 3, 7),
    )


def _foreign_job(world: World, persona: str):
    """A finished document of a node outside the persona's subtree (import jobs: reports/tests/test_views.py)."""
    from django.core.files.base import ContentFile

    from core.models import Job

    job = Job.objects.create(kind="export", status=Job.Status.DONE, org=foreign_org(world, persona),
                             params={"year": 2025, "kind": "results", "format": "pdf"})
    job.file.save(f"matrix-{job.pk}.pdf", ContentFile(b"%PDF-1.7"), save=True)
    return job


PROVIDERS: dict[str, Provider] = {
    "org_id": lambda world, persona, make: foreign_org(world, persona).pk,
    "person_id": lambda world, persona, make: make["person"](foreign_org(world, persona)).pk,
    "candidate_id": lambda world, persona, make: make["person"](foreign_org(world, persona)).candidate.pk,
    "class_id": lambda world, persona, make: _foreign_class(world, persona).pk,
    "job_id": lambda world, persona, make: _foreign_job(world, persona).pk,
}

# URL namespaces outside the matrix, with the reason.
EXCLUDED_NAMESPACES = {
    "admin": "Django admin: staff-only, Django's own permission checks",
}
