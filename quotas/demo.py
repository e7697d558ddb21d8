"""Demo quotas 2020–2026 for every node of the demo province, cascaded the way the boards do it
(Uông Bí 2024: 3.5% of 7,894 members = 276, seed 000), some revisions, mass-organisation introduction
quotas; then attainment for every year. Idempotent: a year whose quotas exist is left alone."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction

from members.models import MassOrg
from orgs.models import Kind, OrgUnit, OrgYearStat
from quotas.models import MassOrgQuota, Quota, QuotaRevision
from quotas.services import attainment_recompute, pipeline_figures_recompute, quota_set, suggested_quota

QUOTA_YEARS = range(2020, 2027)
ATTAINMENT_YEARS = range(2019, 2027)
# Rate of members at the start of the year used by the upper committees (seed 000: 2020 ≈ 2%, plan 2024 3.5%).
RATE_BY_YEAR = {2020: 2.0, 2021: 2.6, 2022: 2.8, 2023: 3.0, 2024: 3.5, 2025: 3.5, 2026: 3.6}
SOURCE_FACTOR = 1.5  # people to bring to sympathiser per admission planned
# Share of an upper committee's quota kept unallocated (a reserve for mid-year revisions), by year.
RESERVE_BY_YEAR = {2026: 0.03}
CITY_BOARDS = {"QN.UB": "btc.uongbi", "QN.DT": "btc.dongtrieu", "QN.HG": "btc.honggai"}
MASS_ORG_SHARES = [
    (MassOrg.YOUTH_UNION, 0.40),
    (MassOrg.TRADE_UNION, 0.25),
    (MassOrg.WOMEN, 0.15),
    (MassOrg.FARMERS, 0.08),
    (MassOrg.VETERANS, 0.07),
    (MassOrg.FRONT, 0.05),
]


def _split(total: int, weights: dict[int, int]) -> dict[int, int]:
    """Largest-remainder split of `total` in proportion to `weights` (ties by id, deterministic)."""
    weight_sum = sum(weights.values())
    if not weights or weight_sum == 0 or total <= 0:
        return dict.fromkeys(weights, 0)
    exact = {k: total * w / weight_sum for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    rest = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:rest]:
        out[k] += 1
    return out


def _members_by_node(orgs: list[OrgUnit], year: int) -> dict[int, int]:
    by_path = {o.path: o.pk for o in orgs}
    totals: dict[int, int] = defaultdict(int)
    step = OrgUnit.steplen
    for path, members in OrgYearStat.objects.filter(year=year).values_list("org__path", "members_start"):
        for end in range(step, len(path) + 1, step):
            pk = by_path.get(path[:end])
            if pk is not None:
                totals[pk] += members
    return totals


def plan_quotas(province: OrgUnit, year: int) -> dict[int, int]:
    """Admission quota per node: upper committees by rate, then each board splits its quota by members."""
    orgs = list(OrgUnit.objects.filter(path__startswith=province.path, is_active=True).order_by("path"))
    members = _members_by_node(orgs, year)
    children: dict[int, list[OrgUnit]] = defaultdict(list)
    by_path = {o.path: o for o in orgs}
    for o in orgs:
        parent = by_path.get(o.path[: -OrgUnit.steplen])
        if parent is not None:
            children[parent.pk].append(o)
    rate = RATE_BY_YEAR[year]
    quotas: dict[int, int] = {}

    def cascade(node: OrgUnit) -> None:
        kids = children.get(node.pk, [])
        if not kids:
            return
        reserve = RESERVE_BY_YEAR.get(year, 0.0) if node.kind == Kind.UPPER else 0.0
        share = quotas[node.pk] - int(round(quotas[node.pk] * reserve))
        for kid_pk, value in _split(share, {k.pk: members.get(k.pk, 0) for k in kids}).items():
            quotas[kid_pk] = value
        for kid in kids:
            cascade(kid)

    uppers = children.get(province.pk, [])
    for upper in uppers:
        quotas[upper.pk] = suggested_quota(members_start=members.get(upper.pk, 0), rate_pct=rate)
    quotas[province.pk] = sum(quotas[u.pk] for u in uppers)
    for upper in uppers:
        cascade(upper)
    return quotas


# (org code, year, initial admission quota, reason of the revision to the planned figure, acting user)
REVISIONS = [
    ("QN.UB", 2024, 260, "Điều chỉnh theo Kế hoạch năm 2024: 3,5% số đảng viên đầu năm (7.894 đảng viên)", "btc.tinh"),
    ("QN.UB.01", 2025, None, "Bổ sung chỉ tiêu do phường Quang Trung có thêm 2 khu dân cư mới", "btc.uongbi"),
    ("QN.UB.12", 2025, None, "Giảm chỉ tiêu do sắp xếp lại bộ máy, giảm biên chế", "btc.uongbi"),
    ("QN.DT", 2026, None, "Tăng chỉ tiêu theo Nghị quyết Đại hội Đảng bộ thành phố nhiệm kỳ 2025–2030", "btc.tinh"),
]


@transaction.atomic
def load_quotas(province: OrgUnit, year: int, users: dict) -> bool:
    if Quota.objects.filter(org__path__startswith=province.path, year=year).exists():
        return False
    planned = plan_quotas(province, year)
    codes = dict(OrgUnit.objects.filter(pk__in=planned).values_list("pk", "code"))
    pk_of = {code: pk for pk, code in codes.items()}
    revisions = {code: (initial, reason, who) for code, y, initial, reason, who in REVISIONS if y == year}
    final: dict[int, int] = dict(planned)
    initial: dict[int, int] = dict(planned)
    for code, (first, _reason, _who) in revisions.items():
        pk = pk_of.get(code)
        if pk is None:
            continue
        if first is not None:
            initial[pk] = first
        else:
            # A mid-year revision away from the plan: up for growing nodes, down for shrinking ones.
            final[pk] = planned[pk] + (3 if code.endswith(".01") or code == "QN.DT" else -2)
            final[pk] = max(final[pk], 0)
    # The province plans on what its committees were finally given (plus the year's reserve).
    uppers = list(OrgUnit.objects.filter(pk__in=planned, depth=province.depth + 1).values_list("pk", flat=True))
    province_total = sum(final[pk] for pk in uppers)
    province_total += int(round(province_total * RESERVE_BY_YEAR.get(year, 0.0)))
    initial[province.pk] = final[province.pk] = province_total
    # Board of each node's parent (the province board for the province itself) as the actor of the first setting.
    setter_by_depth = {1: users.get("btc.tinh"), 2: users.get("btc.tinh")}
    quota_rows = [
        Quota(
            org_id=pk,
            year=year,
            admission_quota=value,
            source_quota=int(round(value * SOURCE_FACTOR)),
            updated_by=None,
        )
        for pk, value in initial.items()
    ]
    Quota.objects.bulk_create(quota_rows, batch_size=1000)
    depth_of = dict(OrgUnit.objects.filter(pk__in=planned).values_list("pk", "depth"))
    created = {q.org_id: q for q in Quota.objects.filter(org_id__in=planned, year=year)}
    QuotaRevision.objects.bulk_create(
        [
            QuotaRevision(
                quota=q,
                old_admission_quota=None,
                new_admission_quota=q.admission_quota,
                old_source_quota=None,
                new_source_quota=q.source_quota,
                reason=f"Giao chỉ tiêu năm {year}",
                actor=setter_by_depth.get(depth_of[pk]) or users.get(CITY_BOARDS.get(codes[pk][:5], "")),
            )
            for pk, q in created.items()
        ],
        batch_size=1000,
    )
    for code, (_first, reason, who) in revisions.items():
        pk = pk_of.get(code)
        if pk is None:
            continue
        org = OrgUnit.objects.get(pk=pk)
        quota_set(
            org=org,
            year=year,
            admission_quota=final[pk],
            source_quota=int(round(final[pk] * SOURCE_FACTOR)),
            actor=users.get(who),
            reason=reason,
        )
    mass_rows = []
    for org in OrgUnit.objects.filter(path__startswith=province.path, depth__lte=province.depth + 1):
        sources = int(round(final.get(org.pk, 0) * SOURCE_FACTOR))
        for mass_org, share in MASS_ORG_SHARES:
            mass_rows.append(MassOrgQuota(org=org, year=year, mass_org=mass_org, quota=int(round(sources * share))))
    MassOrgQuota.objects.bulk_create(mass_rows, ignore_conflicts=True)
    return True


def load_demo(province: OrgUnit, stdout=None) -> None:
    from accounts.models import User
    from core.demo import ensure_demo_users

    ensure_demo_users()  # revisions name the boards that made them; idempotent
    users = {u.username: u for u in User.objects.filter(username__in=["btc.tinh", *CITY_BOARDS.values()])}
    loaded = [year for year in QUOTA_YEARS if load_quotas(province, year, users)]
    for year in ATTAINMENT_YEARS:
        attainment_recompute(year=year)
    pipeline_figures_recompute(today=dt.date.today())
    if stdout is not None:
        city = OrgUnit.objects.filter(code="QN.UB").first()
        q2024 = Quota.objects.filter(org=city, year=2024).first() if city else None
        stdout.write(
            f"Chỉ tiêu: {'đã tạo năm ' + ', '.join(map(str, loaded)) if loaded else 'đã có sẵn'}"
            f"{f'; Uông Bí 2024: {q2024.admission_quota}' if q2024 else ''}. "
            f"Đã tính kết quả các năm {ATTAINMENT_YEARS.start}–{ATTAINMENT_YEARS.stop - 1} ({dt.date.today():%d/%m/%Y})."
        )
