"""The demo province: a Thành ủy shaped like seed 000 (Uông Bí at 30/10/2023), a smaller city and a
post-2025 ward committee directly under the province. Deterministic: same tree and figures every run."""

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction

from accounts.models import Role, User
from orgs.models import Kind, OrgUnit, OrgYearStat, Sector
from orgs.services import org_create, org_merge

DEMO_PASSWORD = "PhatTrien@2026"
PROVINCE_CODE = "QN"
CITY_CODE = "QN.UB"
SEED_MEMBERS_2024 = 7894  # seed 000: members of the city party organisation
YEARS = range(2019, 2027)
GROWTH = 0.012  # yearly net growth used to back-/forward-fill member counts around 2024

WARDS = [
    "Quang Trung", "Trưng Vương", "Thanh Sơn", "Yên Thanh", "Bắc Sơn", "Nam Khê",
    "Vàng Danh", "Phương Đông", "Phương Nam", "Thượng Yên Công", "Điền Công",
]
# 99 residential areas spread over the ten wards and one commune that remain after the merger.
RESIDENTIAL_PER_WARD = [10, 12, 9, 9, 8, 9, 10, 9, 9, 7, 7]

# (name, sector, number of sub-branches). Together with the 11 ward committees: 24 đảng bộ cơ sở.
PARTY_COMMITTEES = [
    ("Đảng bộ Công an thành phố", Sector.POLICE, 10),
    ("Đảng bộ Quân sự thành phố", Sector.MILITARY, 5),
    ("Đảng bộ Cơ quan Thành ủy", Sector.ADMIN, 10),
    ("Đảng bộ Cơ quan chính quyền thành phố", Sector.ADMIN, 18),
    ("Đảng bộ Công ty Than Vàng Danh", Sector.STATE_ENTERPRISE, 22),
    ("Đảng bộ Công ty Than Uông Bí", Sector.STATE_ENTERPRISE, 20),
    ("Đảng bộ Công ty Than Nam Mẫu", Sector.STATE_ENTERPRISE, 16),
    ("Đảng bộ Công ty Nhiệt điện Uông Bí", Sector.STATE_ENTERPRISE, 12),
    ("Đảng bộ Bệnh viện Việt Nam - Thụy Điển Uông Bí", Sector.HEALTH, 14),
    ("Đảng bộ Trung tâm Y tế thành phố", Sector.HEALTH, 8),
    ("Đảng bộ Trường Cao đẳng Công nghiệp và Xây dựng", Sector.UNIVERSITY, 9),
    ("Đảng bộ Khối Giáo dục thành phố", Sector.EDUCATION, 20),
    ("Đảng bộ Trung tâm Văn hóa - Thể thao thành phố", Sector.OTHER_PUBLIC, 4),
    ("Đảng bộ Công ty Cổ phần Xi măng Lam Thạch", Sector.PRIVATE, 6),
]
# 17 chi bộ cơ sở (no sub-branches).
BASE_BRANCHES = [
    ("Chi bộ Trường THPT Uông Bí", Sector.SCHOOL),
    ("Chi bộ Trường THPT Hoàng Văn Thụ", Sector.SCHOOL),
    ("Chi bộ Trường THPT Hồng Đức", Sector.SCHOOL),
    ("Chi bộ Trung tâm GDNN-GDTX thành phố", Sector.SCHOOL),
    ("Chi bộ Công ty TNHH Minh Trí", Sector.PRIVATE),
    ("Chi bộ Công ty Cổ phần Đầu tư Hoàng Long", Sector.PRIVATE),
    ("Chi bộ Công ty TNHH Thương mại Quang Minh", Sector.PRIVATE),
    ("Chi bộ Công ty Cổ phần Vận tải Thủy Bắc", Sector.PRIVATE),
    ("Chi bộ Công ty TNHH Xây dựng Đông Bắc", Sector.PRIVATE),
    ("Chi bộ Công ty TNHH Sản xuất Bao bì An Phát", Sector.PRIVATE),
    ("Chi bộ Công ty TNHH Điện tử Uniwise", Sector.FDI),
    ("Chi bộ Ngân hàng Nông nghiệp chi nhánh Uông Bí", Sector.STATE_ENTERPRISE),
    ("Chi bộ Điện lực Uông Bí", Sector.STATE_ENTERPRISE),
    ("Chi bộ Chi cục Thuế khu vực Uông Bí - Quảng Yên", Sector.ADMIN),
    ("Chi bộ Kho bạc Nhà nước Uông Bí", Sector.ADMIN),
    ("Chi bộ Ban Quản lý Di tích Yên Tử", Sector.OTHER_PUBLIC),
    ("Chi bộ Hội Chữ thập đỏ thành phố", Sector.OTHER),
]
WARD_EXTRA_BRANCHES = [("Chi bộ Cơ quan", Sector.ADMIN), ("Chi bộ Trường Tiểu học", Sector.EDUCATION), ("Chi bộ Quân sự", Sector.MILITARY)]

BRANCH_WORDS = {
    Sector.POLICE: "Đội", Sector.MILITARY: "Ban", Sector.ADMIN: "Phòng", Sector.STATE_ENTERPRISE: "Phân xưởng",
    Sector.HEALTH: "Khoa", Sector.UNIVERSITY: "Khoa", Sector.EDUCATION: "Trường", Sector.PRIVATE: "Bộ phận",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    org_code: str


def _child_name(sector: str, index: int) -> str:
    word = BRANCH_WORDS.get(sector, "Bộ phận")
    if sector == Sector.EDUCATION:
        kinds = ["Mầm non", "Tiểu học", "THCS"]
        return f"Chi bộ Trường {kinds[index % 3]} số {index // 3 + 1}"
    return f"Chi bộ {word} số {index}"


def _leaf_counts(rng: random.Random, leaves: list[OrgUnit], total: int) -> dict[int, int]:
    weights = [rng.uniform(0.6, 1.6) * (1.4 if leaf.kind == Kind.BASE else 1.0) for leaf in leaves]
    scale = total / sum(weights)
    counts = {leaf.pk: max(3, int(w * scale)) for leaf, w in zip(leaves, weights, strict=False)}
    # Hand the rounding remainder out one by one so the sum is exactly the seed's figure.
    diff = total - sum(counts.values())
    ordered = sorted(leaves, key=lambda leaf: leaf.pk)
    i = 0
    while diff != 0:
        leaf = ordered[i % len(ordered)]
        step = 1 if diff > 0 else -1
        if counts[leaf.pk] + step >= 3:
            counts[leaf.pk] += step
            diff -= step
        i += 1
    return counts


def _store_member_counts(leaves: list[OrgUnit], counts_2024: dict[int, int]) -> None:
    rows = []
    for leaf in leaves:
        base = counts_2024[leaf.pk]
        for year in YEARS:
            value = base if year == 2024 else round(base * (1 + GROWTH) ** (year - 2024))
            rows.append(OrgYearStat(org=leaf, year=year, members_start=value))
    OrgYearStat.objects.bulk_create(rows)


def _build_city(province: OrgUnit, rng: random.Random) -> OrgUnit:
    city = org_create(code=CITY_CODE, name="Thành ủy Uông Bí", kind=Kind.UPPER, parent=province,
                      sector=Sector.ADMIN, has_admission_authority=True)
    number = 0
    for ward, residential in zip(WARDS, RESIDENTIAL_PER_WARD, strict=False):
        number += 1
        is_commune = ward in ("Thượng Yên Công", "Điền Công")
        base = org_create(code=f"{CITY_CODE}.{number:02d}", name=f"Đảng bộ {'xã' if is_commune else 'phường'} {ward}",
                          kind=Kind.BASE, parent=city, sector=Sector.RESIDENTIAL)
        for i in range(1, residential + 1):
            area = "Thôn" if is_commune else "Khu"
            org_create(code=f"{base.code}.{i:02d}", name=f"Chi bộ {area} {i}", kind=Kind.BRANCH, parent=base,
                       sector=Sector.RESIDENTIAL)
        for j, (label, sector) in enumerate(WARD_EXTRA_BRANCHES[: 2 if is_commune else 3], start=residential + 1):
            org_create(code=f"{base.code}.{j:02d}", name=f"{label} {'xã' if is_commune else 'phường'} {ward}",
                       kind=Kind.BRANCH, parent=base, sector=sector)
    for name, sector, children in PARTY_COMMITTEES:
        number += 1
        base = org_create(code=f"{CITY_CODE}.{number:02d}", name=name, kind=Kind.BASE, parent=city, sector=sector)
        for i in range(1, children + 1):
            org_create(code=f"{base.code}.{i:02d}", name=_child_name(sector, i), kind=Kind.BRANCH, parent=base,
                       sector=sector)
    for name, sector in BASE_BRANCHES:
        number += 1
        org_create(code=f"{CITY_CODE}.{number:02d}", name=name, kind=Kind.BASE, parent=city, sector=sector)
    return city


def _build_small_city(province: OrgUnit) -> OrgUnit:
    city = org_create(code="QN.DT", name="Thành ủy Đông Triều", kind=Kind.UPPER, parent=province,
                      sector=Sector.ADMIN, has_admission_authority=True)
    layout = [("Đảng bộ phường Mạo Khê", Sector.RESIDENTIAL, 8), ("Đảng bộ phường Đức Chính", Sector.RESIDENTIAL, 6),
              ("Đảng bộ Công ty Than Mạo Khê", Sector.STATE_ENTERPRISE, 9),
              ("Đảng bộ Cơ quan chính quyền thị xã", Sector.ADMIN, 7)]
    for n, (name, sector, children) in enumerate(layout, start=1):
        base = org_create(code=f"QN.DT.{n:02d}", name=name, kind=Kind.BASE, parent=city, sector=sector)
        for i in range(1, children + 1):
            label = f"Chi bộ Khu {i}" if sector == Sector.RESIDENTIAL else _child_name(sector, i)
            org_create(code=f"{base.code}.{i:02d}", name=label, kind=Kind.BRANCH, parent=base, sector=sector)
    for n, (name, sector) in enumerate([("Chi bộ Trường THPT Đông Triều", Sector.SCHOOL),
                                        ("Chi bộ Công ty TNHH Gốm Đất Việt", Sector.PRIVATE)], start=len(layout) + 1):
        org_create(code=f"QN.DT.{n:02d}", name=name, kind=Kind.BASE, parent=city, sector=sector)
    return city


def _build_ward_committee(province: OrgUnit) -> OrgUnit:
    """Since 1/7/2025 (Regulation 294-QĐ/TW) a ward committee sits directly under the province."""
    ward = org_create(code="QN.HG", name="Đảng ủy phường Hồng Gai", kind=Kind.UPPER, parent=province,
                      sector=Sector.RESIDENTIAL, has_admission_authority=True)
    for i in range(1, 9):
        org_create(code=f"QN.HG.{i:02d}", name=f"Chi bộ Khu phố {i}", kind=Kind.BASE, parent=ward,
                   sector=Sector.RESIDENTIAL)
    org_create(code="QN.HG.09", name="Chi bộ Trường THCS Hồng Gai", kind=Kind.BASE, parent=ward, sector=Sector.EDUCATION)
    org_create(code="QN.HG.10", name="Chi bộ Công ty TNHH Du lịch Hạ Long Xanh", kind=Kind.BASE, parent=ward,
               sector=Sector.PRIVATE)
    return ward


def _leaves(root: OrgUnit) -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(path__startswith=root.path, numchild=0, is_active=True).order_by("path"))


DEMO_USERS = [
    DemoUser("quantri", "Quản trị hệ thống", Role.ADMIN, PROVINCE_CODE),
    DemoUser("btc.tinh", "Ban Tổ chức Tỉnh ủy", Role.BOARD, PROVINCE_CODE),
    DemoUser("btc.uongbi", "Nguyễn Thị Thu Hà (Ban Tổ chức Thành ủy)", Role.BOARD, CITY_CODE),
    DemoUser("canbo.quangtrung", "Trần Văn Đức (Đảng ủy phường Quang Trung)", Role.STAFF, f"{CITY_CODE}.01"),
    DemoUser("canbo.khu1", "Lê Thị Hồng (Chi bộ Khu 1, phường Quang Trung)", Role.STAFF, f"{CITY_CODE}.01.01"),
    DemoUser("canbo.khu2", "Phạm Văn Nam (Chi bộ Khu 2, phường Quang Trung)", Role.STAFF, f"{CITY_CODE}.01.02"),
    DemoUser("trungtam.uongbi", "Đỗ Minh Tuấn (Trung tâm Chính trị thành phố)", Role.TRAINING, CITY_CODE),
    DemoUser("lanhdao.uongbi", "Vũ Quang Huy (Thường trực Thành ủy)", Role.VIEWER, CITY_CODE),
    DemoUser("btc.dongtrieu", "Hoàng Thị Lan (Ban Tổ chức Thành ủy Đông Triều)", Role.BOARD, "QN.DT"),
    DemoUser("btc.honggai", "Bùi Văn Thắng (Đảng ủy phường Hồng Gai)", Role.BOARD, "QN.HG"),
]


def ensure_demo_users() -> list[DemoUser]:
    for demo in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=demo.username)
        user.first_name = demo.full_name
        user.role = demo.role
        user.org = OrgUnit.objects.get(code=demo.org_code)
        user.is_staff = user.is_superuser = demo.role == Role.ADMIN
        user.set_password(DEMO_PASSWORD)
        user.save()
    return DEMO_USERS


@transaction.atomic
def build_demo_tree(seed: int = 2024) -> OrgUnit:
    """Create the organisation tree and member counts once; later runs find it and return the root."""
    existing = OrgUnit.objects.filter(code=PROVINCE_CODE).first()
    if existing is not None:
        return existing
    rng = random.Random(seed)
    province = org_create(code=PROVINCE_CODE, name="Tỉnh ủy Quảng Ninh", kind=Kind.PROVINCE,
                          sector=Sector.ADMIN, has_admission_authority=True)
    city = _build_city(province, rng)
    # Seed 000: Điền Công was merged into Trưng Vương; the 41 base organisations are counted after it.
    source = OrgUnit.objects.get(name="Đảng bộ xã Điền Công")
    target = OrgUnit.objects.get(name="Đảng bộ phường Trưng Vương")
    org_merge(source=source, target=target, effective_date=dt.date(2023, 3, 1), note="Sáp nhập xã Điền Công")
    city.refresh_from_db()
    leaves = _leaves(city)
    _store_member_counts(leaves, _leaf_counts(rng, leaves, SEED_MEMBERS_2024))
    for other, total in ((_build_small_city(province), 2350), (_build_ward_committee(province), 640)):
        other_leaves = _leaves(other)
        _store_member_counts(other_leaves, _leaf_counts(rng, other_leaves, total))
    return province
