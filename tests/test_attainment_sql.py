"""The materialised attainment equals an independent SQL count over the raw candidate rows, for every node,
year and breakdown of the demo province, including after a reorganisation moved a base organisation."""

import datetime as dt
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection

from core.demo import build_demo_tree
from orgs.models import OrgUnit
from orgs.services import org_move
from quotas.demo import load_demo as load_quota_demo
from quotas.models import Attainment
from quotas.tests.synthetic import add_candidates

YEARS = range(2019, 2027)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the independent count is written in PostgreSQL SQL"
)


def _sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


# Every node joined to the events whose lineage snapshot names it: written without the app's code.
_JOIN = """
  FROM recruitment_candidate c
  JOIN members_person p ON p.id = c.person_id
  CROSS JOIN LATERAL unnest(string_to_array(btrim(c.{lineage}, '/'), '/')) AS l(id)
  JOIN orgs_orgunit o ON o.id = l.id::bigint
 WHERE c.{date} >= make_date(%s, 1, 1) AND c.{date} <= make_date(%s, 12, 31)
"""

_AGE = "date_part('year', age(c.decision_date, p.birth_date))"
_BAND = f"""CASE WHEN {_AGE} < 18 THEN 'duoi_18' WHEN {_AGE} <= 30 THEN '18-30' WHEN {_AGE} <= 35 THEN '31-35'
  WHEN {_AGE} <= 40 THEN '36-40' WHEN {_AGE} <= 45 THEN '41-45' WHEN {_AGE} <= 50 THEN '46-50'
  WHEN {_AGE} <= 55 THEN '51-55' WHEN {_AGE} <= 60 THEN '56-60' ELSE 'tren_60' END"""
_BRANCH_ID = "(regexp_match(c.admitted_lineage, '/([0-9]+)/$'))[1]::bigint"

DIMENSIONS = {
    "gender": "p.gender",
    "age_band": _BAND,
    "education": "p.education",
    "occupation_group": "p.occupation_group",
    "sector": f"(SELECT b.sector FROM orgs_orgunit b WHERE b.id = {_BRANCH_ID})",
}
FLAGS = {
    "youth_union": "p.is_youth_union_member",
    "ethnic_minority": "lower(trim(p.ethnicity)) NOT IN ('kinh', '')",
    "religion": "lower(trim(p.religion)) NOT IN ('không', 'khong', '')",
}


def independent_figures(year: int) -> dict[int, dict]:
    out: dict[int, dict] = defaultdict(
        lambda: {"admitted": 0, "recognized": 0, "sources": 0, "by_group": defaultdict(dict), "flags": {}}
    )
    adm = _JOIN.format(lineage="admitted_lineage", date="decision_date")
    for org_id, n in _sql(f"SELECT o.id, count(*) {adm} GROUP BY o.id", [year, year]):
        out[org_id]["admitted"] = n
    for key, expr in (
        ("recognized", ("recognized_lineage", "recognition_date")),
        ("sources", ("sympathiser_lineage", "sympathiser_date")),
    ):
        join = _JOIN.format(lineage=expr[0], date=expr[1])
        for org_id, n in _sql(f"SELECT o.id, count(*) {join} GROUP BY o.id", [year, year]):
            out[org_id][key] = n
    for dim, expr in DIMENSIONS.items():
        for org_id, value, n in _sql(f"SELECT o.id, {expr} AS v, count(*) {adm} GROUP BY o.id, v", [year, year]):
            out[org_id]["by_group"][dim][value] = n
    for flag, expr in FLAGS.items():
        for org_id, n in _sql(f"SELECT o.id, count(*) FILTER (WHERE {expr}) {adm} GROUP BY o.id", [year, year]):
            out[org_id]["flags"][flag] = n
    return out


def independent_members(year: int) -> dict[int, int]:
    return dict(
        _sql(
            """SELECT o.id, sum(s.members_start) FROM orgs_orgunit o
                 JOIN orgs_orgyearstat s ON s.year = %s
                 JOIN orgs_orgunit so ON so.id = s.org_id AND so.path LIKE o.path || '%%'
                GROUP BY o.id""",
            [year],
        )
    )


@pytest.mark.django_db
def test_materialised_attainment_equals_an_independent_count_for_every_node_and_breakdown():
    province = build_demo_tree()
    try:
        from recruitment.demo import load_demo as load_people
    except ModuleNotFoundError:
        load_people = None
    if load_people is not None:
        load_people(province, None)
    add_candidates(province, count=3000, seed=11)
    # A reorganisation after the events: Quang Trung moves under Đông Triều. Its past admissions stay counted
    # under Uông Bí (the lineage snapshots), and the recompute must not follow the move.
    quang_trung = OrgUnit.objects.get(code="QN.UB.01")
    uong_bi = OrgUnit.objects.get(code="QN.UB")
    before = None
    load_quota_demo(province, None)
    before = Attainment.objects.get(org=uong_bi, year=2024).admitted
    org_move(org=quang_trung, new_parent=OrgUnit.objects.get(code="QN.DT"), effective_date=dt.date(2026, 7, 1))
    for year in YEARS:
        call_command("recompute_attainment", "--year", str(year), stdout=open("/dev/null", "w"))
    assert Attainment.objects.get(org=uong_bi, year=2024).admitted == before > 0

    orgs = list(OrgUnit.objects.filter(path__startswith=province.path).values_list("pk", "code"))
    checked = 0
    for year in YEARS:
        expected = independent_figures(year)
        members = independent_members(year)
        stored = {a.org_id: a for a in Attainment.objects.filter(year=year)}
        assert set(stored) >= {pk for pk, _ in orgs}
        for pk, code in orgs:
            a = stored[pk]
            e = expected.get(pk, {"admitted": 0, "recognized": 0, "sources": 0, "by_group": {}, "flags": {}})
            where = f"{code} {year}"
            assert a.admitted == e["admitted"], where
            assert a.recognized == e["recognized"], where
            assert a.sources == e["sources"], where
            assert a.members_start == members.get(pk, 0), where
            for dim in DIMENSIONS:
                assert a.by_group[dim] == dict(e["by_group"].get(dim, {})), f"{where} {dim}"
                assert sum(a.by_group[dim].values()) == a.admitted, f"{where} {dim} total"
            for flag in FLAGS:
                assert a.by_group[flag] == e["flags"].get(flag, 0), f"{where} {flag}"
            checked += 1
    assert checked == len(orgs) * len(YEARS)
    root = Attainment.objects.get(org=province, year=2024)
    assert root.admitted > 100 and root.by_group["age_band"] and root.by_group["ethnic_minority"] > 0
