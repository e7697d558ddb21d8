import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from core.audit import audit
from core.models import AuditLog

PASSWORD = "MatKhau@Test2026"


def _entry(world, *, org, action="candidate.update", actor=None):
    entry = audit(action=action, actor=actor or world.persona("board_city"), org=org, detail={"field": "stage"})
    return entry


@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_an_entry(world):
    entry = _entry(world, org=world.branch)
    entry.action = "tampered"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is created on PostgreSQL only (a SQLite dev database has none); CI requires PostgreSQL (REQUIRE_SERVICES=1), so this runs there")
def test_the_database_refuses_update_and_delete_even_bypassing_the_orm(world):
    entry = _entry(world, org=world.branch)
    for statement in (
        "UPDATE core_auditlog SET action = 'tampered' WHERE id = %s",
        "DELETE FROM core_auditlog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "candidate.update"


@pytest.mark.django_db
def test_login_logout_and_failed_login_are_logged_without_the_password(world, client):
    user = world.persona("staff_branch")
    assert client.post(reverse("login"), {"username": user.username, "password": "sai-mat-khau-123"}).status_code == 200
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    entries = list(AuditLog.objects.filter(object_id=str(user.pk)).order_by("pk"))
    assert [e.action for e in entries] == ["login_failed", "login", "logout"]
    failed, login, logout = entries
    assert failed.actor is None and failed.org == user.org
    assert login.actor == user and login.org_path == world.branch.path and login.ip == "127.0.0.1"
    assert logout.actor == user
    for entry in entries:
        assert "sai-mat-khau" not in str(entry.detail) and PASSWORD not in str(entry.detail)


@pytest.mark.django_db
def test_board_sees_its_subtree_entries_only(world, client_for):
    mine = _entry(world, org=world.branch, action="person.view")
    other = _entry(world, org=world.other_branch, action="person.view", actor=world.persona("board_other"))
    response = client_for(world.persona("board_city")).get(reverse("core:audit_log"))
    assert response.status_code == 200
    shown = [e.pk for e in response.context["page"].object_list]
    assert mine.pk in shown
    assert other.pk not in shown
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_board_of_other_city_does_not_see_our_entries(world, client_for):
    ours = _entry(world, org=world.base, action="export")
    response = client_for(world.persona("board_other")).get(reverse("core:audit_log"))
    assert ours.pk not in [e.pk for e in response.context["page"].object_list]


@pytest.mark.django_db
def test_filters_by_action_user_and_date(world, client_for):
    board = world.persona("board_city")
    staff = world.persona("staff_branch")
    view = _entry(world, org=world.branch, action="person.view", actor=staff)
    export = _entry(world, org=world.branch, action="report.export", actor=board)
    client = client_for(board)

    def shown(**query):
        response = client.get(reverse("core:audit_log"), query)
        assert response.status_code == 200
        return {e.pk for e in response.context["page"].object_list}

    assert {view.pk, export.pk} <= shown()
    assert shown(action="person.view") & {view.pk, export.pk} == {view.pk}
    assert shown(actor=str(staff.pk)) & {view.pk, export.pk} == {view.pk}
    today = timezone.localdate()
    assert {view.pk, export.pk} <= shown(date_from=today.strftime("%d/%m/%Y"), date_to=today.strftime("%d/%m/%Y"))
    tomorrow = (today + dt.timedelta(days=1)).strftime("%d/%m/%Y")
    assert shown(date_from=tomorrow) & {view.pk, export.pk} == set()


@pytest.mark.django_db
def test_filtering_by_a_user_of_another_subtree_is_refused(world, client_for):
    response = client_for(world.persona("board_city")).get(
        reverse("core:audit_log"), {"actor": str(world.persona("board_other").pk)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert list(response.context["page"].object_list) == []


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["staff_branch", "viewer_city", "training_city"])
def test_non_board_roles_are_refused(world, client_for, persona):
    response = client_for(world.persona(persona)).get(reverse("core:audit_log"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_page_renders_vietnamese_labels(world, client_for):
    _entry(world, org=world.branch, action="login", actor=world.persona("staff_branch"))
    html = client_for(world.persona("board_city")).get(reverse("core:audit_log")).content.decode()
    assert "Nhật ký hệ thống" in html
    assert "Đăng nhập" in html


@pytest.mark.django_db
def test_changes_made_by_services_record_the_clients_address(world, client_for, settings):
    """Services call audit() without the request; the middleware still supplies who and from where."""
    from django.http import HttpResponse
    from django.urls import path

    from core.audit import current_request

    seen = {}

    def view(request):
        seen["request"] = current_request.get()
        audit(action="candidate.update", org=world.branch)  # as a service would: no request, no actor
        return HttpResponse("ok")

    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [path("t/", view)]})
    settings.TRUSTED_PROXY_COUNT = 0
    client = client_for(world.persona("staff_branch"))
    client.get("/t/", REMOTE_ADDR="10.2.3.4", HTTP_X_FORWARDED_FOR="6.6.6.6")
    entry = AuditLog.objects.latest("pk")
    assert entry.ip == "10.2.3.4", "a client-supplied X-Forwarded-For is not trusted without a proxy"
    assert entry.actor == world.persona("staff_branch")
    assert current_request.get() is None, "the request does not leak past its response"

    settings.TRUSTED_PROXY_COUNT = 1
    client.get("/t/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert AuditLog.objects.latest("pk").ip == "203.0.113.7", "the address our proxy appended, not the forged one"


def test_audit_detail_keys_read_in_vietnamese():
    from core.forms import detail_items

    assert detail_items({"year": 2025, "admission_quota": 6, "unknown_key": 1}) == [
        ("năm", 2025), ("chỉ tiêu kết nạp", 6), ("unknown_key", 1)
    ]
