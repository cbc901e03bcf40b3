"""Utility on generated data: published counts of large cells stay close to the truth."""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest
from django.conf import settings

from bench.stats import bare_counts, utility
from casemgmt.models import Family, FieldOfAction, Goal
from casemgmt.selectors.stats import outcome_statistics
from tests.factories import make_family, make_person, setup_writes


@pytest.fixture(autouse=True)
def _scene_writes() -> Any:
    """The scene's direct ORM writes are attributed to a named test process."""
    with setup_writes("case_management"):
        yield


def test_mean_relative_error_of_large_cells_is_within_five_percent(case_manager) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(14)
    fields = list(FieldOfAction.objects.filter(organisation=None))
    people = []
    for _ in range(6):
        family = make_family(case_manager, opened_on=datetime.date(2024, 1, 5))
        people.append((family, make_person(family, case_manager)))
    goals = []
    for _ in range(3000):
        family, person = rng.choice(people)
        agreed = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(730))
        status = rng.choice(("open", "achieved", "not_achieved", "partly_achieved"))
        goals.append(
            Goal(
                family=family,
                person=person,
                field_of_action=rng.choice(fields),
                description="generated",
                agreed_on=agreed,
                status=status,
                achieved_at=agreed + datetime.timedelta(days=rng.randrange(1, 200))
                if status == "achieved"
                else None,
            )
        )
    Goal.objects.bulk_create(goals)
    families = Family.objects.values("id")
    errors = []
    for group_by in (["field_of_action"], ["quarter"], []):
        stats = outcome_statistics(
            families=families,
            start=datetime.date(2022, 1, 1),
            end=datetime.date(2026, 12, 31),
            group_by=group_by,
        )
        report = utility(bare_counts(families, group_by), stats)
        assert report["cells"] >= 3 and report["withheld"] == 0
        assert report["mare"] <= 0.05 and report["max_re"] <= settings.STATS_MAX_NOISE / 50
        errors.append(report["mare"])
    assert any(errors)  # perturbed at all
