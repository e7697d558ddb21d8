import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import audit
from core.text import nfc
from members.models import KINH, NO_RELIGION, Person

# Person fields a form, the importer or the API may set (branch moves go through the services).
PERSON_FIELDS = [
    "code", "full_name", "birth_date", "gender", "ethnicity", "religion", "cccd", "education",
    "disadvantaged_area_exception", "is_youth_union_member", "occupation_group", "nominating_org",
    "helping_member", "phone", "address",
]
TEXT_FIELDS = {"code", "full_name", "ethnicity", "religion", "helping_member", "phone", "address"}
CCCD_RE = re.compile(r"^\d{12}$")


def cccd_clean(value) -> str | None:
    """A citizen ID is exactly 12 digits (spaces and dots typed in between are dropped); blank means none."""
    if value in (None, ""):
        return None
    digits = re.sub(r"[\s.\-]", "", str(value))
    if not CCCD_RE.match(digits):
        raise ValidationError({"cccd": [f"Số CCCD phải gồm đúng 12 chữ số (đã nhập: {value})."]})
    return digits


def person_fields_clean(data: dict) -> dict:
    """Keep only Person fields, NFC-normalise text (so "Nguyễn" typed decomposed matches), check the CCCD."""
    out = {}
    for name in PERSON_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in TEXT_FIELDS:
            value = nfc(value or "")
            if name == "full_name":
                value = " ".join(value.split())
        elif name == "cccd":
            value = cccd_clean(value)
        out[name] = value
    if "ethnicity" in out and not out["ethnicity"]:
        out["ethnicity"] = KINH
    if "religion" in out and not out["religion"]:
        out["religion"] = NO_RELIGION
    if "full_name" in out and not out["full_name"]:
        raise ValidationError({"full_name": ["Chưa nhập họ và tên."]})
    return out


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
        from quotas.services import pipeline_changed  # the dashboard's counts follow the people

        pipeline_changed(from_org.lineage, to_org.lineage)
        audit(action="person.transfer_all", actor=actor, org=to_org, detail={"from": from_org.code, "count": len(people)})
    return len(people)
