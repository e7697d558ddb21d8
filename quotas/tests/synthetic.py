"""Deterministic candidates over an existing tree for the attainment tests: every milestone that counts
(sympathiser, decision, recognition) with the lineage snapshot of the branch at the time."""

from __future__ import annotations

import datetime as dt
import random

from members.models import Education, Gender, OccupationGroup, Person
from orgs.models import Kind, OrgUnit
from recruitment.models import Candidate, Stage

ETHNICITIES = ["Kinh"] * 8 + ["Tày", "Dao", "Sán Dìu", " kinh "]
RELIGIONS = ["Không"] * 8 + ["Phật giáo", "Công giáo", "", "không"]


def _day(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def add_candidates(root: OrgUnit, *, count: int, seed: int = 7, years=range(2019, 2027), prefix: str = "SYN") -> int:
    rng = random.Random(seed)
    leaves = list(
        OrgUnit.objects.filter(path__startswith=root.path, is_active=True, numchild=0)
        .filter(kind__in=[Kind.BRANCH, Kind.BASE])
        .order_by("path")
    )
    people, candidates = [], []
    for i in range(count):
        leaf = leaves[rng.randrange(len(leaves))]
        year = rng.choice(list(years))
        decided = _day(rng, year)
        age = rng.choice([17, 18, 19, 25, 30, 31, 35, 36, 44, 50, 58, 60, 61, 63])
        # Birthdays on both sides of the decision day, and on it, to pin the age-band boundary.
        birth = dt.date(decided.year - age, decided.month, min(decided.day, 28)) + dt.timedelta(
            days=rng.choice([-1, 0, 1, 40])
        )
        people.append(
            Person(
                code=f"{prefix}{i:06d}",
                full_name=f"Người Thử {i}",
                name_folded=f"nguoi thu {i}",
                birth_date=birth,
                gender=rng.choice(Gender.values),
                ethnicity=rng.choice(ETHNICITIES),
                religion=rng.choice(RELIGIONS),
                education=rng.choice(Education.values),
                is_youth_union_member=rng.random() < 0.4,
                occupation_group=rng.choice(OccupationGroup.values),
                branch=leaf,
            )
        )
    Person.objects.bulk_create(people, batch_size=1000)
    people = list(Person.objects.filter(code__startswith=prefix).select_related("branch").order_by("code"))
    for person in people:
        leaf = person.branch
        stage = rng.choice([Stage.SYMPATHISER, Stage.ADMITTED, Stage.PROBATIONARY, Stage.FULL_MEMBER, Stage.STRUCK_OFF])
        year = rng.choice(list(years))
        sympathiser = _day(rng, year)
        c = Candidate(
            person=person,
            org=leaf,
            stage=stage,
            source_date=sympathiser - dt.timedelta(days=90),
            sympathiser_date=sympathiser,
            sympathiser_lineage=leaf.lineage,
        )
        if stage != Stage.SYMPATHISER:
            c.decision_date = _day(rng, min(year + rng.choice([0, 1]), max(years)))
            c.admitted_lineage = leaf.lineage
        if stage == Stage.FULL_MEMBER:
            recognised = c.decision_date + dt.timedelta(days=380)
            c.recognition_date = recognised
            c.recognized_lineage = leaf.lineage
        candidates.append(c)
    Candidate.objects.bulk_create(candidates, batch_size=1000)
    return len(candidates)
