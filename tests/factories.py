"""factory_boy factories. Persons and families are created through the services, so that
tests exercise the same writes (reference numbers, blind indexes, derived birth year)."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from casemgmt.models import Family, Membership, Organisation, Person, Role, User
from casemgmt.models.base import processing_activity
from casemgmt.services.families import family_create
from casemgmt.services.persons import person_create
from privacy.audit import acting_as_system


class AttributedFactory(factory.django.DjangoModelFactory):  # type: ignore[type-arg]
    """Fixture rows are written by a named system process, like every other audited write."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        with acting_as_system(process="test fixtures", activity=processing_activity(model_class)):
            return super()._create(model_class, *args, **kwargs)


def setup_writes(activity: str = "account_management") -> Any:
    """Direct ORM writes that set a test's scene, attributed to a named system process."""
    return acting_as_system(process="test setup", activity=activity)


class OrganisationFactory(AttributedFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Landkreis Test {n}")
    kind = Organisation.Kind.DISTRICT
    reference_prefix = "F"


class UserFactory(AttributedFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery")


class MembershipFactory(AttributedFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.CASE_MANAGER


def make_user(organisation: Organisation, role: str = Role.CASE_MANAGER, **kwargs: object) -> User:
    user = UserFactory(**kwargs)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


def make_family(case_manager: User, organisation: Organisation | None = None, **fields: object) -> Family:
    organisation = organisation or case_manager.memberships.get().organisation
    fields.setdefault("family_name", "Haddad")
    return family_create(organisation=organisation, acting_user=case_manager, **fields)  # type: ignore[arg-type]


def make_person(family: Family, acting_user: User, **fields: object) -> Person:
    fields.setdefault("role", Person.Role.PARENT)
    fields.setdefault("given_name", "Amina")
    fields.setdefault("family_name", "Haddad")
    fields.setdefault("date_of_birth", datetime.date(1988, 4, 12))
    fields.setdefault("sex", Person.Sex.FEMALE)
    fields.setdefault("residence_status", Person.ResidenceStatus.RESIDENCE_PERMIT)
    fields.setdefault("country_of_origin", "SY")
    return person_create(family=family, acting_user=acting_user, **fields)  # type: ignore[arg-type]
