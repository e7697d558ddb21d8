"""Main pages cost the same number of queries on a small and a ten-times larger synthetic province
(issue #7: "a constant query count"). The page owners' tests bound the counts on the demo province; this
one checks that the counts do not grow with the data, on the generator's shape (several levels, thousands
of rows)."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from core.synthetic import generate_province
from orgs.models import OrgUnit
from quotas.services import attainment_recompute
from recruitment.models import Candidate, Stage
from tests.factories import UserFactory

AS_OF = dt.date(2026, 10, 31)
YEAR = AS_OF.year


class _Rollback(Exception):
    pass


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def _page_costs(members: int) -> dict[str, int]:
    root = generate_province(members=members, seed=3, as_of=AS_OF)
    attainment_recompute(year=YEAR)
    mid = OrgUnit.objects.filter(path__startswith=root.path, depth=root.depth + 1).order_by("path").first()
    board_root = UserFactory(role=Role.BOARD, org=root)
    board_mid = UserFactory(role=Role.BOARD, org=mid)
    clients = {}
    for name, user in (("root", board_root), ("mid", board_mid)):
        clients[name] = Client()
        clients[name].force_login(user)
    person = (
        Candidate.objects.filter(org__path__startswith=mid.path, stage=Stage.FULL_MEMBER)
        .order_by("person__code")
        .values_list("person_id", flat=True)
        .first()
    )
    urls = {
        "list_province": ("root", reverse("recruitment:candidate_list") + f"?stage={Stage.SYMPATHISER}"),
        "list_search": ("root", reverse("recruitment:candidate_list") + "?q=nguyen"),
        "list_mid": ("mid", reverse("recruitment:candidate_list") + f"?stage={Stage.FULL_MEMBER}"),
        "board_province": ("root", reverse("recruitment:board")),
        "person_page": ("mid", reverse("recruitment:person_detail", kwargs={"person_id": person})),
        "dashboard_province": ("root", reverse("quotas:dashboard") + f"?year={YEAR}"),
        "dashboard_mid": ("mid", reverse("quotas:dashboard") + f"?year={YEAR}"),
        "api_attainment": ("mid", reverse("api:attainment") + f"?year={YEAR}&org={mid.code}"),
    }
    for who, url in urls.values():  # warm caches (content types, sessions) so both sizes start equal
        clients[who].get(url)
    return {name: _count(clients[who], url) for name, (who, url) in urls.items()}


@pytest.mark.django_db
def test_main_pages_cost_the_same_queries_at_ten_times_the_data():
    costs = []
    for members in (200, 2_000):
        try:
            with transaction.atomic():
                costs.append(_page_costs(members))
                raise _Rollback
        except _Rollback:
            pass
    small, large = costs
    assert all(n >= 3 for n in small.values()), small  # real pages, not redirects
    assert large == small
