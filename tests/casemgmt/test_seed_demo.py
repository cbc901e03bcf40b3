"""Demo data: idempotent, and never in production."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from casemgmt.models import (
    CaseConference,
    Contact,
    Family,
    Goal,
    Membership,
    Organisation,
    Person,
    Referral,
    User,
)


@override_settings(DEBUG=True, DEMO_PASSWORD="demo-pass")
def test_seed_is_idempotent(db) -> None:  # type: ignore[no-untyped-def]
    call_command("seed_demo", families=3, stdout=None)
    counts = (
        Organisation.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Family.objects.count(),
        Person.objects.count(),
    )
    assert counts[:3] == (2, 6, 6)
    assert counts[3] == 9 and counts[4] > 9
    work = (
        Goal.objects.count(),
        Referral.objects.count(),
        Contact.objects.count(),
        CaseConference.objects.count(),
    )
    assert all(work), work
    assert set(Referral.objects.values_list("status", flat=True)) == set(Referral.TRANSITIONS)
    assert CaseConference.objects.filter(status="held", participants__kind="external").exists()
    assert Family.objects.filter(status="closed").exists()
    # issue 19: a plan with assessments and an approved, agreed version; deadlines due
    from casemgmt.models import Assessment, PlanVersion
    from casemgmt.selectors.deadlines import deadlines_for

    assert (
        Assessment.objects.filter(kind="baseline").exists()
        and Assessment.objects.filter(kind="follow_up").exists()
    )
    assert PlanVersion.objects.filter(status="approved", agreed_on__isnull=False).exists()
    assert Goal.objects.filter(plan__isnull=False).exists()
    assert any(
        deadlines_for(User.objects.get(username=u)) for u in ("casemanager1", "casemanager2", "casemanager3")
    )
    # issue 19: an offered handover, a document, indicator targets
    from casemgmt.models import Document, Handover, ReportIndicator

    assert Handover.objects.filter(status="offered").count() == 1
    assert Document.objects.count() == 1 and ReportIndicator.objects.count() == 3
    call_command("seed_demo", families=3)
    assert Handover.objects.count() == 1 and Document.objects.count() == 1
    assert work == (
        Goal.objects.count(),
        Referral.objects.count(),
        Contact.objects.count(),
        CaseConference.objects.count(),
    )
    assert counts == (
        Organisation.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Family.objects.count(),
        Person.objects.count(),
    )
    assert User.objects.get(username="casemanager3").check_password("demo-pass")
    town = Organisation.objects.get(kind="town")
    assert town.parent is not None and town.parent.kind == "district"
    assert Family.objects.filter(organisation=town).count() == 3


@override_settings(DEBUG=False)
def test_seed_refuses_without_debug(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert User.objects.count() == 0
