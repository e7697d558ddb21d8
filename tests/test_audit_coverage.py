"""Issue 6: every read of a person page, every export and every change leaves an audit row saying who,
when, what and from where, and no row carries the personal data itself."""

import json

import pytest
from django.urls import reverse

from core.models import AuditLog

pytestmark = pytest.mark.django_db

IP = "198.51.100.23"


@pytest.fixture
def person(world, person_in):
    return person_in(world.branch, full_name="Hoàng Thị Riêng Tư", cccd="022093456789", phone="0912345678")


def _new_rows(since: int):
    return list(AuditLog.objects.filter(pk__gt=since).order_by("pk"))


def _last_pk() -> int:
    return AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _assert_traceable(rows, *, actor, person):
    assert rows, "nothing was logged"
    for row in rows:
        assert row.actor == actor, row.action
        assert row.ip == IP, row.action
        assert row.at is not None and row.action
        text = json.dumps(row.detail, ensure_ascii=False) + row.object_id
        for secret in (person.full_name, person.cccd, person.phone, person.birth_date.strftime("%d/%m/%Y")):
            assert secret not in text, f"{row.action} carries personal data"


def test_reading_a_person_page_is_logged(world, person, client_for):
    staff = world.persona("staff_branch")
    client = client_for(staff)
    since = _last_pk()
    response = client.get(reverse("recruitment:person_detail", kwargs={"person_id": person.pk}),
                                      REMOTE_ADDR=IP)
    assert response.status_code == 200
    rows = _new_rows(since)
    _assert_traceable(rows, actor=staff, person=person)
    assert any(r.object_id == str(person.pk) and r.org == world.branch for r in rows)


def test_exporting_the_candidate_list_is_logged(world, person, client_for):
    board = world.persona("board_city")
    client = client_for(board)
    since = _last_pk()
    response = client.get(reverse("reports:candidates_xlsx"), {"q": person.full_name}, REMOTE_ADDR=IP)
    assert response.status_code == 200
    _assert_traceable(_new_rows(since), actor=board, person=person)


def test_reading_candidates_through_the_api_is_logged(world, person, client_for):
    board = world.persona("board_city")
    client = client_for(board)
    since = _last_pk()
    response = client.get(reverse("api:candidates"), {"org": world.city.code}, REMOTE_ADDR=IP)
    assert response.status_code == 200
    _assert_traceable(_new_rows(since), actor=board, person=person)


def test_a_change_through_the_browser_is_logged(world, client_for):
    staff = world.persona("staff_branch")
    client = client_for(staff)
    since = _last_pk()
    form = {
        "full_name": "Hoàng Thị Riêng Tư", "birth_date": "17/05/1998", "gender": "nu", "cccd": "022093456789",
        "branch": str(world.branch.pk), "source_date": "10/01/2025", "occupation_group": "vien_chuc",
        "ethnicity": "Kinh", "religion": "Không", "education": "dai_hoc", "phone": "0912345678",
    }
    response = client.post(reverse("recruitment:candidate_create"), form, REMOTE_ADDR=IP)
    assert response.status_code == 302
    from members.models import Person

    person = Person.objects.get(cccd="022093456789")
    rows = _new_rows(since)
    _assert_traceable(rows, actor=staff, person=person)
    assert any(r.org == world.branch for r in rows)
