"""The node filter of the list and the board at province scale: a short select plus a search for the rest."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgs.models import Kind
from recruitment.models import Stage
from recruitment.selectors import filter_node_options, org_search
from tests.factories import CandidateFactory, PersonFactory, make_org


def _candidate(org, name, stage=Stage.SYMPATHISER):
    return CandidateFactory(person=PersonFactory(branch=org, full_name=name), org=org, stage=stage)


def _options(body: str, select_name: str = "org") -> dict[str, str]:
    match = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', body, re.S)
    assert match, f"no select named {select_name}"
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', match.group(1)))


def _selected(body: str, select_name: str = "org") -> str | None:
    match = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', body, re.S)
    found = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return found.group(1) if found else None


@pytest.mark.django_db
class TestFilterOptions:
    def test_short_list_is_upper_levels_own_node_and_children(self, world):
        options = dict(filter_node_options(world.persona("board_city")))
        assert set(options) == {world.city.pk, world.base.pk, world.school.pk}
        assert options[world.base.pk] == "— Đảng bộ phường An Bình"

    def test_chosen_node_comes_with_its_ancestors(self, world):
        options = dict(filter_node_options(world.persona("board_city"), world.branch))
        assert set(options) == {world.city.pk, world.base.pk, world.school.pk, world.branch.pk}
        assert options[world.branch.pk] == "— — Chi bộ Khu 1"

    def test_branch_user_sees_only_their_node(self, world):
        assert [pk for pk, _ in filter_node_options(world.persona("staff_branch"))] == [world.branch.pk]


@pytest.mark.django_db
class TestOrgSearch:
    def test_folded_words_in_any_case_and_ancestors_named(self, world):
        matches = org_search(world.persona("board_city"), "CHI BO khu 1")
        assert [(m.pk, m.parent_name) for m in matches] == [(world.branch.pk, "Đảng bộ phường An Bình · Thành ủy Thử nghiệm")]

    def test_only_the_users_subtree(self, world):
        assert org_search(world.persona("board_city"), "thon") == []
        assert [m.pk for m in org_search(world.persona("board_other"), "thôn")] == [world.other_branch.pk]
        assert [m.pk for m in org_search(world.persona("staff_branch"), "khu")] == [world.branch.pk]

    def test_capped_and_highest_levels_first(self, world):
        for i in range(4):
            make_org(f"T.C.A.{10 + i}", f"Chi bộ Tổ {i}", Kind.BRANCH, world.base)
        matches = org_search(world.persona("board_city"), "bo", limit=3)
        assert len(matches) == 3
        assert {m.pk for m in matches[:2]} == {world.base.pk, world.school.pk}  # the base level before its branches

    def test_endpoint_links_keep_the_other_filters(self, world, client_for):
        client = client_for(world.persona("board_city"))
        response = client.get(reverse("recruitment:org_search"), {"org_q": "khu 2", "stage": Stage.DOSSIER, "page": 3},
                              HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200 and "<html" not in body
        hrefs = re.findall(r'href="([^"]+)"', body)
        assert hrefs == [f"{reverse('recruitment:candidate_list')}?stage={Stage.DOSSIER}&amp;org={world.sibling.pk}"]

    def test_endpoint_for_the_board_and_empty_result(self, world, client_for):
        client = client_for(world.persona("board_city"))
        body = client.get(reverse("recruitment:org_search"), {"org_q": "an binh", "for": "board"}).content.decode()
        assert f'href="{reverse("recruitment:board")}?org={world.base.pk}"' in body
        body = client.get(reverse("recruitment:org_search"), {"org_q": "thon 1"}).content.decode()
        assert "Không tìm thấy tổ chức nào" in body and "href" not in body

    def test_endpoint_needs_login(self, client):
        response = client.get(reverse("recruitment:org_search"), {"org_q": "khu"})
        assert response.status_code == 302


@pytest.mark.django_db
class TestListAndBoardFilter:
    def test_list_does_not_render_every_branch(self, world, client_for):
        client = client_for(world.persona("board_city"))
        url = reverse("recruitment:candidate_list")
        with CaptureQueriesContext(connection) as few:
            body = client.get(url).content.decode()
        assert set(_options(body)) == {"", str(world.city.pk), str(world.base.pk), str(world.school.pk)}
        assert 'id="org-search-input"' in body
        for i in range(15):
            make_org(f"T.C.A.{20 + i}", f"Chi bộ Tổ dân phố {i}", Kind.BRANCH, world.base)
        with CaptureQueriesContext(connection) as many:
            body = client.get(url).content.decode()
        assert "Chi bộ Tổ dân phố" not in body
        assert len(many) == len(few)

    def test_list_filtered_on_a_branch_shows_it_selected(self, world, client_for):
        _candidate(world.branch, "Người Khu Một")
        _candidate(world.sibling, "Người Khu Hai")
        body = client_for(world.persona("board_city")).get(
            reverse("recruitment:candidate_list"), {"org": world.branch.pk}).content.decode()
        assert "Người Khu Một" in body and "Người Khu Hai" not in body
        assert _selected(body) == str(world.branch.pk)
        assert str(world.sibling.pk) not in _options(body)

    def test_list_ignores_a_node_outside_the_subtree(self, world, client_for):
        _candidate(world.branch, "Người Khu Một")
        response = client_for(world.persona("board_city")).get(
            reverse("recruitment:candidate_list"), {"org": world.other_branch.pk})
        body = response.content.decode()
        assert response.status_code == 200 and "Người Khu Một" in body
        assert str(world.other_branch.pk) not in _options(body) and "Chi bộ Thôn 1" not in body

    def test_board_select_is_short_and_keeps_the_chosen_node(self, world, client_for):
        candidate = _candidate(world.sibling, "Người Trên Bảng")
        client = client_for(world.persona("board_city"))
        body = client.get(reverse("recruitment:board")).content.decode()
        person_url = reverse("recruitment:person_detail", args=[candidate.person_id])
        assert f'<a href="{person_url}">Người Trên Bảng</a>' in body
        assert set(_options(body)) == {str(world.city.pk), str(world.base.pk), str(world.school.pk)}
        assert _selected(body) == str(world.city.pk)
        body = client.get(reverse("recruitment:board"), {"org": world.sibling.pk}).content.decode()
        assert _selected(body) == str(world.sibling.pk) and str(world.branch.pk) not in _options(body)
        assert client.get(reverse("recruitment:board"), {"org": world.other_branch.pk}).status_code == 404

    def test_export_accepts_a_branch_from_the_search(self, world, client_for):
        url = reverse("reports:candidates_xlsx")
        client = client_for(world.persona("board_city"))
        assert client.get(url, {"org": world.branch.pk}).status_code == 200
