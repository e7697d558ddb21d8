import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgs.models import OrgChange, OrgUnit, OrgYearStat
from orgs.selectors import ancestors, decision_authority_for, get_org_for_user, visible_orgs
from orgs.services import members_start_set, org_merge, org_move


def test_board_sees_its_city_subtree_only(world):
    codes = set(visible_orgs(world.persona("board_city")).values_list("code", flat=True))
    assert codes == {"T.C", "T.C.A", "T.C.A.1", "T.C.A.2", "T.C.B"}


def test_branch_staff_sees_only_its_branch(world):
    assert list(visible_orgs(world.persona("staff_branch")).values_list("code", flat=True)) == ["T.C.A.1"]


def test_get_org_outside_subtree_is_404(world):
    from django.http import Http404

    with pytest.raises(Http404):
        get_org_for_user(world.persona("staff_branch"), pk=world.sibling.pk)


def test_subtree_and_ancestor_queries_are_one_query_each(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert len(list(visible_orgs(world.persona("board_city")))) == 5
    with django_assert_num_queries(1):
        assert [o.code for o in ancestors(world.branch)] == ["T", "T.C", "T.C.A"]
    with django_assert_num_queries(1):
        assert decision_authority_for(world.branch).code == "T.C"


def test_lineage_records_ids_from_root(world):
    assert world.branch.lineage == f"/{world.province.pk}/{world.city.pk}/{world.base.pk}/{world.branch.pk}/"


def test_move_keeps_subtree_and_rewrites_lineage(world):
    moved = org_move(org=world.base, new_parent=world.other_city, effective_date=dt.date(2025, 7, 1))
    branch = OrgUnit.objects.get(pk=world.branch.pk)
    assert branch.path.startswith(moved.path)
    assert branch.lineage == f"/{world.province.pk}/{world.other_city.pk}/{world.base.pk}/{world.branch.pk}/"
    assert OrgChange.objects.filter(org=world.base, kind="move").exists()


def test_merge_moves_children_and_people_and_closes_source(world, person_in):
    person = person_in(world.sibling)
    org_merge(source=world.sibling, target=world.branch, effective_date=dt.date(2025, 7, 1))
    person.refresh_from_db()
    sibling = OrgUnit.objects.get(pk=world.sibling.pk)
    assert person.branch_id == world.branch.pk and person.candidate.org_id == world.branch.pk
    assert not sibling.is_active and sibling.merged_into_id == world.branch.pk


def test_tree_page_searches_without_diacritics(world, client_for):
    response = client_for(world.persona("board_city")).get(reverse("orgs:tree"), {"q": "an binh"})
    assert "Đảng bộ phường An Bình" in response.content.decode()
    assert "Chi bộ Trường THPT" not in response.content.decode()


def test_tree_page_shows_member_totals_rolled_up(world, client_for):
    members_start_set(org=world.branch, year=2024, members=30)
    members_start_set(org=world.sibling, year=2024, members=12)
    response = client_for(world.persona("board_city")).get(reverse("orgs:tree"), {"year": 2024})
    rows = {row["org"].code: row["members"] for row in response.context["rows"]}
    assert rows["T.C.A"] == 42 and rows["T.C"] == 42 and rows["T.C.A.1"] == 30


def test_members_totals_sum_each_listed_node_over_its_subtree_in_one_query(world):
    from orgs.selectors import members_start_totals

    members_start_set(org=world.branch, year=2024, members=30)
    members_start_set(org=world.sibling, year=2024, members=12)
    members_start_set(org=world.base, year=2024, members=3)  # the base committee's own members
    members_start_set(org=world.other_branch, year=2024, members=7)
    members_start_set(org=world.branch, year=2023, members=99)
    listed = [world.city, world.base, world.school, world.other_city]  # two tops, levels mixed
    with CaptureQueriesContext(connection) as queries:
        totals = members_start_totals(listed, 2024)
    assert len(queries) == 1
    assert totals == {world.city.pk: 45, world.base.pk: 45, world.other_city.pk: 7}
    assert members_start_totals([], 2024) == {}


def test_tree_page_renders_whole_demo_city_in_at_most_10_queries(demo_province, db, client):
    from accounts.models import User

    board = User.objects.get(username="btc.uongbi")
    client.force_login(board)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("orgs:tree"), {"year": 2024})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 1 + 41 + 304 + 1  # city, bases, branches, merged Điền Công
    assert len(queries) <= 10, [q["sql"][:80] for q in queries]
    city_row = response.context["rows"][0]
    assert city_row["members"] == 7894


def test_demo_city_has_seed_shape(demo_province, db):
    city = OrgUnit.objects.get(code="QN.UB")
    bases = OrgUnit.objects.filter(path__startswith=city.path, kind="co_so", is_active=True)
    assert bases.count() == 41
    assert bases.filter(numchild__gt=0).count() == 24
    assert OrgUnit.objects.filter(path__startswith=city.path, kind="chi_bo").count() == 304
    total = sum(OrgYearStat.objects.filter(org__path__startswith=city.path, year=2024).values_list("members_start", flat=True))
    assert total == 7894


def test_board_can_add_child_and_staff_cannot(world, client_for):
    url = reverse("orgs:add_child", kwargs={"org_id": world.base.pk})
    data = {"code": "T.C.A.3", "name": "Chi bộ Khu 3", "kind": "chi_bo", "sector": "khu_dan_cu"}
    assert client_for(world.persona("board_city")).post(url, data).status_code == 302
    assert OrgUnit.objects.get_parent(OrgUnit.objects.get(code="T.C.A.3")).pk == world.base.pk


def test_staff_cannot_manage_orgs(world, client_for):
    url = reverse("orgs:edit", kwargs={"org_id": world.branch.pk})
    assert client_for(world.persona("staff_branch")).get(url).status_code == 403


def test_duplicate_code_is_refused_in_vietnamese_and_keeps_input(world, client_for):
    url = reverse("orgs:add_child", kwargs={"org_id": world.base.pk})
    data = {"code": "T.C.A.1", "name": "Chi bộ Khu Mới", "kind": "chi_bo", "sector": "khu_dan_cu"}
    response = client_for(world.persona("board_city")).post(url, data)
    html = response.content.decode()
    assert response.status_code == 200 and "Mã: đã có tổ chức khác dùng mã này." in html and "Chi bộ Khu Mới" in html
