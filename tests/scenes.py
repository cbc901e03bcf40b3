"""Scenes built once per test module and rolled back after it, instead of once per test.

The access matrix and the service authorisation tests run hundreds of cases against the same
world (organisations, users in every role, a family with every kind of case record). Building
that world took over a second per case, nearly all of those tests' time. Here it is built once,
inside an outer transaction that stays open for the module and is rolled back at its end (the
pattern of Django's ``TestCase.setUpTestData``, with pytest-django's database blocker):

- each test's ``db`` fixture opens a savepoint inside that transaction and rolls it back, so a
  test that writes leaves the next one the world exactly as it was built;
- each test gets a deep copy of the objects the build returned (as ``setUpTestData`` does), so
  a service that changes an instance in memory (a status, a cached relation) does not hand the
  next test an instance that disagrees with its rolled-back row.

Only for modules whose database tests all use the scene: a ``db`` test in the same module that
does not ask for it still runs inside the open transaction and sees the scene's rows, and a
``transactional_db`` test would flush them. ``transaction.on_commit`` callbacks registered while
building never run (as in any ``db`` test); a test that captures callbacks with
``django_capture_on_commit_callbacks`` gets only its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import TypeVar

from django.db import transaction
from pytest_django import DjangoDbBlocker

T = TypeVar("T")


def rolled_back_scene(build: Callable[[], T], django_db_blocker: DjangoDbBlocker) -> Iterator[T]:
    """Build a scene in a transaction held open until the generator resumes, then roll it back.

    For a module-scoped fixture (``yield from rolled_back_scene(build, django_db_blocker)``),
    which must depend on ``django_db_setup`` so the test database exists. The database stays
    blocked between the build and the teardown: only tests with the ``db`` fixture reach it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        # As TestCase marks its class-wide transaction: services may open durable blocks inside.
        outer._from_testcase = True  # type: ignore[attr-defined]
        outer.__enter__()
        try:
            scene = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield scene
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def fresh_copy(scene: T) -> T:
    """The scene's objects as built, for one test: a deep copy shares no instance with other tests."""
    return copy.deepcopy(scene)
