import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from core.demo import build_demo_tree, ensure_demo_users
from orgs.models import Kind, OrgUnit, Sector
from quotas.demo import load_demo as load_quota_demo
from quotas.services import attainment_recompute, quota_set
from quotas.tests.synthetic import add_candidates
from recruitment.deadlines import due_fields
from recruitment.models import Candidate, Stage
from tests.factories import PersonFactory, make_org


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def demo(db):
    province = build_demo_tree()
    ensure_demo_users()
    add_candidates(province, count=600, seed=3)
    load_quota_demo(province, None)
    return province


def test_dashboard_query_count_is_constant_on_the_demo_province_and_uong_bi_plans_276(demo, client_for):
    client = client_for(User.objects.get(username="btc.tinh"))
    year = dt.date.today().year
    root = _count(client, f"/chi-tieu/to-chuc/{demo.pk}/?year={year}")
    city = _count(client, f"/chi-tieu/to-chuc/{OrgUnit.objects.get(code='QN.UB').pk}/?year={year}")
    branch = _count(client, f"/chi-tieu/to-chuc/{OrgUnit.objects.get(code='QN.UB.01.01').pk}/?year={year}")
    past = _count(client, f"/chi-tieu/to-chuc/{demo.pk}/?year=2024")
    assert root == city == branch <= 32
    assert past <= root
    alloc_root = _count(client, f"/chi-tieu/phan-bo/{demo.pk}/?year=2024")
    alloc_city = _count(client, f"/chi-tieu/phan-bo/{OrgUnit.objects.get(code='QN.UB').pk}/?year=2024")
    assert alloc_root == alloc_city <= 20

    # Same demo (built once: it is slow): Uông Bí's 2024 plan is seed 000's 3.5% of 7,894 = 276, cascaded.
    from quotas.selectors import attainment_for, attainment_rows

    city = OrgUnit.objects.get(code="QN.UB")
    own = attainment_for(org=city, year=2024)
    assert (own.members_start, own.quota) == (7894, 276)
    rows = attainment_rows(root=city, year=2024)
    assert own.allocated_to_children == sum(r.quota for r in rows[1:]) == 276
    client.force_login(User.objects.get(username="btc.uongbi"))
    html = client.get(f"/chi-tieu/phan-bo/{city.pk}/?year=2024").content.decode()
    assert "Điều chỉnh theo Kế hoạch năm 2024" in html and "260 → 276" in html


def test_the_dashboard_shows_children_pace_flags_and_forecast(world, client_for):
    year = dt.date.today().year
    quota_set(org=world.city, year=year, admission_quota=10, source_quota=10)
    quota_set(org=world.base, year=year, admission_quota=4, source_quota=4)
    private = make_org("T.C.P", "Chi bộ Công ty TNHH Thử", Kind.BASE, world.city, sector=Sector.PRIVATE)
    person = PersonFactory(branch=world.branch)
    Candidate.objects.create(
        person=person,
        org=world.branch,
        stage=Stage.PROBATIONARY,
        decision_date=dt.date(year, 1, 10),
        ceremony_date=dt.date(year, 1, 20),
        admitted_lineage=world.branch.lineage,
    )
    voted = PersonFactory(branch=world.sibling)
    late = Candidate(
        person=voted,
        org=world.sibling,
        stage=Stage.BRANCH_RESOLUTION,
        branch_resolution_date=dt.date(year - 1, 6, 1),  # long past its 60 working days
    )
    for name, value in due_fields(late).items():  # the due dates the pipeline services store
        setattr(late, name, value)
    late.save()
    for y in range(year - 3, year + 1):
        attainment_recompute(year=y)
    html = (
        client_for(world.persona("board_city")).get(f"/chi-tieu/to-chuc/{world.city.pk}/?year={year}").content.decode()
    )
    assert 'data-testid="own-admitted">1 ' in html
    assert "Đảng bộ phường An Bình" in html and "bg-" in html
    assert 'data-flag="R-BASE-ZERO"' in html and private.name in html
    assert 'data-flag="R-PRIVATE-ONE"' in html
    assert 'data-flag="R-RESIDENTIAL-ONE"' in html and "Chi bộ Khu 2" in html
    assert 'data-flag="R-BRANCH-STREAK"' in html
    assert 'data-flag="R-DECISION-DUE"' in html and voted.full_name in html
    assert "Dự báo" in html and "R-DECISION-DUE" in html
    # The drill-down link goes to the base, and an outsider cannot follow it.
    assert f"/chi-tieu/to-chuc/{world.base.pk}/" in html
    assert client_for(world.persona("board_other")).get(f"/chi-tieu/to-chuc/{world.base.pk}/").status_code == 404


def test_the_recompute_button_queues_and_returns_at_once(world, client_for):
    year = dt.date.today().year
    client = client_for(world.persona("board_city"))
    response = client.post(f"/chi-tieu/to-chuc/{world.city.pk}/", {"year": year})
    assert response.status_code == 302
    assert client_for(world.persona("viewer_city")).post(f"/chi-tieu/to-chuc/{world.city.pk}/").status_code == 403
