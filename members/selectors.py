from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from core.text import fold
from members.models import Person
from orgs.selectors import subtree_q


def people_visible(user) -> QuerySet[Person]:
    return Person.objects.filter(subtree_q(user, "branch"))


def person_search(qs: QuerySet[Person], text: str) -> QuerySet[Person]:
    """Diacritics-insensitive: "nguyen" finds "Nguyễn", "d" finds "đ"."""
    folded = fold(text)
    return qs.filter(name_folded__contains=folded) if folded else qs


def get_person_for_user(user, pk: int) -> Person:
    try:
        return people_visible(user).select_related("branch").get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Không tìm thấy hồ sơ") from exc


def person_codes_existing(codes: Iterable[str]) -> set[str]:
    """Which of `codes` already belong to a record (one query, whatever the number)."""
    return set(Person.objects.filter(code__in=list(codes)).values_list("code", flat=True))
