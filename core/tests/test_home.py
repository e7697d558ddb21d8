"""The home page: role-specific cards with the subtree's open, due and overdue records in constant queries."""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from recruitment.deadlines import due_fields
from recruitment.models import Candidate, Stage
from tests.factories import PersonFactory


def _late(branch, *, days_ago: int) -> Candidate:
    """A branch resolution `days_ago` calendar days back, with the due dates the services store."""
    candidate = Candidate(person=PersonFactory(branch=branch), org=branch, stage=Stage.BRANCH_RESOLUTION,
                          branch_resolution_date=timezone.localdate() - dt.timedelta(days=days_ago))
    for name, value in due_fields(candidate).items():
        setattr(candidate, name, value)
    candidate.save()
    return candidate


def _cards(html: str) -> set[str]:
    return set(re.findall(r'data-card="([a-z_]+)"', html))


def _get(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/")
    assert response.status_code == 200
    return response.content.decode(), len(ctx.captured_queries)


def test_staff_see_their_work_cards_and_their_own_subtree_counts(world, client_for):
    _late(world.branch, days_ago=200)  # 60 working days long past: overdue
    _late(world.branch, days_ago=60)  # due within the next weeks
    _late(world.sibling, days_ago=200)  # the sibling's: not counted for Khu 1
    client = client_for(world.persona("staff_branch"))
    html, _ = _get(client)
    assert {"due", "candidates", "candidate_create", "board", "classes", "documents", "import"} <= _cards(html)
    assert "audit" not in _cards(html)
    assert "1 quá hạn" in html and "2 hồ sơ đến hạn" in html and "2 đang theo dõi" in html
    assert 'href="/ho-so/den-han/"' in html


def test_board_sees_dashboard_allocation_and_audit_and_the_query_count_is_constant(world, client_for):
    client = client_for(world.persona("board_city"))
    html, before = _get(client)
    assert {"dashboard", "allocation", "audit", "due", "candidates", "documents", "import", "orgs"} <= _cards(html)
    assert "Giao và điều chỉnh chỉ tiêu" in html
    for days in (200, 150, 60, 10):
        _late(world.branch, days_ago=days)
        _late(world.sibling, days_ago=days)
    html, after = _get(client)
    assert after == before <= 8
    assert "4 quá hạn" in html and "8 đang theo dõi" in html


def test_viewer_and_training_cards(world, client_for):
    html, _ = _get(client_for(world.persona("viewer_city")))
    cards = _cards(html)
    assert {"dashboard", "allocation", "due", "candidates", "classes", "documents"} <= cards
    assert not cards & {"candidate_create", "import", "audit"}
    html, _ = _get(client_for(world.persona("training_city")))
    assert "Mở lớp, ghi danh học viên" in html and "import" not in _cards(html)
