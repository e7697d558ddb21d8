"""The Content-Security-Policy blocks nothing our own pages need: no violation on any page, as each role."""

import pytest
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.browser

PAGES = [
    "home", "orgs:tree", "recruitment:candidate_list", "recruitment:candidate_create", "recruitment:board",
    "recruitment:due", "recruitment:class_list", "quotas:dashboard", "quotas:allocation", "reports:documents",
    "reports:import", "core:audit_log", "password_change",
]


def _urls(extra: list[str]) -> list[str]:
    urls = []
    for name in PAGES:
        try:
            urls.append(reverse(name))
        except NoReverseMatch:  # a feature not installed has no page to check
            continue
    return urls + extra


@pytest.mark.parametrize("persona", ["board_city", "staff_branch"])
def test_no_page_trips_the_content_security_policy(persona, world, person_in, page, login, shot):
    person = person_in(world.branch)
    extra = []
    try:
        extra.append(reverse("recruitment:person_detail", kwargs={"person_id": person.pk}))
    except NoReverseMatch:
        pass
    violations = []
    page.on("console", lambda m: violations.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text
            or "EvalError" in m.text else None)
    page.on("pageerror", lambda e: violations.append(f"{page.url}: {e}"))
    login(page, world.persona(persona))
    visited = 0
    for url in _urls(extra):
        response = page.goto(url)
        if response.status in (403, 404):  # not this role's page
            continue
        assert response.status == 200, f"{url}: {response.status}"
        assert "script-src" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        visited += 1
    assert visited >= 8
    assert not violations, "\n".join(violations)
    shot(page, "last-page")
