import datetime as dt

from django.db import transaction

from core.audit import audit
from members.models import Person


@transaction.atomic
def people_transfer_all(*, from_org, to_org, actor=None, effective_date: dt.date | None = None) -> int:
    """Move every person of a closed branch to its successor; their past events keep their lineage."""
    people = list(Person.objects.select_for_update().filter(branch=from_org))
    for person in people:
        person.branch = to_org
        person.version += 1
        person.updated_by = actor
        person.save()
    from recruitment.models import Candidate  # the candidate row mirrors the person's branch

    Candidate.objects.filter(person__in=people).update(org=to_org)
    if people:
        audit(action="person.transfer_all", actor=actor, org=to_org, detail={"from": from_org.code, "count": len(people)})
    return len(people)
