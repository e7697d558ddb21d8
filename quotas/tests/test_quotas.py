import pytest

from quotas.models import Attainment, Quota, QuotaRevision
from quotas.services import QuotaVersionConflict, attainment_recompute, quota_set, suggested_quota


def test_seed_000_plan_is_three_and_a_half_percent_of_7894():
    assert suggested_quota(members_start=7894, rate_pct=3.5) == 276
    assert suggested_quota(members_start=100, rate_pct=2.5) == 3  # half rounds up
    assert suggested_quota(members_start=0, rate_pct=3.5) == 0


def test_every_revision_is_kept_with_who_and_why(world):
    board = world.persona("board_city")
    quota_set(org=world.base, year=2026, admission_quota=5, source_quota=8, actor=board, expected_version=0)
    quota = quota_set(
        org=world.base,
        year=2026,
        admission_quota=7,
        source_quota=9,
        actor=board,
        reason="Thêm khu mới",
        expected_version=1,
    )
    assert quota.version == 2
    revisions = list(QuotaRevision.objects.filter(quota=quota).order_by("pk"))
    assert [(r.old_admission_quota, r.new_admission_quota, r.reason, r.actor) for r in revisions] == [
        (None, 5, "", board),
        (5, 7, "Thêm khu mới", board),
    ]


def test_a_second_board_revising_a_stale_quota_gets_who_and_when_and_loses_nothing(world):
    first, second = world.persona("board_city"), world.persona("viewer_city")
    quota_set(org=world.base, year=2026, admission_quota=5, source_quota=8, actor=first)
    # Both opened the form at version 1; the first saves.
    quota_set(org=world.base, year=2026, admission_quota=6, source_quota=8, actor=first, reason="a", expected_version=1)
    with pytest.raises(QuotaVersionConflict) as exc:
        quota_set(
            org=world.base, year=2026, admission_quota=9, source_quota=9, actor=second, reason="b", expected_version=1
        )
    message = exc.value.message
    assert "đã được" in message and first.get_full_name() in message and " lúc " in message
    quota = Quota.objects.get(org=world.base, year=2026)
    assert (quota.admission_quota, quota.version) == (6, 2)
    assert QuotaRevision.objects.filter(quota=quota).count() == 2


def test_creating_a_quota_someone_else_just_created_is_a_conflict(world):
    quota_set(org=world.base, year=2026, admission_quota=5, source_quota=8, actor=world.persona("board_city"))
    with pytest.raises(QuotaVersionConflict):
        quota_set(org=world.base, year=2026, admission_quota=4, source_quota=8, expected_version=0)


def test_a_quota_change_updates_the_materialised_columns_at_once(world):
    attainment_recompute(year=2026)
    quota_set(org=world.base, year=2026, admission_quota=5, source_quota=8)
    assert Attainment.objects.get(org=world.base, year=2026).quota == 5
    assert Attainment.objects.get(org=world.city, year=2026).allocated_to_children == 5
    quota_set(org=world.school, year=2026, admission_quota=2, source_quota=2)
    assert Attainment.objects.get(org=world.city, year=2026).allocated_to_children == 7


def test_the_board_form_shows_the_conflict_and_keeps_what_was_typed(world, client_for):
    board = world.persona("board_city")
    quota_set(org=world.base, year=2026, admission_quota=5, source_quota=8, actor=board)
    client = client_for(board)
    url = f"/chi-tieu/phan-bo/{world.base.pk}/sua/?year=2026"
    page = client.get(url)
    assert page.status_code == 200 and 'name="version" value="1"' in page.content.decode()
    quota_set(org=world.base, year=2026, admission_quota=6, source_quota=8, actor=board, reason="khác")
    response = client.post(
        url, {"admission_quota": 11, "source_quota": 13, "reason": "Tăng", "version": 1, "year": 2026}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "đã được" in html and "thay đổi lúc" in html
    assert 'value="11"' in html and 'value="Tăng"' in html and 'name="version" value="2"' in html
    assert Quota.objects.get(org=world.base, year=2026).admission_quota == 6
    # Saving again, knowingly, over the new version works.
    response = client.post(
        url, {"admission_quota": 11, "source_quota": 13, "reason": "Tăng", "version": 2, "year": 2026}
    )
    assert response.status_code == 302
    assert Quota.objects.get(org=world.base, year=2026).admission_quota == 11


def test_only_the_parent_board_sets_a_quota(world, client_for):
    url = f"/chi-tieu/phan-bo/{world.base.pk}/sua/?year=2026"
    assert client_for(world.persona("viewer_city")).get(url).status_code == 403
    assert client_for(world.persona("staff_branch")).get(f"/chi-tieu/phan-bo/{world.branch.pk}/sua/").status_code == 403
    # A city board does not set its own city's quota: the province board does.
    assert client_for(world.persona("board_city")).get(f"/chi-tieu/phan-bo/{world.city.pk}/sua/").status_code == 403
    assert client_for(world.persona("board_city")).get(url).status_code == 200


def test_the_allocation_page_shows_quota_allocated_rest_and_suggestion(world, client_for):
    from orgs.models import OrgYearStat

    OrgYearStat.objects.create(org=world.branch, year=2026, members_start=7894)
    quota_set(org=world.city, year=2026, admission_quota=300, source_quota=400)
    quota_set(org=world.base, year=2026, admission_quota=250, source_quota=300)
    quota_set(org=world.school, year=2026, admission_quota=20, source_quota=30)
    html = (
        client_for(world.persona("board_city"))
        .get(f"/chi-tieu/phan-bo/{world.city.pk}/?year=2026&rate=3.5")
        .content.decode()
    )
    assert 'data-testid="allocated">270<' in html
    assert 'data-testid="unallocated">30<' in html
    assert 'data-testid="suggested">276<' in html
    assert "Đảng bộ phường An Bình" in html


def test_the_nightly_recompute_is_scheduled_for_beat(db):
    from django_celery_beat.models import PeriodicTask

    from config.celery_app import app

    task = PeriodicTask.objects.get(task="quotas.attainment_recompute_year")
    assert task.enabled and (task.crontab.hour, task.crontab.minute) == ("1", "30")
    app.loader.import_default_modules()
    assert "quotas.attainment_recompute_year" in app.tasks


def test_a_board_sets_mass_organisation_quotas_of_its_own_node(world, client_for):
    from quotas.models import MassOrgQuota

    url = f"/chi-tieu/phan-bo/{world.city.pk}/?year=2026"
    response = client_for(world.persona("board_city")).post(url, {"mass_org": "doan_tn", "quota": 40, "year": 2026})
    assert response.status_code == 302
    assert MassOrgQuota.objects.get(org=world.city, year=2026, mass_org="doan_tn").quota == 40
    html = client_for(world.persona("viewer_city")).get(url).content.decode()
    assert "Đoàn Thanh niên" in html and ">40<" in html
    assert client_for(world.persona("viewer_city")).post(url, {"mass_org": "doan_tn", "quota": 1}).status_code == 403
