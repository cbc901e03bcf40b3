"""Migration 0018: consents recorded before the scope keep their meaning."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casemgmt.models import Consent, SharedCategory
from casemgmt.services.consents import consent_create
from tests.casemgmt.conftest import migrate
from tests.factories import make_family, make_person

BEFORE = [("casemgmt", "0017_backfill_residence_category")]
AFTER = [("casemgmt", "0018_consent_scope")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_old_consents_cover_their_member_or_the_household_and_every_category(case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    mother = make_person(family, case_manager, given_name="Amina")
    father = make_person(family, case_manager, given_name="Omar")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    own = consent_create(
        family=family, person=mother, recipient="jobcenter", purpose="p", given_on=yesterday,
        members=[mother, father], data_categories=["language"], acting_user=case_manager,
    )  # fmt: skip
    representative = consent_create(
        family=family, given_by_representative="Vormund", recipient="school", purpose="p",
        given_on=yesterday, members=[mother], data_categories=["language"], acting_user=case_manager,
    )  # fmt: skip
    migrate(BEFORE)  # the scope is gone: the rows are as before the change
    migrate(AFTER)
    own = Consent.objects.get(pk=own.pk)
    representative = Consent.objects.get(pk=representative.pk)
    assert set(own.members.values_list("pk", flat=True)) == {mother.pk}
    assert set(representative.members.values_list("pk", flat=True)) == {mother.pk, father.pk}
    assert own.data_categories == representative.data_categories == list(SharedCategory.values)
