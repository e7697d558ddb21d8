import datetime as dt

import pytest
import yaml
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orgs.models import OrgYearStat
from quotas.services import attainment_recompute, quota_set
from recruitment.models import Candidate, Stage
from tests.factories import PersonFactory

API_FIELDS = {
    "org",
    "name",
    "members_start_of_year",
    "quota",
    "allocated_to_children",
    "admitted",
    "quota_pct",
    "rate_pct_of_members",
    "recognized",
    "sources",
    "by_group",
}


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def figures(world):
    OrgYearStat.objects.create(org=world.branch, year=2025, members_start=40)
    OrgYearStat.objects.create(org=world.sibling, year=2025, members_start=10)
    quota_set(org=world.city, year=2025, admission_quota=8, source_quota=12)
    quota_set(org=world.base, year=2025, admission_quota=4, source_quota=6)
    for i in range(2):
        person = PersonFactory(branch=world.branch, gender="nam", birth_date=dt.date(2000, 1, 1))
        Candidate.objects.create(
            person=person,
            org=world.branch,
            stage=Stage.PROBATIONARY,
            decision_date=dt.date(2025, 5, 1 + i),
            admitted_lineage=world.branch.lineage,
        )
    attainment_recompute(year=2025)
    return world


def test_it_lists_one_object_per_node_of_the_subtree_with_the_spec_fields(figures, db):
    client = _token_client(figures.persona("board_city"))
    response = client.get("/api/v1/attainment/", {"year": 2025, "org": "T.C"})
    assert response.status_code == 200
    rows = {row["org"]: row for row in response.json()}
    assert set(rows) == {"T.C", "T.C.A", "T.C.A.1", "T.C.A.2", "T.C.B"}
    for row in rows.values():
        assert set(row) == API_FIELDS
    base = rows["T.C.A"]
    assert base["members_start_of_year"] == 50
    assert (base["quota"], base["admitted"], base["quota_pct"], base["rate_pct_of_members"]) == (4, 2, 50.0, 4.0)
    assert rows["T.C"]["allocated_to_children"] == 4
    assert base["by_group"]["gender"] == {"nam": 2}
    assert base["by_group"]["age_band"] == {"18-30": 2}
    assert rows["T.C.B"]["quota_pct"] is None


def test_it_defaults_to_the_users_own_subtree(figures, db):
    client = _token_client(figures.persona("staff_branch"))
    rows = client.get("/api/v1/attainment/", {"year": 2025}).json()
    assert [row["org"] for row in rows] == ["T.C.A.1"]


@pytest.mark.parametrize("path", ["/api/v1/attainment/", "/api/v1/candidates/"])
def test_an_org_outside_the_callers_subtree_answers_404(figures, db, path):
    client = _token_client(figures.persona("board_other"))
    response = client.get(path, {"year": 2025, "org": "T.C"})
    assert response.status_code == 404
    assert "T.C" not in response.content.decode().replace("Không", "")
    staff = _token_client(figures.persona("staff_branch"))
    assert staff.get(path, {"org": "T.C.A.2"}).status_code == 404
    assert staff.get(path, {"org": "KHONG-CO"}).status_code == 404


def test_anonymous_callers_are_refused(figures, db):
    assert APIClient().get("/api/v1/attainment/").status_code == 401


def test_candidates_are_paginated_and_filtered_by_stage(figures, db):
    for _ in range(3):
        person = PersonFactory(branch=figures.sibling)
        Candidate.objects.create(person=person, org=figures.sibling, stage=Stage.SYMPATHISER)
    client = APIClient()
    client.force_authenticate(figures.persona("board_city"))
    page = client.get("/api/v1/candidates/", {"org": "T.C.A", "stage": "cam_tinh", "page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert {row["stage"] for row in page["results"]} == {"cam_tinh"}
    assert "cccd" not in page["results"][0]
    assert client.get("/api/v1/candidates/", {"stage": "khong-ton-tai"}).status_code == 400
    own = client.get("/api/v1/candidates/", {"org": "T.C.A.1"}).json()
    assert own["count"] == 2 and {r["org"] for r in own["results"]} == {"T.C.A.1"}


def test_the_openapi_schema_validates(figures, db):
    client = APIClient()
    client.force_authenticate(figures.persona("viewer_city"))
    response = client.get("/api/schema/")
    assert response.status_code == 200
    spec = yaml.safe_load(response.content)
    validate(spec)
    assert {"/api/v1/attainment/", "/api/v1/candidates/"} <= set(spec["paths"])
    props = spec["components"]["schemas"]["Attainment"]["properties"]
    assert set(props) == API_FIELDS
