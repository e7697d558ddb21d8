"""Every URL pattern that takes an object id, with every persona: outside the subtree it answers 404."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.access_registry import EXCLUDED_NAMESPACES, FOREIGN_ORG, PROVIDERS


def _walk(resolver: URLResolver, namespace: str = "", prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns in EXCLUDED_NAMESPACES:
                continue
            yield from _walk(entry, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield namespace, entry, prefix + str(entry.pattern)


def _patterns_with_ids():
    found = []
    for namespace, pattern, route in _walk(get_resolver()):
        converters = getattr(pattern.pattern, "converters", {})
        if converters and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            found.append((name, route, sorted(converters)))
    return found


ID_PATTERNS = _patterns_with_ids()


def test_the_matrix_covers_the_known_object_views():
    names = {name for name, _, _ in ID_PATTERNS}
    assert {"orgs:detail", "orgs:edit", "orgs:move"} <= names


@pytest.mark.parametrize("name,route,kwargs", ID_PATTERNS, ids=[p[0] for p in ID_PATTERNS])
@pytest.mark.parametrize("persona", sorted(FOREIGN_ORG))
def test_object_urls_answer_404_outside_the_subtree(name, route, kwargs, persona, world, person_in, client_for):
    from django.urls import reverse

    missing = [k for k in kwargs if k not in PROVIDERS]
    assert not missing, f"{name}: register {missing} in tests/access_registry.py"
    make = {"person": person_in}
    values = {k: PROVIDERS[k](world, persona, make) for k in kwargs}
    url = reverse(name, kwargs=values)
    client = client_for(world.persona(persona))
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} as {persona}: {response.status_code}"
