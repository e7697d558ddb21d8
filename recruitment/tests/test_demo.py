"""The demo province's people: seed 000's figures, every stage, overdue deadlines, and records that are what
the services would have written."""

import datetime as dt
import io
import unicodedata
from collections import Counter

import pytest

from members.models import Person
from orgs.models import OrgUnit
from recruitment import deadlines, rules
from recruitment.demo import SECTOR_PLAN, TODAY, load_demo
from recruitment.models import PIPELINE, AwarenessClass, Candidate, ClassEnrolment, Stage, Transition

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_province")]

EDUCATION = {"giao_duc", "truong_hoc", "dai_hoc"}
GROUP_OF = {"y_te": "health", "dn_nha_nuoc": "state", "dn_tu_nhan": "private", "khu_dan_cu": "residential"}


@pytest.fixture
def city(demo_province):
    return OrgUnit.objects.get(code="QN.UB")


def admitted_in(city, year):
    return Candidate.objects.filter(admitted_lineage__contains=f"/{city.pk}/", decision_date__year=year)


def test_admissions_by_year_reproduce_seed_000(city):
    assert [admitted_in(city, y).count() for y in (2020, 2021, 2022, 2023)] == [150, 200, 213, 230]
    assert 230 <= admitted_in(city, 2024).count() <= 250
    assert 240 <= admitted_in(city, 2025).count() <= 260


def test_sector_split_reproduces_seed_000(city):
    for i, year in enumerate((2020, 2021, 2022, 2023)):
        sectors = Counter(admitted_in(city, year).values_list("org__sector", flat=True))
        assert sum(sectors[s] for s in EDUCATION) == SECTOR_PLAN["education"][i]
        for sector, group in GROUP_OF.items():
            assert sectors[sector] == SECTOR_PLAN[group][i], (year, sector)


def test_recognitions_follow_a_year_after_the_ceremony(city):
    full = Candidate.objects.filter(org__path__startswith=city.path, stage=Stage.FULL_MEMBER)[:200]
    assert full
    for candidate in full:
        assert candidate.recognition_date == rules.probation_end(candidate.ceremony_date)
        assert candidate.recognition_date.year == candidate.ceremony_date.year + 1
        assert candidate.recognition_decision_date >= candidate.recognition_date


def test_seed_classes_hold_1077_people():
    seed_classes = AwarenessClass.objects.filter(code__startswith="UB-", start_date__year__range=(2020, 2023))
    assert seed_classes.count() == 15
    assert ClassEnrolment.objects.filter(awareness_class__in=seed_classes).count() == 1077
    assert ClassEnrolment.objects.filter(awareness_class__code__startswith="UB-", result="").exists()


def test_every_stage_and_exit_is_present_in_many_branches(city):
    stages = Counter(Candidate.objects.filter(org__path__startswith=city.path).values_list("stage", flat=True))
    for stage in [*PIPELINE, Stage.REMOVED, Stage.NOT_ADMITTED, Stage.STRUCK_OFF]:
        assert stages[stage] > 0, stage
    branches = Candidate.objects.filter(org__path__startswith=city.path, stage=Stage.DOSSIER).values("org").distinct()
    assert branches.count() >= 20
    assert Candidate.objects.filter(org__code__startswith="QN.DT.").exists()
    assert Candidate.objects.filter(org__code__startswith="QN.HG.").exists()


def test_some_deadlines_are_overdue_and_some_due_soon():
    for kind in ("decision", "ceremony", "recognition", "certificate"):
        assert Candidate.objects.filter(deadlines.overdue_q(today=TODAY, kinds=[kind])).exists(), kind
    assert Candidate.objects.filter(deadlines.due_soon_q(today=TODAY, within_days=30, include_overdue=False)).exists()


def test_branches_without_admissions_for_years(city):
    leaves = list(OrgUnit.objects.filter(path__startswith=city.path, numchild=0, is_active=True, kind="chi_bo"))
    admitted = Counter(Candidate.objects.filter(org__path__startswith=city.path, decision_date__year__gte=2022)
                       .values_list("org_id", flat=True))
    assert sum(1 for leaf in leaves if admitted[leaf.pk] == 0) >= 10


def test_records_are_what_the_services_would_write(city):
    sample = Candidate.objects.filter(org__path__startswith=city.path).select_related("org").order_by("pk")[::37]
    for candidate in sample:
        assert deadlines.due_fields(candidate) == {f: getattr(candidate, f) for f in deadlines.due_fields(candidate)}
        rows = list(Transition.objects.filter(candidate=candidate).order_by("pk"))
        assert len(rows) == candidate.version  # creation + one per step
        assert rows[-1].to_stage == candidate.stage
        assert all(a.to_stage == b.from_stage for a, b in zip(rows, rows[1:], strict=False))
        if candidate.decision_date:
            assert candidate.admitted_lineage and candidate.deciding_org.has_admission_authority
        current = [r for r in rows if r.effective_date.year == TODAY.year and r.from_stage]
        assert all(r.verdicts for r in current)


def test_people_look_real():
    people = Person.objects.filter(code__startswith="UB-")
    names = list(people.values_list("full_name", flat=True))
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    families = Counter(n.split()[0] for n in names)
    assert len([f for f, n in families.items() if n >= 20]) >= 10
    cccds = list(people.values_list("cccd", flat=True))
    assert all(len(c) == 12 and c.isdigit() for c in cccds) and len(set(cccds)) == len(cccds)
    ethnicities = Counter(people.values_list("ethnicity", flat=True))
    assert {"Tày", "Dao", "Sán Dìu"} <= set(ethnicities) and ethnicities["Kinh"] > 0.9 * len(names)
    assert {"Công giáo", "Phật giáo"} <= set(people.values_list("religion", flat=True))


def test_loading_again_changes_nothing(demo_province):
    before = (Person.objects.count(), Transition.objects.count(), ClassEnrolment.objects.count())
    out = io.StringIO()
    load_demo(demo_province, out)
    assert (Person.objects.count(), Transition.objects.count(), ClassEnrolment.objects.count()) == before
    assert "đã có sẵn" in out.getvalue()


def test_dien_cong_admissions_before_the_merger_stay_with_dien_cong(city):
    dien_cong = OrgUnit.objects.get(name="Đảng bộ xã Điền Công")
    before = Candidate.objects.filter(org__merged_into__isnull=True, admitted_lineage__contains=f"/{dien_cong.pk}/")
    assert before.exists()
    assert all(c.decision_date < dt.date(2023, 3, 1) for c in before)
