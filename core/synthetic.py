"""A deterministic synthetic province for benchmarks (`generate_province`).

Shaped like section 7 of DOMAIN.md (seed 000, Uông Bí) and seed 002 (a province of ~85,000 members and
~2,400 admissions a year), scaled by the number of members at the start of the current year:

- about one organisation node per 10 members (100,000 members -> ~10,000 nodes): province -> upper
  committees (Thành ủy / Huyện ủy / Đảng ủy Khối) -> base organisations (đảng bộ cơ sở with
  sub-branches, some with đảng bộ bộ phận, or chi bộ cơ sở) -> chi bộ;
- members at the start of each of ten years (`OrgYearStat`, on the leaves only, the year of `as_of`
  summing exactly to `members`);
- ten years of admissions (~2.4 % of members a year) with every milestone date in order, lineage
  snapshots and, as time allows, ceremony, probation and recognition;
- people in the pipeline at every stage before the decision (~20 % of members), plus exits;
- awareness-course classes with enrolments, two introducers per dossier, quotas for every node and year.

Everything is loaded with bulk inserts. The tree is built in memory with treebeard paths computed here
(steplen 4, base-36 alphabet), explicit primary keys so that `lineage` can be written in the same insert,
and `numchild`/`depth` filled in; `OrgUnit.find_problems()` finds nothing. Codes start with "G." so they
never collide with the demo province ("QN") or the test world ("T").

Not generated: Transition rows (the log of stage changes) and simple_history rows. Reports count from the
Candidate milestone dates and lineage snapshots, so the figures do not depend on them.

Same seed and options -> the same tree, people, dates and counts (only database IDs differ).
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import itertools
import math
import random
import time
from dataclasses import dataclass, field

from django.core.management.color import no_style
from django.db import connection, transaction

from core.demo import WARD_EXTRA_BRANCHES  # the same extra branches a ward has in the demo
from core.text import fold
from members.models import Education, Gender, Introducer, MassOrg, OccupationGroup, Person
from orgs.models import Kind, OrgUnit, OrgYearStat, Sector
from orgs.services import org_create
from quotas.models import Quota
from recruitment.models import AwarenessClass, Candidate, ClassEnrolment, Stage

ROOT_CODE = "G"
ROOT_NAME = "Tỉnh ủy Giả lập (dữ liệu đo hiệu năng)"
DEFAULT_AS_OF = dt.date(2026, 10, 31)  # fixed, so that the same seed gives the same dates on any day
YEARS = 10
MEMBERS_PER_NODE = 10
MEMBERS_PER_UPPER = 7_700  # seed 000: Uông Bí has 7,894 members
ADMISSION_RATE = 0.024  # seed 002: ~2,400 a year for a province of ~100,000 members
PIPELINE_RATE = 0.20  # people in the pipeline before the decision, per member
MEMBER_GROWTH = 0.015  # yearly net growth used to back-fill member counts
BATCH = 5_000

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

UPPER_NAMES = [
    "Thành ủy Bình Minh",
    "Thành ủy Hòa Phong",
    "Thị ủy An Khê",
    "Huyện ủy Tiên Lãng",
    "Huyện ủy Vân Sơn",
    "Thành ủy Hải Đông",
    "Huyện ủy Đồng Xuân",
    "Huyện ủy Phú Lộc",
    "Thị ủy Tân Hưng",
    "Huyện ủy Yên Bình",
    "Huyện ủy Kim Sơn",
    "Đảng ủy Khối các cơ quan tỉnh",
    "Đảng ủy Khối doanh nghiệp tỉnh",
    "Huyện ủy Lạc Thủy",
    "Huyện ủy Minh Long",
    "Thành ủy Sông Cầu",
    "Huyện ủy Thạch Hà",
    "Huyện ủy Quế Phong",
]
WARD_NAMES = [
    "Quang Trung",
    "Trưng Vương",
    "Hồng Hà",
    "Bạch Đằng",
    "Trần Hưng Đạo",
    "Hòa Bình",
    "Tân Lập",
    "Thanh Sơn",
    "Bắc Sơn",
    "Nam Khê",
    "Yên Thanh",
    "Phương Đông",
    "Minh Thành",
    "Hà Khánh",
    "Cao Xanh",
    "Việt Hưng",
    "Đại Yên",
    "Thống Nhất",
    "Sơn Dương",
    "Đồng Lâm",
    "Kỳ Thượng",
    "Lê Lợi",
    "Tân Dân",
    "Hưng Đạo",
    "An Sinh",
    "Bình Dương",
    "Hoàng Quế",
    "Hồng Phong",
    "Xuân Sơn",
    "Kim Sơn",
    "Mạo Khê",
    "Đức Chính",
    "Vàng Danh",
]
# (label, sector, branch word, weight): the kinds of đảng bộ cơ sở, roughly in seed 000's proportions.
COMMITTEE_KINDS = [
    ("Đảng bộ Công an", Sector.POLICE, "Đội", 2),
    ("Đảng bộ Quân sự", Sector.MILITARY, "Ban", 1),
    ("Đảng bộ Cơ quan", Sector.ADMIN, "Phòng", 3),
    ("Đảng bộ Công ty", Sector.STATE_ENTERPRISE, "Phân xưởng", 4),
    ("Đảng bộ Bệnh viện", Sector.HEALTH, "Khoa", 2),
    ("Đảng bộ Khối Giáo dục", Sector.EDUCATION, "Trường", 2),
    ("Đảng bộ Trường Cao đẳng", Sector.UNIVERSITY, "Khoa", 1),
    ("Đảng bộ Trung tâm", Sector.OTHER_PUBLIC, "Tổ", 1),
    ("Đảng bộ Công ty Cổ phần", Sector.PRIVATE, "Bộ phận", 2),
]
BASE_BRANCH_KINDS = [
    ("Chi bộ Trường THPT", Sector.SCHOOL, 3),
    ("Chi bộ Công ty TNHH", Sector.PRIVATE, 5),
    ("Chi bộ Công ty", Sector.FDI, 1),
    ("Chi bộ Ngân hàng", Sector.STATE_ENTERPRISE, 1),
    ("Chi bộ Chi cục", Sector.ADMIN, 2),
    ("Chi bộ Ban Quản lý", Sector.OTHER_PUBLIC, 1),
    ("Chi bộ Hội", Sector.OTHER, 1),
]
# Admissions lean towards some sectors (seed 000: education and residential areas admit the most).
SECTOR_ADMISSION_FACTOR = {
    Sector.RESIDENTIAL: 1.0,
    Sector.EDUCATION: 1.4,
    Sector.HEALTH: 0.6,
    Sector.STATE_ENTERPRISE: 0.7,
    Sector.PRIVATE: 1.5,
    Sector.FDI: 1.3,
    Sector.SCHOOL: 1.6,
    Sector.UNIVERSITY: 1.8,
    Sector.MILITARY: 0.4,
    Sector.POLICE: 0.6,
    Sector.ADMIN: 0.8,
    Sector.OTHER_PUBLIC: 0.8,
    Sector.OTHER: 0.8,
}
OCCUPATIONS = {
    Sector.RESIDENTIAL: [
        OccupationGroup.FARMER,
        OccupationGroup.WORKER,
        OccupationGroup.BUSINESS_OWNER,
        OccupationGroup.OTHER,
        OccupationGroup.STUDENT,
    ],
    Sector.ADMIN: [OccupationGroup.CIVIL_SERVANT],
    Sector.EDUCATION: [OccupationGroup.PUBLIC_EMPLOYEE],
    Sector.HEALTH: [OccupationGroup.PUBLIC_EMPLOYEE],
    Sector.OTHER_PUBLIC: [OccupationGroup.PUBLIC_EMPLOYEE],
    Sector.STATE_ENTERPRISE: [OccupationGroup.ENTERPRISE_STAFF, OccupationGroup.WORKER],
    Sector.PRIVATE: [OccupationGroup.ENTERPRISE_STAFF, OccupationGroup.WORKER, OccupationGroup.BUSINESS_OWNER],
    Sector.FDI: [OccupationGroup.ENTERPRISE_STAFF, OccupationGroup.WORKER],
    Sector.MILITARY: [OccupationGroup.ARMED_FORCES],
    Sector.POLICE: [OccupationGroup.ARMED_FORCES],
    Sector.SCHOOL: [OccupationGroup.STUDENT, OccupationGroup.PUBLIC_EMPLOYEE],
    Sector.UNIVERSITY: [OccupationGroup.STUDENT, OccupationGroup.PUBLIC_EMPLOYEE],
    Sector.OTHER: [OccupationGroup.OTHER],
}
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Lương",
]
MIDDLE = {
    Gender.MALE: ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Tiến"],
    Gender.FEMALE: ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Phương", "Thúy"],
}
GIVEN = {
    Gender.MALE: [
        "An",
        "Bình",
        "Cường",
        "Dũng",
        "Hải",
        "Hùng",
        "Khánh",
        "Long",
        "Nam",
        "Phúc",
        "Quân",
        "Sơn",
        "Thắng",
        "Tuấn",
        "Việt",
        "Huy",
        "Đạt",
        "Hiếu",
        "Trung",
        "Kiên",
    ],
    Gender.FEMALE: [
        "Anh",
        "Chi",
        "Dung",
        "Giang",
        "Hà",
        "Hạnh",
        "Hoa",
        "Hương",
        "Lan",
        "Linh",
        "Mai",
        "Ngân",
        "Nhung",
        "Oanh",
        "Phương",
        "Quỳnh",
        "Thảo",
        "Trang",
        "Yến",
        "Hằng",
    ],
}
MINORITIES = ["Tày", "Dao", "Sán Dìu", "Nùng", "Hoa", "Mường", "Thái", "Sán Chay"]
RELIGIONS = ["Công giáo", "Phật giáo", "Tin Lành"]
EDUCATIONS = [
    (Education.LOWER_SECONDARY, 8),
    (Education.UPPER_SECONDARY, 30),
    (Education.VOCATIONAL, 12),
    (Education.COLLEGE, 12),
    (Education.UNIVERSITY, 34),
    (Education.POSTGRADUATE, 4),
]
# Pipeline stages before the decision and the exits, with their share of the pipeline.
PIPELINE_SHARES = [
    (Stage.OUTSTANDING, 0.32),
    (Stage.SYMPATHISER, 0.25),
    (Stage.COURSE_DONE, 0.18),
    (Stage.DOSSIER, 0.12),
    (Stage.BRANCH_RESOLUTION, 0.04),
    (Stage.BASE_RESOLUTION, 0.03),
    (Stage.REMOVED, 0.05),
    (Stage.NOT_ADMITTED, 0.01),
]
STRUCK_OFF_SHARE = 0.003


@dataclass
class Node:
    code: str
    name: str
    kind: str
    sector: str
    authority: bool = False
    children: list[Node] = field(default_factory=list)
    # filled by _assign
    pk: int = 0
    path: str = ""
    depth: int = 0
    lineage: str = ""
    upper: Node | None = None  # the committee that decides admissions for this node's people
    has_base_step: bool = True  # False for a chi bộ cơ sở (its resolution goes straight to the decision)


@dataclass
class Plan:
    members: int
    seed: int
    as_of: dt.date = DEFAULT_AS_OF
    years: int = YEARS

    @property
    def year_range(self) -> range:
        return range(self.as_of.year - self.years + 1, self.as_of.year + 1)

    @property
    def admissions_per_year(self) -> int:
        return max(1, round(self.members * ADMISSION_RATE))

    @property
    def pipeline_size(self) -> int:
        return max(len(PIPELINE_SHARES), round(self.members * PIPELINE_RATE))


def _step(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = ALPHABET[r] + out
        if n == 0:
            break
    return out.rjust(OrgUnit.steplen, "0")


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


# ---------------------------------------------------------------------------------------------- tree


def _build_upper(rng: random.Random, code: str, name: str, node_budget: int) -> Node:
    upper = Node(code, name, Kind.UPPER, Sector.ADMIN, authority=True)
    used, number = 1, 0
    wards = rng.sample(WARD_NAMES, k=min(len(WARD_NAMES), 12))
    committee_pairs = [(k, k[3]) for k in COMMITTEE_KINDS]
    base_pairs = [(k, k[2]) for k in BASE_BRANCH_KINDS]
    while used < node_budget:
        number += 1
        bcode = f"{code}.{number:03d}"
        roll = rng.random()
        if number <= len(wards):  # the wards and communes first: residential areas are a third of the branches
            ward = wards[number - 1]
            commune = rng.random() < 0.35
            base = Node(bcode, f"Đảng bộ {'xã' if commune else 'phường'} {ward}", Kind.BASE, Sector.RESIDENTIAL)
            residential = rng.randint(6, 16)
            for i in range(1, residential + 1):
                base.children.append(
                    Node(
                        f"{bcode}.{i:03d}",
                        f"Chi bộ {'Thôn' if commune else 'Khu'} {i}",
                        Kind.BRANCH,
                        Sector.RESIDENTIAL,
                    )
                )
            for j, (label, sector) in enumerate(WARD_EXTRA_BRANCHES[: 2 if commune else 3], start=residential + 1):
                base.children.append(
                    Node(f"{bcode}.{j:03d}", f"{label} {'xã' if commune else 'phường'} {ward}", Kind.BRANCH, sector)
                )
        elif roll < 0.55:
            label, sector, word, _ = _weighted(rng, committee_pairs)
            base = Node(bcode, f"{label} số {number}", Kind.BASE, sector)
            big = sector in (Sector.STATE_ENTERPRISE, Sector.POLICE) and rng.random() < 0.3
            if big:  # a large enterprise or police committee with đảng bộ bộ phận in between
                for s in range(1, rng.randint(2, 4) + 1):
                    sub = Node(f"{bcode}.{s:03d}", f"Đảng bộ bộ phận {word} số {s}", Kind.SUB, sector)
                    for i in range(1, rng.randint(3, 8) + 1):
                        sub.children.append(Node(f"{sub.code}.{i:03d}", f"Chi bộ {word} {s}.{i}", Kind.BRANCH, sector))
                    base.children.append(sub)
            else:
                for i in range(1, rng.randint(4, 24) + 1):
                    base.children.append(Node(f"{bcode}.{i:03d}", f"Chi bộ {word} số {i}", Kind.BRANCH, sector))
        else:
            label, sector, _ = _weighted(rng, base_pairs)
            base = Node(bcode, f"{label} số {number}", Kind.BASE, sector)
        upper.children.append(base)
        used += _count(base)
    return upper


def _count(node: Node) -> int:
    return 1 + sum(_count(c) for c in node.children)


def build_tree(plan: Plan) -> Node:
    """The whole tree in memory (no database), deterministic for a seed and a size."""
    rng = random.Random(plan.seed)
    root = Node(ROOT_CODE, ROOT_NAME, Kind.PROVINCE, Sector.ADMIN, authority=True)
    node_target = max(20, plan.members // MEMBERS_PER_NODE)
    uppers = max(2, round(plan.members / MEMBERS_PER_UPPER))
    for u in range(1, uppers + 1):
        base_name = UPPER_NAMES[(u - 1) % len(UPPER_NAMES)]
        name = base_name if u <= len(UPPER_NAMES) else f"{base_name} {u // len(UPPER_NAMES) + 1}"
        budget = max(8, round(node_target / uppers * rng.uniform(0.7, 1.3)))
        root.children.append(_build_upper(rng, f"{ROOT_CODE}.{u:02d}", name, budget))
    return root


def _assign(node: Node, *, pk_iter, path: str, depth: int, parent_lineage: str, upper: Node | None) -> None:
    node.pk = next(pk_iter)
    node.path, node.depth = path, depth
    node.lineage = f"{parent_lineage}{node.pk}/"
    node.upper = upper
    node.has_base_step = not (node.kind == Kind.BASE and not node.children)
    below = node if node.authority else upper
    for i, child in enumerate(node.children, start=1):
        _assign(child, pk_iter=pk_iter, path=path + _step(i), depth=depth + 1, parent_lineage=node.lineage, upper=below)


def _walk(node: Node):
    yield node
    for child in node.children:
        yield from _walk(child)


# ---------------------------------------------------------------------------------------------- people


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _days(rng: random.Random, lo: int, hi: int) -> dt.timedelta:
    return dt.timedelta(days=rng.randint(lo, hi))


def _two_thirds(n: int) -> int:
    return math.ceil(2 * n / 3)


class PeopleMaker:
    def __init__(
        self,
        plan: Plan,
        rng: random.Random,
        leaves: list[Node],
        *,
        code_prefix: str = "G.HS.",
        cccd_prefix: str = "099",
    ):
        self.plan, self.rng = plan, rng
        self.code_prefix, self.cccd_prefix = code_prefix, cccd_prefix
        self.leaves = leaves
        self.by_pk = {leaf.pk: leaf for leaf in leaves}
        self.seq = 0
        self.classes: dict[tuple[int, int, int], AwarenessClass] = {}
        self.class_seq = 0
        self.decision_seq: dict[tuple[int, int], int] = {}
        self.recognition_seq: dict[tuple[int, int], int] = {}
        self.cert_seq: dict[int, int] = {}
        self.people: list[Person] = []
        self.candidates: list[Candidate] = []
        self.introducers: list[tuple[int, list[Introducer]]] = []  # (index in people, rows)

    # identity -------------------------------------------------------------------------------------
    def person(self, leaf: Node, age_on: dt.date) -> Person:
        rng = self.rng
        self.seq += 1
        gender = Gender.FEMALE if rng.random() < 0.52 else Gender.MALE
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}"
        age = _weighted(rng, [((18, 30), 70), ((31, 35), 14), ((36, 40), 8), ((41, 45), 5), ((46, 58), 3)])
        years = rng.randint(*age)
        birth = age_on - dt.timedelta(days=years * 365 + years // 4 + rng.randint(31, 330))
        education, exception = _weighted(rng, EDUCATIONS), False
        if rng.random() < 0.004:  # R-EDU: primary school only, allowed in a disadvantaged area
            education, exception = Education.PRIMARY, True
        minority = rng.random() < 0.09
        century = 0 if birth.year < 2000 else 2
        cccd = (
            f"{self.cccd_prefix}{century + (1 if gender == Gender.FEMALE else 0)}{birth.year % 100:02d}{self.seq:06d}"
        )
        nominating = (
            MassOrg.YOUTH_UNION
            if years <= 30
            else _weighted(
                rng,
                [
                    (MassOrg.TRADE_UNION, 4),
                    (MassOrg.WOMEN, 2 if gender == Gender.FEMALE else 0),
                    (MassOrg.FARMERS, 2 if leaf.sector == Sector.RESIDENTIAL else 0),
                    (MassOrg.VETERANS, 1),
                    (MassOrg.FRONT, 1),
                ],
            )
        )
        return Person(
            code=f"{self.code_prefix}{self.seq:06d}",
            full_name=name,
            name_folded=fold(name),
            birth_date=birth,
            gender=gender,
            ethnicity=rng.choice(MINORITIES) if minority else "Kinh",
            religion=rng.choice(RELIGIONS) if rng.random() < 0.07 else "Không",
            cccd=cccd,
            education=education,
            disadvantaged_area_exception=exception,
            is_youth_union_member=years <= 30 and rng.random() < 0.85,
            occupation_group=rng.choice(OCCUPATIONS[leaf.sector]),
            branch_id=leaf.pk,
            nominating_org=nominating,
            helping_member=f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[Gender.MALE])} {rng.choice(GIVEN[Gender.MALE])}",
        )

    # milestones ---------------------------------------------------------------------------------
    def cert_date(self, anchor: dt.date) -> dt.date:
        """A certificate day (6th-20th, after the class's five days) in [anchor - 50 days, anchor)."""
        month_day = anchor - dt.timedelta(days=20)
        return dt.date(month_day.year, month_day.month, self.rng.randint(6, 20))

    def attend_class(self, c: Candidate, leaf: Node) -> None:
        """The class of the deciding committee held in the first days of the certificate's month."""
        day = c.certificate_date
        key = (leaf.upper.pk, day.year, day.month)
        klass = self.classes.get(key)
        if klass is None:
            self.class_seq += 1
            start = dt.date(day.year, day.month, 1)
            klass = AwarenessClass(
                code=f"G.LOP.{self.class_seq:05d}",
                name=f"Lớp bồi dưỡng nhận thức về Đảng tháng {start.month:02d}/{start.year} – {leaf.upper.name}",
                organiser_id=leaf.upper.pk,
                start_date=start,
                end_date=start + dt.timedelta(days=4),
                place=f"Trung tâm Chính trị {leaf.upper.name.split(' ', 2)[-1]}",
            )
            self.classes[key] = klass
        self.cert_seq[day.year] = self.cert_seq.get(day.year, 0) + 1
        c.awareness_class, c.course_result = klass, "dat"
        c.certificate_number = f"{self.cert_seq[day.year]:05d}/{day.year}/CN-NTVĐ-G"

    def fill_before_branch_resolution(self, c: Candidate, leaf: Node, branch_res: dt.date, upto: str) -> None:
        """Dates of steps 1..4 working backwards from the (real or future) branch resolution date."""
        rng = self.rng
        opinions = branch_res - _days(rng, 7, 60)
        application = opinions - _days(rng, 10, 90)
        cert_date = self.cert_date(application - _days(rng, 0, 120))
        sympathiser = cert_date - _days(rng, 60, 240)
        source = sympathiser - _days(rng, 30, 365)
        c.source_date = source
        order = [Stage.OUTSTANDING, Stage.SYMPATHISER, Stage.COURSE_DONE, Stage.DOSSIER]
        reached = order.index(upto) if upto in order else len(order)
        if reached >= 1:
            c.sympathiser_date, c.sympathiser_lineage = sympathiser, leaf.lineage
        if reached >= 2:
            c.certificate_date = cert_date
        if reached >= 3:
            c.application_date = application
            c.personal_history_date = application + _days(rng, 0, 5)
            c.personal_history_verified_date = min(opinions, c.personal_history_date + _days(rng, 5, 40))
            c.opinions_date = opinions

    def introducers_for(self, c: Candidate, branch_res: dt.date) -> list[Introducer]:
        rng = self.rng
        day = branch_res - _days(rng, 10, 90)
        if rng.random() < 0.35:  # 4-KNĐ: the Đoàn / Công đoàn resolution and one member
            return [
                Introducer(
                    kind=Introducer.Kind.UNION_RESOLUTION,
                    name="Ban Chấp hành Đoàn cơ sở",
                    is_official_member=True,
                    months_known=12,
                    introduced_on=day,
                ),
                Introducer(
                    kind=Introducer.Kind.MEMBER,
                    name=self._member_name(),
                    months_known=rng.randint(12, 60),
                    introduced_on=day,
                ),
            ]
        return [
            Introducer(
                kind=Introducer.Kind.MEMBER,
                name=self._member_name(),
                months_known=rng.randint(12, 96),
                introduced_on=day,
            )
            for _ in range(2)
        ]

    def _member_name(self) -> str:
        g = Gender.MALE if self.rng.random() < 0.5 else Gender.FEMALE
        return f"{self.rng.choice(FAMILY)} {self.rng.choice(MIDDLE[g])} {self.rng.choice(GIVEN[g])}"

    def add(self, person: Person, c: Candidate, introducers: list[Introducer] | None) -> None:
        if c.certificate_date:
            self.attend_class(c, self.by_pk[c.org_id])
        self.people.append(person)
        self.candidates.append(c)
        if introducers:
            self.introducers.append((len(self.people) - 1, introducers))

    # an admitted person ---------------------------------------------------------------------------
    def admitted(self, leaf: Node, decision: dt.date) -> None:
        rng, as_of = self.rng, self.plan.as_of
        base_res = decision - _days(rng, 10, 45) if leaf.has_base_step else None
        branch_res = (base_res or decision) - _days(rng, 7, 30)
        person = self.person(leaf, branch_res)
        c = Candidate(org_id=leaf.pk, stage=Stage.ADMITTED)
        self.fill_before_branch_resolution(c, leaf, branch_res, Stage.ADMITTED)
        summoned = rng.randint(3, 40)
        c.branch_resolution_date = branch_res
        c.branch_members_summoned, c.branch_votes_for = summoned, rng.randint(_two_thirds(summoned), summoned)
        if base_res:
            members = rng.randint(5, 15)
            c.base_resolution_date, c.base_committee_members = base_res, members
            c.base_votes_for = rng.randint(_two_thirds(members), members)
        key = (leaf.upper.pk, decision.year)
        self.decision_seq[key] = self.decision_seq.get(key, 0) + 1
        c.deciding_org_id = leaf.upper.pk
        c.decision_number = f"{self.decision_seq[key]}-QĐ/KN"
        c.decision_date, c.admitted_lineage = decision, leaf.lineage
        ceremony = decision + _days(rng, 5, 40)
        if ceremony <= as_of:
            c.stage, c.ceremony_date = Stage.PROBATIONARY, ceremony
            course = ceremony + _days(rng, 30, 200)
            c.new_member_course_date = course if course <= as_of else None
            probation_end = _add_months(ceremony, 12)
            rec_res = probation_end + _days(rng, 1, 35)
            rec_decision = rec_res + _days(rng, 5, 30)
            if rec_decision <= as_of:
                if rng.random() < STRUCK_OFF_SHARE:
                    c.stage, c.exit_date = Stage.STRUCK_OFF, probation_end - _days(rng, 1, 60)
                    c.exit_reason = "Không đủ tư cách đảng viên trong thời gian dự bị"
                else:
                    summoned = rng.randint(3, 40)
                    key = (leaf.upper.pk, rec_decision.year)
                    self.recognition_seq[key] = self.recognition_seq.get(key, 0) + 1
                    c.stage = Stage.FULL_MEMBER
                    c.recognition_branch_resolution_date = rec_res
                    c.recognition_members_summoned = summoned
                    c.recognition_votes_for = rng.randint(_two_thirds(summoned), summoned)
                    c.recognition_decision_number = f"{self.recognition_seq[key]}-QĐ/CN"
                    c.recognition_decision_date = rec_decision
                    # R-PROBATION: recognition takes effect when probation ends, whatever day it is signed.
                    c.recognition_date, c.recognized_lineage = probation_end, leaf.lineage
        self.add(person, c, self.introducers_for(c, branch_res))

    # someone still on the way, or who left it --------------------------------------------------
    def in_pipeline(self, leaf: Node, stage: str) -> None:
        rng, as_of = self.rng, self.plan.as_of
        if stage == Stage.BASE_RESOLUTION and not leaf.has_base_step:
            stage = Stage.BRANCH_RESOLUTION
        c = Candidate(org_id=leaf.pk, stage=stage)
        introducers = None
        if stage in (Stage.BRANCH_RESOLUTION, Stage.BASE_RESOLUTION):
            last = as_of - _days(rng, 0, 40)
            base_res = last if stage == Stage.BASE_RESOLUTION else None
            branch_res = (base_res - _days(rng, 7, 30)) if base_res else last
            person = self.person(leaf, branch_res)
            self.fill_before_branch_resolution(c, leaf, branch_res, stage)
            summoned = rng.randint(3, 40)
            c.branch_resolution_date = branch_res
            c.branch_members_summoned, c.branch_votes_for = summoned, rng.randint(_two_thirds(summoned), summoned)
            if base_res:
                members = rng.randint(5, 15)
                c.base_resolution_date, c.base_committee_members = base_res, members
                c.base_votes_for = rng.randint(_two_thirds(members), members)
            introducers = self.introducers_for(c, branch_res)
        elif stage == Stage.NOT_ADMITTED:
            branch_res = as_of - _days(rng, 20, 700)
            person = self.person(leaf, branch_res)
            self.fill_before_branch_resolution(c, leaf, branch_res, Stage.DOSSIER)
            c.exit_date = branch_res
            c.exit_reason = "Chi bộ biểu quyết không đủ 2/3 số đảng viên chính thức tán thành"
        else:
            # The latest recorded step lies within the past months; the next one would fall in the future.
            upto = Stage.SYMPATHISER if stage == Stage.REMOVED else stage
            lead = {
                Stage.OUTSTANDING: (400, 900),
                Stage.SYMPATHISER: (200, 500),
                Stage.COURSE_DONE: (90, 250),
                Stage.DOSSIER: (20, 80),
            }[upto]
            future_branch_res = as_of + _days(rng, *lead)
            person = self.person(leaf, future_branch_res)
            self.fill_before_branch_resolution(c, leaf, future_branch_res, upto)
            last_date = {
                Stage.OUTSTANDING: c.source_date,
                Stage.SYMPATHISER: c.sympathiser_date,
                Stage.COURSE_DONE: c.certificate_date,
                Stage.DOSSIER: c.opinions_date,
            }[upto]
            if last_date > as_of:  # pull the whole chain back so nothing is in the future
                shift = last_date - as_of + _days(rng, 0, 30)
                for name in (
                    "source_date",
                    "sympathiser_date",
                    "certificate_date",
                    "application_date",
                    "personal_history_date",
                    "personal_history_verified_date",
                    "opinions_date",
                ):
                    if getattr(c, name):
                        setattr(c, name, getattr(c, name) - shift)
                if c.certificate_date:  # back on a certificate day, never later than before
                    c.certificate_date = self.cert_date(c.certificate_date + dt.timedelta(days=1))
            if stage == Stage.REMOVED:
                c.exit_date = min(as_of, c.sympathiser_date + _days(rng, 30, 300))
                c.exit_reason = rng.choice(
                    [
                        "Tự nguyện xin rút khỏi danh sách",
                        "Chuyển nơi công tác, không tiếp tục",
                        "Vi phạm quy định, chi bộ đưa ra khỏi danh sách cảm tình Đảng",
                    ]
                )
        self.add(person, c, introducers)


# ---------------------------------------------------------------------------------------------- loading


def _leaf_members(rng: random.Random, leaves: list[Node], total: int) -> dict[int, int]:
    weights = [rng.uniform(0.5, 1.5) * (1.3 if leaf.kind == Kind.BASE else 1.0) for leaf in leaves]
    scale = total / sum(weights)
    counts = {leaf.pk: max(3, int(w * scale)) for leaf, w in zip(leaves, weights, strict=True)}
    diff, i = total - sum(counts.values()), 0
    while diff != 0:  # hand the rounding remainder out so the total is exact
        leaf = leaves[i % len(leaves)]
        step = 1 if diff > 0 else -1
        if counts[leaf.pk] + step >= 3:
            counts[leaf.pk] += step
            diff -= step
        i += 1
    return counts


def _set_due_dates(candidates: list[Candidate], plan: Plan) -> None:
    """The stored due dates the recruitment services keep on every record (recruitment.deadlines)."""
    from recruitment import workdays
    from recruitment.deadlines import due_fields

    start = dt.date(plan.year_range.start - 3, 1, 1)
    with workdays.preloaded(start, plan.as_of + dt.timedelta(days=800)):
        for c in candidates:
            for name, value in due_fields(c).items():
                setattr(c, name, value)


def _scaled(counts: dict[int, int], total: int) -> dict[int, int]:
    """The same shape with another exact total (largest remainders get the rounding)."""
    whole = sum(counts.values())
    exact = {pk: n * total / whole for pk, n in counts.items()}
    out = {pk: int(v) for pk, v in exact.items()}
    rest = total - sum(out.values())
    for pk in sorted(exact, key=lambda pk: (out[pk] - exact[pk], pk))[:rest]:
        out[pk] += 1
    return out


def _bulk(model, rows, batch=BATCH):
    return model.objects.bulk_create(rows, batch_size=batch)


def _log(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


@transaction.atomic
def generate_province(*, members: int, seed: int, as_of: dt.date = DEFAULT_AS_OF, stdout=None) -> OrgUnit:
    """Load the synthetic province; raises ValueError if one is already there."""
    if members < 200:
        raise ValueError("Cần ít nhất 200 đảng viên để dựng được tỉnh giả lập")
    if OrgUnit.objects.filter(code=ROOT_CODE).exists():
        raise ValueError(f"Tỉnh giả lập (mã {ROOT_CODE}) đã có trong cơ sở dữ liệu")
    plan = Plan(members=members, seed=seed, as_of=as_of)
    started = time.monotonic()
    tree = build_tree(plan)

    # Explicit primary keys so each node's lineage is written in the same insert; nobody else may take
    # IDs meanwhile.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {OrgUnit._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    root = org_create(code=tree.code, name=tree.name, kind=tree.kind, sector=tree.sector, has_admission_authority=True)
    first_pk = (OrgUnit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    pk_iter = itertools.chain([root.pk], itertools.count(first_pk))
    _assign(tree, pk_iter=pk_iter, path=root.path, depth=root.depth, parent_lineage="/", upper=None)
    nodes = list(_walk(tree))[1:]
    _bulk(
        OrgUnit,
        [
            OrgUnit(
                pk=n.pk,
                path=n.path,
                depth=n.depth,
                numchild=len(n.children),
                code=n.code,
                name=n.name,
                name_folded=fold(n.name),
                kind=n.kind,
                sector=n.sector,
                has_admission_authority=n.authority,
                lineage=n.lineage,
            )
            for n in nodes
        ],
    )
    OrgUnit.objects.filter(pk=root.pk).update(numchild=len(tree.children))
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [OrgUnit]):
            cursor.execute(sql)
    _log(stdout, f"  {len(nodes) + 1} tổ chức ({time.monotonic() - started:.1f} s)")

    rng = random.Random(plan.seed * 7919 + 1)
    leaves = [n for n in nodes if not n.children]
    current = _leaf_members(rng, leaves, plan.members)
    stats = []
    for year in plan.year_range:
        target = round(plan.members * (1 + MEMBER_GROWTH) ** (year - as_of.year))
        counts = current if year == as_of.year else _scaled(current, target)
        stats.extend(OrgYearStat(org_id=leaf.pk, year=year, members_start=counts[leaf.pk]) for leaf in leaves)
    _bulk(OrgYearStat, stats)

    # Admissions and pipeline land on branches in proportion to members, leaning by sector.
    weights = [current[leaf.pk] * SECTOR_ADMISSION_FACTOR[leaf.sector] for leaf in leaves]
    cumulative = list(itertools.accumulate(weights))

    def pick() -> Node:
        return leaves[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]

    maker = PeopleMaker(plan, rng, leaves)
    per_year = {}
    for year in plan.year_range:
        last_day = min(dt.date(year, 12, 31), as_of)
        span = (last_day - dt.date(year, 1, 1)).days
        count = round(plan.admissions_per_year * rng.uniform(0.92, 1.08) * (span + 1) / 365)
        per_year[year] = count
        for _ in range(count):
            maker.admitted(pick(), dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, span)))
    for stage, share in PIPELINE_SHARES:
        for _ in range(round(plan.pipeline_size * share)):
            maker.in_pipeline(pick(), stage)
    _log(stdout, f"  {len(maker.people)} hồ sơ dựng trong bộ nhớ ({time.monotonic() - started:.1f} s)")

    _set_due_dates(maker.candidates, plan)
    _bulk(AwarenessClass, list(maker.classes.values()))
    people = _bulk(Person, maker.people)
    for person, candidate in zip(people, maker.candidates, strict=True):
        candidate.person_id = person.pk
        if candidate.awareness_class is not None:
            candidate.awareness_class_id = candidate.awareness_class.pk
    candidates = _bulk(Candidate, maker.candidates)
    _bulk(
        ClassEnrolment,
        [
            ClassEnrolment(
                awareness_class_id=c.awareness_class_id,
                candidate_id=c.pk,
                result=ClassEnrolment.Result.PASSED,
                certificate_number=c.certificate_number,
                certificate_date=c.certificate_date,
            )
            for c in candidates
            if c.awareness_class_id
        ],
    )
    intro_rows = []
    for index, rows in maker.introducers:
        for row in rows:
            row.person_id = people[index].pk
            intro_rows.append(row)
    _bulk(Introducer, intro_rows)
    _log(
        stdout,
        f"  {len(people)} hồ sơ, {len(maker.classes)} lớp, {len(intro_rows)} người giới thiệu "
        f"({time.monotonic() - started:.1f} s)",
    )

    _bulk(Quota, _quotas(plan, tree, current, per_year, rng))
    _log(stdout, f"  chỉ tiêu cho {len(nodes) + 1} tổ chức × {plan.years} năm ({time.monotonic() - started:.1f} s)")
    return OrgUnit.objects.get(pk=root.pk)


def _quotas(
    plan: Plan, tree: Node, current: dict[int, int], per_year: dict[int, int], rng: random.Random
) -> list[Quota]:
    """Leaf quotas near their expected share of admissions; a parent's quota is what it allocated to its
    children plus, sometimes, a small reserve it kept (the "unallocated rest")."""
    rows: list[Quota] = []
    total_members = sum(current.values())
    for year in plan.year_range:
        days = (min(dt.date(year, 12, 31), plan.as_of) - dt.date(year, 1, 1)).days + 1
        full_year = per_year[year] * 365 / days
        _quota_subtree(
            tree, year=year, expected_per_member=full_year / total_members, current=current, rng=rng, rows=rows
        )
    return rows


def _quota_subtree(
    node: Node, *, year: int, expected_per_member: float, current: dict[int, int], rng: random.Random, rows: list[Quota]
) -> int:
    if not node.children:
        expected = expected_per_member * current[node.pk] * SECTOR_ADMISSION_FACTOR[node.sector]
        admission = round(expected * rng.uniform(0.8, 1.4))
        if node.sector in (Sector.RESIDENTIAL, Sector.PRIVATE):  # seed targets: at least one a year
            admission = max(1, admission)
    else:
        admission = sum(
            _quota_subtree(
                child, year=year, expected_per_member=expected_per_member, current=current, rng=rng, rows=rows
            )
            for child in node.children
        )
        if rng.random() < 0.3:
            admission += rng.randint(0, 2)
    rows.append(Quota(org_id=node.pk, year=year, admission_quota=admission, source_quota=math.ceil(admission * 1.5)))
    return admission


def province_summary(root: OrgUnit) -> dict:
    """Counts that identify a generated province independently of database IDs (used by the tests and the
    command's last line)."""
    from django.db.models import Count, Sum
    from django.db.models.functions import ExtractYear

    nodes = OrgUnit.objects.filter(path__startswith=root.path)
    candidates = Candidate.objects.filter(org__path__startswith=root.path)
    return {
        "nodes": nodes.count(),
        "nodes_by_kind": dict(nodes.values_list("kind").annotate(n=Count("pk")).order_by("kind")),
        "leaves": nodes.filter(numchild=0).count(),
        "members_by_year": dict(
            OrgYearStat.objects.filter(org__path__startswith=root.path)
            .values_list("year")
            .annotate(n=Sum("members_start"))
            .order_by("year")
        ),
        "people": Person.objects.filter(branch__path__startswith=root.path).count(),
        "by_stage": dict(candidates.values_list("stage").annotate(n=Count("pk")).order_by("stage")),
        "admitted_by_year": dict(
            candidates.filter(decision_date__isnull=False)
            .annotate(y=ExtractYear("decision_date"))
            .values_list("y")
            .annotate(n=Count("pk"))
            .order_by("y")
        ),
        "quotas": Quota.objects.filter(org__path__startswith=root.path).count(),
        "classes": AwarenessClass.objects.filter(organiser__path__startswith=root.path).count(),
        "introducers": Introducer.objects.filter(person__branch__path__startswith=root.path).count(),
    }


def leaves_from_db(root: OrgUnit) -> list[Node]:
    """The branches of a stored tree as generator nodes (for making more people, e.g. an import workbook)."""
    nodes = list(OrgUnit.objects.filter(path__startswith=root.path, is_active=True).order_by("path"))
    by_path = {n.path: n for n in nodes}
    uppers: dict[int, Node] = {}
    leaves = []
    for n in nodes:
        if n.numchild:
            continue
        upper = None
        for cut in range(len(n.path) - OrgUnit.steplen, 0, -OrgUnit.steplen):
            ancestor = by_path.get(n.path[:cut])
            if ancestor is not None and ancestor.has_admission_authority:
                upper = uppers.setdefault(
                    ancestor.pk,
                    Node(
                        ancestor.code,
                        ancestor.name,
                        ancestor.kind,
                        ancestor.sector,
                        authority=True,
                        pk=ancestor.pk,
                        lineage=ancestor.lineage,
                    ),
                )
                break
        if upper is None:
            continue
        leaves.append(
            Node(
                n.code,
                n.name,
                n.kind,
                n.sector,
                pk=n.pk,
                path=n.path,
                depth=n.depth,
                lineage=n.lineage,
                upper=upper,
                has_base_step=not (n.kind == Kind.BASE and n.numchild == 0),
            )
        )
    return leaves
