"""Shared fixtures: a small fixed world with the personas every access test uses.

Tree (codes start with T):
  T        Tỉnh ủy Thử nghiệm (province, authority)
  T.C      Thành ủy Thử nghiệm (city, authority)      <- board_city, viewer_city, training_city
  T.C.A    Đảng bộ phường An Bình (base)
  T.C.A.1  Chi bộ Khu 1                                <- staff_branch
  T.C.A.2  Chi bộ Khu 2                                <- staff_sibling
  T.C.B    Chi bộ Trường THPT Thử nghiệm (chi bộ cơ sở)
  T.O      Thành ủy Khác (another city)                <- board_other
  T.O.X    Đảng bộ xã Xa (base) / T.O.X.1 Chi bộ Thôn 1
"""

import time
from dataclasses import dataclass

import pytest

from accounts.models import Role
from core.middleware import session_refresh
from orgs.models import Kind, OrgUnit, Sector
from tests.factories import CandidateFactory, PersonFactory, UserFactory, make_org


@dataclass
class World:
    province: OrgUnit
    city: OrgUnit
    base: OrgUnit
    branch: OrgUnit
    sibling: OrgUnit
    school: OrgUnit
    other_city: OrgUnit
    other_base: OrgUnit
    other_branch: OrgUnit
    personas: dict

    def persona(self, name: str):
        return self.personas[name]


@pytest.fixture
def world(db) -> World:
    province = make_org("T", "Tỉnh ủy Thử nghiệm", Kind.PROVINCE, has_admission_authority=True, sector=Sector.ADMIN)
    city = make_org("T.C", "Thành ủy Thử nghiệm", Kind.UPPER, province, has_admission_authority=True, sector=Sector.ADMIN)
    base = make_org("T.C.A", "Đảng bộ phường An Bình", Kind.BASE, city, sector=Sector.RESIDENTIAL)
    branch = make_org("T.C.A.1", "Chi bộ Khu 1", Kind.BRANCH, base, sector=Sector.RESIDENTIAL)
    sibling = make_org("T.C.A.2", "Chi bộ Khu 2", Kind.BRANCH, base, sector=Sector.RESIDENTIAL)
    school = make_org("T.C.B", "Chi bộ Trường THPT Thử nghiệm", Kind.BASE, city, sector=Sector.SCHOOL)
    other_city = make_org("T.O", "Thành ủy Khác", Kind.UPPER, province, has_admission_authority=True)
    other_base = make_org("T.O.X", "Đảng bộ xã Xa", Kind.BASE, other_city, sector=Sector.RESIDENTIAL)
    other_branch = make_org("T.O.X.1", "Chi bộ Thôn 1", Kind.BRANCH, other_base, sector=Sector.RESIDENTIAL)
    personas = {
        "board_city": UserFactory(username="t.btc.thanhpho", role=Role.BOARD, org=city),
        "viewer_city": UserFactory(username="t.lanhdao", role=Role.VIEWER, org=city),
        "training_city": UserFactory(username="t.trungtam", role=Role.TRAINING, org=city),
        "staff_branch": UserFactory(username="t.canbo.khu1", role=Role.STAFF, org=branch),
        "staff_sibling": UserFactory(username="t.canbo.khu2", role=Role.STAFF, org=sibling),
        "board_other": UserFactory(username="t.btc.khac", role=Role.BOARD, org=other_city),
    }
    return World(province, city, base, branch, sibling, school, other_city, other_base, other_branch, personas)


@pytest.fixture
def person_in(world):
    """person_in(org) -> a Person with a Candidate row in that branch."""

    def make(org: OrgUnit, **fields):
        person = PersonFactory(branch=org, **fields)
        CandidateFactory(person=person, org=org)
        return person

    return make


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client logged in as that user."""

    def login(user):
        client.force_login(user)
        # As after a first page: the session's clocks are set, so the next requests read it without saving it
        # (query counts then compare like with like; the session is written once a minute at most).
        session = client.session
        session_refresh(session, time.time())
        session.save()
        return client

    return login


@pytest.fixture(scope="session")
def demo_province(django_db_setup, django_db_blocker):
    """The full demo province, built once per session and committed (tests must not assume empty tables)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("loaddemo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        return OrgUnit.objects.get(code="QN")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run the tests that use the committed demo province after all others (pytest-django has already put
    transactional tests after plain ones), so that no other test ever sees the demo's rows."""
    def uses_demo(item) -> bool:
        names = set(getattr(item, "fixturenames", ()))
        for marker in item.iter_markers("usefixtures"):
            names.update(marker.args)
        return "demo_province" in names

    items.sort(key=uses_demo)
