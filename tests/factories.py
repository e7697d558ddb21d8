"""factory_boy factories. Codes start with "T" so they never collide with the demo province."""

import datetime as dt

import factory

from accounts.models import Role, User
from members.models import Education, Gender, OccupationGroup, Person
from orgs.models import Kind, OrgUnit
from orgs.services import org_create
from recruitment.models import Candidate, Stage


def make_org(code: str, name: str, kind: str = Kind.BRANCH, parent: OrgUnit | None = None, **extra) -> OrgUnit:
    return org_create(code=code, name=name, kind=kind, parent=parent, **extra)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("name", locale="vi_VN")
    role = Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", "MatKhau@Test2026")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook signature
        if create:
            obj.save()


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    code = factory.Sequence(lambda n: f"THS{n:05d}")
    full_name = factory.Faker("name", locale="vi_VN")
    birth_date = dt.date(1998, 5, 17)
    gender = Gender.FEMALE
    cccd = factory.Sequence(lambda n: f"0221{n:08d}")
    education = Education.UNIVERSITY
    occupation_group = OccupationGroup.PUBLIC_EMPLOYEE


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    person = factory.SubFactory(PersonFactory)
    org = factory.LazyAttribute(lambda c: c.person.branch)
    stage = Stage.OUTSTANDING
    source_date = dt.date(2025, 1, 10)
