"""Demo people for the demo province (called by `loaddemo` after the tree is built).

Uông Bí (QN.UB) reproduces seed 000: admissions by decision year 2020–2023 of 150 / 200 / 213 / 230 with the
seed's sector split (education 62/95/106/88, health 15/13/6/4, state enterprises 14/21/14/15, private
36/45/31/31, residential 13/20/47/79, the rest in administrative / other public / armed forces), each
recognised a year after its ceremony; ~240 admissions in 2024 and ~250 in 2025; and in the current year
(today is 29/11/2026 in the demo) people at every stage, some of them past a legal deadline, a few exits.
15 awareness classes in 2020–2023 hold 1,077 people, as in the seed; classes continue to 2026, the last one
waiting for its results. Đông Triều (QN.DT) and Hồng Gai (QN.HG) get a few people.

History is bulk-inserted, but every record is walked step by step through `recruitment.rules.evaluate`
and `recruitment.services.apply_step` in memory, so its fields, lineage snapshots, due dates, version and
Transition rows are what the services would have written (and a rule the generator broke stops the load).
Idempotent (nothing happens if the people exist) and deterministic (random.Random with a fixed seed).
"""

import bisect
import datetime as dt
import random
import time
from dataclasses import dataclass, field

from django.db import transaction

from core.text import fold
from members.models import Education, Gender, Introducer, MassOrg, OccupationGroup, Person
from orgs.models import Kind, OrgChange, OrgUnit, Sector
from recruitment import rules
from recruitment.models import AwarenessClass, Candidate, ClassEnrolment, Stage, Transition
from recruitment.services import STEP_EXTRAS, apply_step, transition_for
from recruitment.stages import STAGE_FIELDS
from recruitment.workdays import add_working_days, is_working_day, preloaded

SEED = 26
TODAY = dt.date(2026, 11, 29)  # the demo's "today": fixed so the same data comes out on any day
MARKER_CODE = "UB-00001"

# --- names -----------------------------------------------------------------------------------------

FAMILY = [("Nguyễn", 30), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Vũ", 5), ("Đặng", 3), ("Bùi", 3),
          ("Đỗ", 3), ("Hồ", 2), ("Ngô", 2), ("Dương", 2), ("Lý", 1), ("Đinh", 2), ("Phan", 3), ("Trịnh", 1),
          ("Đào", 1), ("Mai", 1), ("Lương", 1), ("Tạ", 1), ("Đoàn", 1), ("Cao", 1), ("Vương", 1)]
MIDDLE = {
    Gender.MALE: ["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân", "Mạnh", "Tiến", "Ngọc",
                  "Trung", "Hoàng", "Anh", "Việt", "Duy"],
    Gender.FEMALE: ["Thị", "Thị", "Thị", "Thu", "Ngọc", "Minh", "Thanh", "Phương", "Hồng", "Kim", "Thúy", "Bích",
                    "Diệu", "Khánh", "Hải"],
}
GIVEN = {
    Gender.MALE: ["Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Giang", "Hải", "Hiếu", "Hoàng", "Hùng",
                  "Huy", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân",
                  "Quang", "Sơn", "Tài", "Thắng", "Thành", "Tiến", "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh"],
    Gender.FEMALE: ["Anh", "Ánh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hồng", "Huệ", "Hương",
                    "Lan", "Linh", "Loan", "Mai", "My", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm",
                    "Thảo", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Yến"],
}
# Ethnic minorities of Quảng Ninh, with family names common among them.
MINORITIES = [("Tày", ["Hoàng", "Nông", "Lục", "Vi"], 2), ("Dao", ["Triệu", "Bàn", "Đặng", "Lý"], 2),
              ("Sán Dìu", ["Diệp", "Lục", "Trương", "Lương"], 1.5)]
RELIGIONS = [("Không", 94), ("Công giáo", 3), ("Phật giáo", 3)]

# --- the seed's admissions by year and sector group --------------------------------------------------

YEARS = [2020, 2021, 2022, 2023, 2024, 2025, 2026]
SECTOR_PLAN = {
    "education": [62, 95, 106, 88, 90, 92, 80],
    "health": [15, 13, 6, 4, 6, 7, 6],
    "state": [14, 21, 14, 15, 16, 17, 15],
    "private": [36, 45, 31, 31, 33, 35, 30],
    "residential": [13, 20, 47, 79, 80, 82, 74],
    "armed": [2, 2, 2, 3, 3, 3, 3],
    "other": [8, 4, 7, 10, 12, 14, 12],
}
# Seed 000's "education" covers every school (sự nghiệp giáo dục): kindergarten to college.
GROUP_SECTORS = {
    "education": [Sector.EDUCATION, Sector.SCHOOL, Sector.UNIVERSITY],
    "health": [Sector.HEALTH],
    "state": [Sector.STATE_ENTERPRISE],
    "private": [Sector.PRIVATE],
    "residential": [Sector.RESIDENTIAL],
    "armed": [Sector.MILITARY, Sector.POLICE],
    "other": [Sector.ADMIN, Sector.OTHER_PUBLIC, Sector.OTHER],
}
SEED_CLASS_YEARS = (2020, 2023)
SEED_CLASS_PEOPLE = 1077  # seed 000: 15 classes for 1,077 people

# Awareness classes of the Uông Bí political centre: (start date, number in the year). Five days each.
UB_CLASSES = [
    dt.date(2018, 11, 12), dt.date(2019, 4, 8), dt.date(2019, 8, 12), dt.date(2019, 11, 11),
    dt.date(2020, 6, 8), dt.date(2020, 9, 14), dt.date(2020, 11, 23),
    dt.date(2021, 3, 15), dt.date(2021, 10, 11), dt.date(2021, 12, 6),
    dt.date(2022, 3, 14), dt.date(2022, 6, 13), dt.date(2022, 9, 12), dt.date(2022, 11, 14),
    dt.date(2023, 2, 13), dt.date(2023, 4, 10), dt.date(2023, 6, 12), dt.date(2023, 9, 11), dt.date(2023, 11, 13),
    dt.date(2024, 3, 11), dt.date(2024, 6, 10), dt.date(2024, 9, 9), dt.date(2024, 11, 11),
    dt.date(2025, 3, 10), dt.date(2025, 6, 9), dt.date(2025, 9, 8), dt.date(2025, 11, 10),
    dt.date(2026, 3, 9), dt.date(2026, 6, 8), dt.date(2026, 9, 7), dt.date(2026, 11, 23),
]
PENDING_CLASS_START = dt.date(2026, 11, 23)  # ended 27/11/2026, results not yet recorded
ROMAN = ["I", "II", "III", "IV", "V", "VI"]

# Current pipeline of Uông Bí (before the decision), by stage.
CURRENT_UB = {Stage.OUTSTANDING: 140, Stage.SYMPATHISER: 110, Stage.COURSE_DONE: 90, Stage.DOSSIER: 70,
              Stage.BRANCH_RESOLUTION: 36, Stage.BASE_RESOLUTION: 20}
CURRENT_SMALL = {Stage.OUTSTANDING: 4, Stage.SYMPATHISER: 3, Stage.COURSE_DONE: 3, Stage.DOSSIER: 2,
                 Stage.BRANCH_RESOLUTION: 2, Stage.BASE_RESOLUTION: 1}


class DemoError(RuntimeError):
    """The generator produced a record the rules refuse: a bug in this module, never silently loaded."""


@dataclass
class DemoClass:
    obj: AwarenessClass
    next_number: int = 1
    enrolled: list = field(default_factory=list)  # (candidate, result, certificate number)

    @property
    def end(self) -> dt.date:
        return self.obj.end_date


@dataclass
class Draft:
    """One person being generated: the Person, the final milestone values and the steps to walk."""

    person: Person
    branch: OrgUnit
    fields: dict
    steps: list  # [(stage, data)]
    introducers: list
    klass: DemoClass | None = None
    deciding_org: OrgUnit | None = None


class Generator:
    def __init__(self, province: OrgUnit, rng: random.Random):
        self.rng = rng
        self.province = province
        self.codes: dict[str, int] = {}
        self.cccds: set[str] = set()
        self.decision_numbers: dict[tuple[str, int], int] = {}
        self.drafts: list[Draft] = []
        self.moves = {c.org_id: c for c in OrgChange.objects.filter(kind=OrgChange.ChangeKind.MOVE)
                      .select_related("old_parent")}

    # ---- small helpers

    def r(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def days(self, d: dt.date, lo: int, hi: int) -> dt.date:
        return d + dt.timedelta(days=self.r(lo, hi))

    def wd(self, d: dt.date, lo: int, hi: int) -> dt.date:
        return add_working_days(d, self.r(lo, hi))

    def working_day_in(self, start: dt.date, end: dt.date) -> dt.date:
        """A random working day in [start, end] (or `start` if the range has none)."""
        d = start + dt.timedelta(days=self.r(0, max(0, (end - start).days)))
        while not is_working_day(d) and d > start:
            d -= dt.timedelta(days=1)
        return d

    def lineage_on(self, branch: OrgUnit, on: dt.date) -> str:
        """The branch's lineage on a past date: before a move (Điền Công's areas went to Trưng Vương on
        1/3/2023) its events belong to the old parent."""
        change = self.moves.get(branch.pk)
        if change is not None and change.old_parent is not None and on < change.effective_date:
            return f"{change.old_parent.lineage}{branch.pk}/"
        return branch.lineage

    # ---- people

    def person(self, branch: OrgUnit, group: str, *, age_at: dt.date, prefix: str) -> Person:
        rng = self.rng
        female_share = {"education": 0.72, "health": 0.7, "residential": 0.5, "armed": 0.15, "state": 0.3}.get(group, 0.5)
        gender = Gender.FEMALE if rng.random() < female_share else Gender.MALE
        ethnicity, family = "Kinh", None
        roll = rng.random() * 100
        acc = 0.0
        for name, families, share in MINORITIES:
            acc += share
            if roll < acc:
                ethnicity, family = name, rng.choice(families)
                break
        family = family or rng.choices([f for f, _ in FAMILY], weights=[w for _, w in FAMILY])[0]
        full_name = f"{family} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}"
        religion = rng.choices([r for r, _ in RELIGIONS], weights=[w for _, w in RELIGIONS])[0]
        if group in ("education", "health") and branch.sector == Sector.SCHOOL and rng.random() < 0.55:
            age = self.r(18, 19)  # pupils of the upper-secondary schools
        elif group == "residential":
            age = rng.choice([self.r(19, 30), self.r(19, 30), self.r(31, 45), self.r(46, 58)])
        else:
            age = rng.choice([self.r(20, 30), self.r(20, 30), self.r(22, 35), self.r(31, 45)])
        birth = dt.date(age_at.year - age, 1, 1) + dt.timedelta(days=self.r(0, 364))
        months = rules.age_in_months(birth, age_at)
        if months < 18 * 12:  # keep R-AGE-MIN satisfied on the branch date
            birth = dt.date(age_at.year - 19, self.r(1, 12), self.r(1, 28))
        student = branch.sector in (Sector.SCHOOL, Sector.UNIVERSITY) and age <= 22
        occupation, education = self._job(branch.sector, student)
        if ethnicity == "Dao" and group == "residential" and "Thượng Yên Công" in (branch.name + self._parent_name(branch)) \
                and rng.random() < 0.3:
            education = Education.PRIMARY  # upland commune: R-EDU exception for the disadvantaged area
        youth = age <= 30 and rng.random() < 0.85
        code_no = self.codes.get(prefix, 0) + 1
        self.codes[prefix] = code_no
        return Person(
            code=f"{prefix}-{code_no:05d}", full_name=full_name, name_folded=fold(full_name), birth_date=birth,
            gender=gender, ethnicity=ethnicity, religion=religion, cccd=self._cccd(birth, gender),
            education=education, disadvantaged_area_exception=education == Education.PRIMARY,
            is_youth_union_member=youth, occupation_group=occupation, branch=branch,
            nominating_org=self._mass_org(group, gender, youth, occupation),
            phone=f"09{self.r(10000000, 99999999)}", address=self._address(branch),
        )

    def _parent_name(self, branch: OrgUnit) -> str:
        return getattr(branch, "_parent_name", "")

    def _address(self, branch: OrgUnit) -> str:
        city = {"QN.UB": "thành phố Uông Bí", "QN.DT": "thị xã Đông Triều", "QN.HG": "phường Hồng Gai"}
        return f"{city.get(branch.code[:5], 'Quảng Ninh')}, tỉnh Quảng Ninh"

    def _cccd(self, birth: dt.date, gender: str) -> str:
        century = 0 if birth.year < 2000 else 2
        sex = century + (1 if gender == Gender.FEMALE else 0)
        while True:
            value = f"022{sex}{birth.year % 100:02d}{self.r(0, 999999):06d}"
            if value not in self.cccds:
                self.cccds.add(value)
                return value

    def _job(self, sector: str, student: bool) -> tuple[str, str]:
        rng = self.rng
        uni = [Education.UNIVERSITY] * 5 + [Education.POSTGRADUATE, Education.COLLEGE]
        if student:
            return OccupationGroup.STUDENT, (Education.LOWER_SECONDARY if sector == Sector.SCHOOL
                                             else Education.UPPER_SECONDARY)
        if sector in (Sector.EDUCATION, Sector.SCHOOL, Sector.UNIVERSITY, Sector.HEALTH, Sector.OTHER_PUBLIC):
            return OccupationGroup.PUBLIC_EMPLOYEE, rng.choice(uni)
        if sector == Sector.ADMIN:
            return OccupationGroup.CIVIL_SERVANT, rng.choice(uni)
        if sector in (Sector.MILITARY, Sector.POLICE):
            return OccupationGroup.ARMED_FORCES, rng.choice([Education.UPPER_SECONDARY, Education.VOCATIONAL,
                                                             Education.UNIVERSITY])
        if sector in (Sector.STATE_ENTERPRISE, Sector.PRIVATE, Sector.FDI):
            occupation = rng.choice([OccupationGroup.WORKER, OccupationGroup.WORKER, OccupationGroup.ENTERPRISE_STAFF,
                                     OccupationGroup.ENTERPRISE_STAFF])
            if sector == Sector.PRIVATE and rng.random() < 0.06:
                occupation = OccupationGroup.BUSINESS_OWNER
            return occupation, rng.choice([Education.UPPER_SECONDARY, Education.VOCATIONAL, Education.COLLEGE,
                                           Education.UNIVERSITY])
        if sector == Sector.RESIDENTIAL:
            occupation = rng.choice([OccupationGroup.FARMER, OccupationGroup.WORKER, OccupationGroup.OTHER,
                                     OccupationGroup.BUSINESS_OWNER, OccupationGroup.OTHER, OccupationGroup.STUDENT])
            return occupation, rng.choice([Education.LOWER_SECONDARY, Education.UPPER_SECONDARY,
                                           Education.UPPER_SECONDARY, Education.VOCATIONAL, Education.UNIVERSITY])
        return OccupationGroup.OTHER, rng.choice([Education.UPPER_SECONDARY, Education.UNIVERSITY])

    def _mass_org(self, group: str, gender: str, youth: bool, occupation: str) -> str:
        if youth:
            return MassOrg.YOUTH_UNION
        if group == "residential":
            if gender == Gender.FEMALE:
                return MassOrg.WOMEN
            return self.rng.choice([MassOrg.FARMERS, MassOrg.VETERANS, MassOrg.FRONT])
        return MassOrg.TRADE_UNION if occupation != OccupationGroup.ARMED_FORCES else MassOrg.YOUTH_UNION

    def member_name(self) -> str:
        gender = self.rng.choice([Gender.MALE, Gender.FEMALE])
        family = self.rng.choices([f for f, _ in FAMILY], weights=[w for _, w in FAMILY])[0]
        return f"{family} {self.rng.choice(MIDDLE[gender])} {self.rng.choice(GIVEN[gender])}"

    # ---- timelines (each builds the dates before a given milestone)

    def before_symp(self, f: dict, symp: dt.date) -> None:
        f["sympathiser_date"] = symp
        f["source_date"] = self.working_day_in(symp - dt.timedelta(days=240), symp - dt.timedelta(days=30))

    def before_class(self, f: dict, klass: DemoClass) -> None:
        f["certificate_date"] = klass.end
        self.before_symp(f, self.working_day_in(klass.obj.start_date - dt.timedelta(days=150),
                                                klass.obj.start_date - dt.timedelta(days=20)))

    def before_application(self, f: dict, app: dt.date, classes: list[DemoClass]) -> DemoClass:
        target = app - dt.timedelta(days=self.r(20, 330))
        klass = pick_class(classes, latest=app - dt.timedelta(days=7), target=target)
        self.before_class(f, klass)
        f["application_date"] = app
        f["personal_history_date"] = app
        return klass

    def dossier_before(self, f: dict, branch_res: dt.date, classes: list[DemoClass]) -> DemoClass:
        app = self.working_day_in(branch_res - dt.timedelta(days=150), branch_res - dt.timedelta(days=40))
        klass = self.before_application(f, app, classes)
        f["personal_history_verified_date"] = self.days(app, 7, 25)
        f["opinions_date"] = max(f["personal_history_verified_date"], branch_res - dt.timedelta(days=self.r(5, 30)))
        return klass

    def votes(self, f: dict, prefix: str, lo: int, hi: int, total_field: str) -> None:
        total = self.r(lo, hi)
        need = -(-2 * total // 3)
        f[f"{prefix}_votes_for"] = self.r(need, total)
        f[total_field] = total

    def branch_before(self, f: dict, branch_res: dt.date, classes: list[DemoClass]) -> DemoClass:
        klass = self.dossier_before(f, branch_res, classes)
        f["branch_resolution_date"] = branch_res
        self.votes(f, "branch", 4, 40, "branch_members_summoned")
        return klass

    def admitted_before(self, f: dict, branch: OrgUnit, decision: dt.date, classes: list[DemoClass],
                        *, late: bool = False) -> DemoClass:
        branch_res = add_working_days(decision, -self.r(62, 80) if late else -self.r(15, 48))
        klass = self.branch_before(f, branch_res, classes)
        if not branch.is_chi_bo_co_so:
            f["base_resolution_date"] = add_working_days(branch_res, self.r(3, 9))
            self.votes(f, "base", 5, 15, "base_committee_members")
        f["decision_date"] = decision
        return klass

    def decision_number(self, deciding: OrgUnit, on: dt.date) -> str:
        key = (deciding.code, on.year)
        self.decision_numbers[key] = self.decision_numbers.get(key, 0) + 1
        suffix = "QĐ/TU" if deciding.kind == Kind.UPPER and deciding.code != "QN.HG" else "QĐ/ĐU"
        return f"{self.decision_numbers[key]:03d}-{suffix}"

    def recognise(self, f: dict, deciding: OrgUnit) -> bool:
        """Recognition 12 months after the ceremony, considered within 30 working days; False if not yet."""
        end = rules.probation_end(f["ceremony_date"])
        consideration = add_working_days(end, self.r(1, 25))
        decision = add_working_days(consideration, self.r(3, 20))
        if decision > TODAY:
            return False
        f["recognition_branch_resolution_date"] = consideration
        self.votes(f, "recognition", 4, 40, "recognition_members_summoned")
        f["recognition_decision_date"] = decision
        f["recognition_decision_number"] = self.decision_number(deciding, decision)
        f["recognition_deciding_org"] = deciding
        return True

    def introducers(self, person: Person, branch_res: dt.date) -> list[Introducer]:
        on = branch_res - dt.timedelta(days=self.r(10, 60))
        first = Introducer(person=person, kind=Introducer.Kind.MEMBER, name=self.member_name(),
                           is_official_member=True, months_known=self.r(12, 60), introduced_on=on)
        if person.is_youth_union_member and self.rng.random() < 0.5:
            second = Introducer(person=person, kind=Introducer.Kind.UNION_RESOLUTION,
                                name="Ban Chấp hành Đoàn cơ sở", is_official_member=True, months_known=12,
                                introduced_on=on)
        else:
            second = Introducer(person=person, kind=Introducer.Kind.MEMBER, name=self.member_name(),
                                is_official_member=True, months_known=self.r(12, 60), introduced_on=on)
        return [first, second]

    # ---- one person

    def add(self, branch: OrgUnit, group: str, f: dict, final: str, *, prefix: str, deciding: OrgUnit | None,
            klass: DemoClass | None, exit_reason: str = "") -> Draft:
        age_at = f.get("branch_resolution_date") or min(TODAY, f.get("source_date", TODAY) + dt.timedelta(days=400))
        person = self.person(branch, group, age_at=age_at, prefix=prefix)
        if f.get("sympathiser_date"):
            person.helping_member = self.member_name()
        intros = self.introducers(person, f["branch_resolution_date"]) if f.get("branch_resolution_date") else []
        if f.get("decision_date") and deciding is not None:
            f["deciding_org"] = deciding
            f["decision_number"] = self.decision_number(deciding, f["decision_date"])
        if klass is not None:
            f["awareness_class"] = klass.obj
            f["certificate_number"] = f"{klass.obj.code}-{klass.next_number:03d}"
            f["course_result"] = "dat"
            klass.next_number += 1
        steps = steps_for(f, final, skips_base=branch.is_chi_bo_co_so)
        if final in (Stage.REMOVED, Stage.NOT_ADMITTED, Stage.STRUCK_OFF):
            steps.append((final, {"exit_date": f["exit_date"], "exit_reason": exit_reason}))
        draft = Draft(person=person, branch=branch, fields=f, steps=steps, introducers=intros, klass=klass,
                      deciding_org=deciding)
        if klass is not None:
            klass.enrolled.append((draft, "dat", f["certificate_number"]))
        self.drafts.append(draft)
        return draft


def pick_class(classes: list[DemoClass], *, latest: dt.date, target: dt.date) -> DemoClass:
    ends = [c.end for c in classes]
    i = bisect.bisect_right(ends, latest)
    if i == 0:
        raise DemoError(f"Không có lớp nhận thức nào kết thúc trước {latest}")
    candidates = classes[:i]
    return min(candidates[-6:], key=lambda c: abs((c.end - target).days))


def steps_for(f: dict, final: str, *, skips_base: bool) -> list[tuple[str, dict]]:
    """The pipeline steps (with their data) from stage 2 up to `final` (or up to the last one reached)."""
    order = [Stage.SYMPATHISER, Stage.COURSE_DONE, Stage.DOSSIER, Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION,
             Stage.ADMITTED, Stage.PROBATIONARY, Stage.FULL_MEMBER]
    steps = []
    for stage in order:
        if stage == Stage.BASE_RESOLUTION and skips_base:
            continue
        date_field = STAGE_FIELDS[stage][0]
        if f.get(date_field) is None:
            break
        names = STAGE_FIELDS[stage] + STEP_EXTRAS.get(stage, [])
        data = {name: f[name] for name in names if f.get(name) not in (None, "")}
        steps.append((stage, data))
        if stage == final:
            break
    return steps


# --- branches --------------------------------------------------------------------------------------


def _branches(root: OrgUnit) -> list[OrgUnit]:
    leaves = list(OrgUnit.objects.filter(path__startswith=root.path, is_active=True, numchild=0)
                  .exclude(kind__in=[Kind.PROVINCE, Kind.UPPER]).order_by("path"))
    parents = {o.path: o.name for o in OrgUnit.objects.filter(path__startswith=root.path, numchild__gt=0)}
    for leaf in leaves:
        leaf._parent_name = parents.get(leaf.path[: -OrgUnit.steplen], "")
    return leaves


@dataclass
class BranchPool:
    """Branches of one sector group with weights; some go dormant (no admission for years, for the flags)."""

    branches: list[OrgUnit]
    weights: list[float]
    dormant_from: dict[int, int]

    def pick(self, rng: random.Random, year: int) -> OrgUnit:
        weights = [0.0 if self.dormant_from.get(b.pk, 9999) <= year else w for b, w in zip(self.branches, self.weights,
                                                                                          strict=True)]
        return rng.choices(self.branches, weights=weights)[0]


def _pools(rng: random.Random, leaves: list[OrgUnit]) -> dict[str, BranchPool]:
    pools = {}
    for group, sectors in GROUP_SECTORS.items():
        branches = [b for b in leaves if b.sector in sectors]
        weights = []
        for b in branches:
            w = rng.uniform(0.3, 1.7)
            if b.sector in (Sector.SCHOOL, Sector.PRIVATE) and b.kind == Kind.BASE:
                w *= 1.6
            if group == "residential":
                w = rng.uniform(0.15, 1.5)
            weights.append(w)
        dormant = {}
        for b in branches if len(branches) >= 5 else []:
            roll = rng.random()
            if roll < 0.07:
                dormant[b.pk] = 2022  # five years in a row without an admission
            elif roll < 0.14:
                dormant[b.pk] = 2024
        pools[group] = BranchPool(branches, weights, dormant)
    return pools


# --- classes ---------------------------------------------------------------------------------------


def _classes(organiser: OrgUnit, starts: list[dt.date], prefix: str, place: str) -> list[DemoClass]:
    out = []
    per_year: dict[int, int] = {}
    for start in starts:
        per_year[start.year] = per_year.get(start.year, 0) + 1
        n = per_year[start.year]
        klass = AwarenessClass(
            code=f"{prefix}-{start.year}-{n:02d}",
            name=f"Lớp bồi dưỡng nhận thức về Đảng khóa {ROMAN[n - 1]} năm {start.year}",
            organiser=organiser, start_date=start, end_date=start + dt.timedelta(days=4), place=place,
        )
        out.append(DemoClass(klass))
    AwarenessClass.objects.bulk_create([c.obj for c in out])
    return out


# --- building ------------------------------------------------------------------------------------


def _build_city(gen: Generator, *, city: OrgUnit, prefix: str, classes: list[DemoClass], plan: dict[int, dict],
                current: dict, pending_class: DemoClass | None, full: bool) -> None:
    rng = gen.rng
    leaves = _branches(city)
    pools = _pools(rng, leaves)
    usable = [c for c in classes if c.obj.start_date != PENDING_CLASS_START]

    # Admissions by decision year and sector group.
    for year, groups in plan.items():
        last_day = dt.date(2023, 10, 27) if year == 2023 and full else min(dt.date(year, 12, 29), TODAY - dt.timedelta(days=4))
        first_day = dt.date(year, 1, 5)
        for group, count in groups.items():
            pool = pools[group] if pools.get(group) and pools[group].branches else None
            if pool is None:
                continue
            for _ in range(count):
                branch = pool.pick(rng, year)
                decision = gen.working_day_in(first_day, last_day)
                if city.code == "QN.HG" and decision < dt.date(2025, 7, 15):
                    decision = gen.working_day_in(dt.date(2025, 7, 15), last_day)
                _admitted(gen, city, branch, group, decision, usable, prefix)

    # The current pipeline before the decision (any branch, dormant ones included: they have people, no votes).
    groups = list(GROUP_SECTORS)
    all_pools = [(g, pools[g]) for g in groups if pools[g].branches]
    sizes = [len(p.branches) for _, p in all_pools]

    def branch_for(stage_seed: int) -> tuple[str, OrgUnit]:
        group, pool = rng.choices(all_pools, weights=sizes)[0]
        return group, rng.choices(pool.branches, weights=pool.weights)[0]

    recent = [c for c in usable if c.end >= dt.date(2024, 9, 1)]
    for stage, count in current.items():
        for i in range(count):
            group, branch = branch_for(i)
            f: dict = {}
            if stage == Stage.OUTSTANDING:
                f["source_date"] = gen.working_day_in(dt.date(2026, 1, 5), TODAY - dt.timedelta(days=3))
                klass = None
            elif stage == Stage.SYMPATHISER:
                gen.before_symp(f, gen.working_day_in(dt.date(2026, 2, 2), TODAY - dt.timedelta(days=10)))
                klass = None
            elif stage == Stage.COURSE_DONE:
                klass = rng.choice(recent)
                gen.before_class(f, klass)
            elif stage == Stage.DOSSIER:
                app = gen.working_day_in(dt.date(2026, 3, 2), TODAY - dt.timedelta(days=5))
                klass = gen.before_application(f, app, recent)
                if rng.random() < 0.6:
                    f["personal_history_verified_date"] = min(gen.days(app, 7, 25), TODAY - dt.timedelta(days=1))
                if rng.random() < 0.5:
                    f["opinions_date"] = min(gen.days(app, 10, 40), TODAY - dt.timedelta(days=1))
            elif stage == Stage.BRANCH_RESOLUTION:
                # a quarter past the 60-working-day decision deadline
                lo = dt.date(2026, 6, 1) if i % 4 == 0 else dt.date(2026, 9, 7)
                hi = dt.date(2026, 8, 21) if i % 4 == 0 else TODAY - dt.timedelta(days=2)
                if city.code != "QN.UB" and i % 4 != 0:
                    lo = dt.date(2026, 10, 5)
                klass = gen.branch_before(f, gen.working_day_in(lo, hi), usable)
            else:  # BASE_RESOLUTION: only branches with a base committee above them
                for _ in range(20):
                    if not branch.is_chi_bo_co_so:
                        break
                    group, branch = branch_for(i)
                if branch.is_chi_bo_co_so:
                    continue
                lo = dt.date(2026, 6, 1) if i % 5 == 0 else dt.date(2026, 9, 14)
                hi = dt.date(2026, 8, 14) if i % 5 == 0 else TODAY - dt.timedelta(days=12)
                klass = gen.branch_before(f, gen.working_day_in(lo, hi), usable)
                f["base_resolution_date"] = min(add_working_days(f["branch_resolution_date"], gen.r(3, 9)),
                                                TODAY - dt.timedelta(days=1))
                gen.votes(f, "base", 5, 15, "base_committee_members")
            gen.add(branch, group, f, stage, prefix=prefix, deciding=None, klass=klass)

    # Sympathisers in the class that ended last week: enrolled, results not yet recorded.
    if pending_class is not None:
        sympathisers = [d for d in gen.drafts if d.steps and d.steps[-1][0] == Stage.SYMPATHISER
                        and d.person.code.startswith(prefix) and d.fields["sympathiser_date"] < PENDING_CLASS_START]
        for draft in sympathisers[:36]:
            pending_class.enrolled.append((draft, "", ""))

    if not full:
        return
    # Certificates: the seed's 15 classes of 2020–2023 held 1,077 people. Those who were not admitted
    # (yet) fill them up: most left the list, some are still waiting with a certificate that is expiring.
    seed_classes = [c for c in usable if SEED_CLASS_YEARS[0] <= c.obj.start_date.year <= SEED_CLASS_YEARS[1]]
    enrolled = sum(len(c.enrolled) for c in seed_classes)
    filler = SEED_CLASS_PEOPLE - enrolled
    if filler < 0:
        raise DemoError(f"Các lớp 2020–2023 đã có {enrolled} học viên, vượt {SEED_CLASS_PEOPLE}")
    reasons = ["Chuyển công tác ra ngoài thành phố", "Xin rút khỏi danh sách vì lý do gia đình",
               "Đi làm việc ở nước ngoài", "Không còn đủ tiêu chuẩn", "Chuyển nơi cư trú"]
    for i in range(filler):
        klass = seed_classes[i % len(seed_classes)] if i < filler - 14 else rng.choice(
            [c for c in seed_classes if c.obj.start_date.year == 2021 and c.obj.start_date.month >= 10])
        group, branch = branch_for(i)
        f = {}
        gen.before_class(f, klass)
        if i >= filler - 14:
            # still waiting since late 2021: the certificate expires (or expired) around now
            final = Stage.COURSE_DONE if i % 2 else Stage.DOSSIER
            if final == Stage.DOSSIER:
                f["application_date"] = f["personal_history_date"] = gen.days(klass.end, 30, 200)
            gen.add(branch, group, f, final, prefix=prefix, deciding=None, klass=klass)
            continue
        if i % 10 == 0:
            f["application_date"] = f["personal_history_date"] = gen.days(klass.end, 20, 120)
            f["exit_date"] = gen.days(f["application_date"], 30, 200)
            gen.add(branch, group, f, Stage.NOT_ADMITTED, prefix=prefix, deciding=None, klass=klass,
                    exit_reason="Chi bộ xét chưa đủ điều kiện, không đề nghị kết nạp")
        else:
            f["exit_date"] = min(gen.days(klass.end, 60, 900), TODAY - dt.timedelta(days=7))
            gen.add(branch, group, f, Stage.REMOVED, prefix=prefix, deciding=None, klass=klass,
                    exit_reason=rng.choice(reasons))


def _admitted(gen: Generator, city: OrgUnit, branch: OrgUnit, group: str, decision: dt.date,
              classes: list[DemoClass], prefix: str) -> Draft:
    """One admission decided on `decision`, with every milestone before and, as time allows, after."""
    rng = gen.rng
    f: dict = {}
    recent_decision = decision >= dt.date(2026, 8, 1)
    late = decision.year == 2026 and rng.random() < 0.04
    klass = gen.admitted_before(f, branch, decision, classes, late=late)
    final = Stage.ADMITTED
    exit_reason = ""
    waits_for_ceremony = decision > TODAY - dt.timedelta(days=40) or (recent_decision and rng.random() < 0.08)
    if not waits_for_ceremony:
        f["ceremony_date"] = min(gen.wd(decision, 5, 25), TODAY - dt.timedelta(days=1))
        if f["ceremony_date"] < decision:
            f.pop("ceremony_date")
        else:
            final = Stage.PROBATIONARY
            course = gen.days(f["ceremony_date"], 30, 150)
            if course < TODAY:
                f["new_member_course_date"] = course
            # a few probation ends pass without the branch considering recognition (overdue on the due page)
            if not (decision.year == 2025 and rng.random() < 0.05) and gen.recognise(f, city):
                final = Stage.FULL_MEMBER
            elif rng.random() < 0.012:
                final = Stage.STRUCK_OFF
                f["exit_date"] = max(min(gen.days(f["ceremony_date"], 90, 300), TODAY - dt.timedelta(days=2)),
                                     f.get("new_member_course_date") or f["ceremony_date"])
                exit_reason = "Không đủ tư cách đảng viên trong thời gian dự bị"
    return gen.add(branch, group, f, final, prefix=prefix, deciding=city, klass=klass, exit_reason=exit_reason)


# --- walking every draft through the rules and saving ------------------------------------------------


def _walk(gen: Generator, draft: Draft, users: dict) -> tuple[Candidate, list[Transition]]:
    person, branch, f = draft.person, draft.branch, draft.fields
    candidate = Candidate(person=person, org=branch, stage=Stage.OUTSTANDING, source_date=f["source_date"])
    apply_step(candidate, to_stage=Stage.OUTSTANDING, data={"source_date": f["source_date"]})
    candidate.stage = Stage.OUTSTANDING
    transitions = [Transition(candidate=candidate, from_stage="", to_stage=Stage.OUTSTANDING,
                              effective_date=f["source_date"], org=branch,
                              org_lineage=gen.lineage_on(branch, f["source_date"]),
                              actor=users.get("staff", {}).get(branch.pk), verdicts=[],
                              data={"source_date": f["source_date"].isoformat()},
                              source="web" if f["source_date"].year == TODAY.year else "import")]
    for stage, data in draft.steps:
        eval_data = dict(data)
        if stage == Stage.BRANCH_RESOLUTION:
            eval_data["introducers"] = draft.introducers
        verdicts = rules.evaluate(candidate=candidate, person=person, to_stage=stage, data=eval_data, today=TODAY)
        refused = rules.refusals(verdicts)
        if refused:
            raise DemoError(f"{person.code} {stage}: " + " ".join(v.message for v in refused))
        from_stage = candidate.stage
        effective = apply_step(candidate, to_stage=stage, data=data)
        if effective is None:
            effective = rules.latest_milestone(candidate, before=stage)[1]
        lineage = gen.lineage_on(branch, effective)
        if stage == Stage.SYMPATHISER:
            candidate.sympathiser_lineage = lineage
        elif stage == Stage.ADMITTED:
            candidate.admitted_lineage = lineage
        elif stage == Stage.FULL_MEMBER:
            candidate.recognized_lineage = gen.lineage_on(branch, candidate.recognition_date)
        deciding = stage in (Stage.ADMITTED, Stage.FULL_MEMBER)
        actor = users["board"].get(branch.code[:5]) if deciding else users["staff"].get(branch.pk) or \
            users["board"].get(branch.code[:5])
        # Verdicts are kept in the log for this year's steps; older history is logged as imported without them
        # (they were evaluated above all the same: a refusal stops the load).
        current = effective.year == TODAY.year
        transition = transition_for(candidate, from_stage=from_stage, to_stage=stage, effective_date=effective,
                                    actor=actor if current else None, verdicts=verdicts if current else [],
                                    data=data, source="web" if current else "import")
        transition.org_lineage = lineage
        transitions.append(transition)
        candidate.version += 1
        candidate.updated_by = actor
    return candidate, transitions


def _demo_users() -> dict:
    """The demo users who act in the log, if they exist yet (loaddemo creates them after the feature demos;
    hashing their passwords here as well would cost seconds)."""
    from accounts.models import User

    by_name = {u.username: u for u in User.objects.select_related("org")}
    staff = {}
    for username in ("canbo.khu1", "canbo.khu2"):
        user = by_name.get(username)
        if user is not None and user.org_id:
            staff[user.org_id] = user
    board = {"QN.UB": by_name.get("btc.uongbi"), "QN.DT": by_name.get("btc.dongtrieu"),
             "QN.HG": by_name.get("btc.honggai")}
    return {"staff": staff, "board": board}


def _save(gen: Generator, users: dict, classes: list[DemoClass]) -> dict:
    walked = [(_draft, *_walk(gen, _draft, users)) for _draft in gen.drafts]
    Person.objects.bulk_create([d.person for d in gen.drafts], batch_size=1000)
    for draft, candidate, _ in walked:
        candidate.person = draft.person
    Candidate.objects.bulk_create([c for _, c, _ in walked], batch_size=1000)
    intros = []
    for draft in gen.drafts:
        for intro in draft.introducers:
            intro.person = draft.person
            intros.append(intro)
    Introducer.objects.bulk_create(intros, batch_size=2000)
    transitions = []
    for _, candidate, rows in walked:
        for row in rows:
            row.candidate = candidate
            transitions.append(row)
    Transition.objects.bulk_create(transitions, batch_size=2000)
    by_draft = {id(d): c for d, c, _ in walked}
    enrolments = []
    for klass in classes:
        for draft, result, number in klass.enrolled:
            enrolments.append(ClassEnrolment(
                awareness_class=klass.obj, candidate=by_draft[id(draft)], result=result,
                certificate_number=number, certificate_date=klass.end if number else None))
    ClassEnrolment.objects.bulk_create(enrolments, batch_size=2000)
    return {"people": len(walked), "transitions": len(transitions), "enrolments": len(enrolments)}


def _small_plan(years: dict[int, int]) -> dict[int, dict]:
    return {year: {"residential": n - n // 2, "education": n // 4, "state": n // 2 - n // 4} for year, n in years.items()}


@transaction.atomic
def load_demo(province: OrgUnit, stdout=None) -> None:
    if Person.objects.filter(code=MARKER_CODE).exists():
        if stdout is not None:
            stdout.write("Hồ sơ mẫu: đã có sẵn.")
        _load_branch_demo(province, stdout)
        return
    started = time.monotonic()
    rng = random.Random(SEED)
    users = _demo_users()
    gen = Generator(province, rng)
    with preloaded(dt.date(2015, 1, 1), dt.date(2029, 12, 31)):
        ub = OrgUnit.objects.get(code="QN.UB")
        ub_classes = _classes(ub, UB_CLASSES, "UB", "Trung tâm Chính trị thành phố Uông Bí")
        plan = {year: {g: SECTOR_PLAN[g][i] for g in SECTOR_PLAN} for i, year in enumerate(YEARS)}
        pending = next(c for c in ub_classes if c.obj.start_date == PENDING_CLASS_START)
        _build_city(gen, city=ub, prefix="UB", classes=ub_classes, plan=plan, current=CURRENT_UB,
                    pending_class=pending, full=True)
        classes = list(ub_classes)
        for code, prefix, place, years in (
            ("QN.DT", "DT", "Trung tâm Chính trị thị xã Đông Triều", {2024: 4, 2025: 5, 2026: 5}),
            ("QN.HG", "HG", "Hội trường Đảng ủy phường Hồng Gai", {2025: 3, 2026: 6}),
        ):
            city = OrgUnit.objects.get(code=code)
            starts = [dt.date(2022, 9, 12), dt.date(2023, 9, 11), dt.date(2024, 9, 9), dt.date(2025, 4, 7),
                      dt.date(2026, 4, 6)]
            city_classes = _classes(city, starts, prefix, place)
            classes += city_classes
            _build_city(gen, city=city, prefix=prefix, classes=city_classes, plan=_small_plan(years),
                        current=CURRENT_SMALL, pending_class=None, full=False)
        counts = _save(gen, users, classes)
    if stdout is not None:
        stdout.write(f"Hồ sơ mẫu: {counts['people']} người, {counts['transitions']} lần chuyển giai đoạn, "
                     f"{len(classes)} lớp nhận thức ({counts['enrolments']} học viên) "
                     f"trong {time.monotonic() - started:.1f} giây.")
    _load_branch_demo(province, stdout)


def _load_branch_demo(province: OrgUnit, stdout=None) -> None:
    """Last: a few people at every current stage in the demo staff's own branches (Khu 1, Khu 2)."""
    from recruitment.demo_branches import load_branch_demo

    load_branch_demo(province, stdout)
