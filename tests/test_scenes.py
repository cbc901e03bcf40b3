"""A scene shared by a module (tests/scenes.py) must not carry one test's changes into the next.

The first test changes the scene in memory and in the database; the second, run after it
(pytest keeps definition order), must get the scene exactly as built. Run alone or in
reverse order, the second test passes trivially; in the module's order it fails if the
per-test rollback or the per-test copy were ever lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pytest_django import DjangoDbBlocker

from casemgmt.models import Organisation, Role, User
from tests.factories import OrganisationFactory, make_user, setup_writes
from tests.scenes import fresh_copy, rolled_back_scene


@dataclass
class Scene:
    organisation: Organisation
    user: User


def build_scene() -> Scene:
    organisation = OrganisationFactory(name="Landkreis Szene", reference_prefix="SZ")
    return Scene(organisation, make_user(organisation, Role.CASE_MANAGER, username="scene-user"))


@pytest.fixture(scope="module")
def built_scene(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[Scene]:
    yield from rolled_back_scene(build_scene, django_db_blocker)


@pytest.fixture
def scene(db: None, built_scene: Scene) -> Scene:
    return fresh_copy(built_scene)


def test_a_test_changes_the_scene(scene: Scene) -> None:
    scene.organisation.name = "changed in memory"
    scene.user.first_name = "Changed in memory"
    with setup_writes():
        Organisation.objects.filter(pk=scene.organisation.pk).update(name="changed in the database")
        User.objects.filter(pk=scene.user.pk).update(first_name="Changed")
        OrganisationFactory(name="Landkreis Neu", reference_prefix="NE")
    assert Organisation.objects.get(pk=scene.organisation.pk).name == "changed in the database"


def test_the_next_test_gets_the_scene_as_built(scene: Scene) -> None:
    assert scene.organisation.name == "Landkreis Szene"
    assert scene.user.first_name == ""
    assert Organisation.objects.get(pk=scene.organisation.pk).name == "Landkreis Szene"
    assert User.objects.get(pk=scene.user.pk).first_name == ""
    assert not Organisation.objects.filter(name="Landkreis Neu").exists()
