"""Consent scoped per member and per data category; a conference's agenda must be covered.

Services first (who is covered, which kinds of data, old household-wide consents, withdrawal
by one member), then the API (fields in and out, bad input 400, foreign ids 400).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from casemgmt.errors import Conflict
from casemgmt.models import CaseConference, Consent, Person, SharedCategory
from casemgmt.services.conferences import (
    conference_create,
    conference_hold,
    conference_participant_add,
    conference_update,
)
from casemgmt.services.consents import consent_create, consent_withdraw
from casemgmt.services.documents import document_create
from privacy.classification import DataCategory
from privacy.rights import restriction_add
from tests.factories import make_family, make_person, make_user

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)

EXTERNAL = {
    "kind": "external",
    "agency": "jobcenter",
    "name": "Herr Muster",
    "reason": "Eingliederung in Arbeit",
    "legal_basis": "Einwilligung, § 67b SGB X",
}


@pytest.fixture
def father(family, case_manager):  # type: ignore[no-untyped-def]
    return make_person(family, case_manager, given_name="Omar", sex=Person.Sex.MALE)


@pytest.fixture
def child(family, case_manager):  # type: ignore[no-untyped-def]
    return make_person(
        family,
        case_manager,
        given_name="Lina",
        role=Person.Role.CHILD,
        date_of_birth=datetime.date(2014, 1, 2),
    )


def consent(family: Any, user: Any, **kwargs: Any) -> Consent:
    kwargs.setdefault("recipient", "jobcenter")
    kwargs.setdefault("purpose", "Fallkonferenz")
    kwargs.setdefault("given_on", YESTERDAY)
    return consent_create(family=family, acting_user=user, **kwargs)


def plan(family: Any, user: Any, **kwargs: Any) -> CaseConference:
    return conference_create(
        family=family, scheduled_at=timezone.now() + datetime.timedelta(days=3), acting_user=user, **kwargs
    )


def members_of(consent: Consent) -> set[Any]:
    return set(consent.members.values_list("pk", flat=True))


# --- the consent's scope


def test_shared_categories_are_categories_of_the_record() -> None:
    assert set(SharedCategory.values) <= set(DataCategory.values)
    assert DataCategory.ACCOUNT not in SharedCategory.values


def test_defaults_a_member_covers_herself_the_representative_the_household(
    case_manager, family, mother, father
) -> None:  # type: ignore[no-untyped-def]
    own = consent(family, case_manager, person=mother)
    assert members_of(own) == {mother.pk}
    assert own.data_categories == list(SharedCategory.values)
    household = consent(family, case_manager, given_by_representative="Vormund")
    assert members_of(household) == {mother.pk, father.pk}


def test_scope_is_validated(case_manager, family, mother) -> None:  # type: ignore[no-untyped-def]
    stranger = make_person(make_family(case_manager, family_name="Kaya"), case_manager)
    with pytest.raises(ValidationError) as caught:
        consent(family, case_manager, person=mother, members=[mother, stranger])
    assert caught.value.error_dict["members"][0].code == "not_member"
    with pytest.raises(ValidationError) as caught:
        consent(family, case_manager, person=mother, data_categories=["health", "language"])
    assert "data_categories" in caught.value.error_dict
    with pytest.raises(ValidationError):
        consent(family, case_manager, person=mother, data_categories=[])
    with pytest.raises(ValidationError):
        consent(family, case_manager, person=mother, members=[])
    assert Consent.objects.count() == 0
    scoped = consent(
        family, case_manager, person=mother, data_categories=["social_benefits", "identification"]
    )
    assert scoped.data_categories == ["identification", "social_benefits"]  # declaration order


# --- the conference's agenda


def test_member_not_covered_is_refused_by_id(case_manager, family, mother, father) -> None:  # type: ignore[no-untyped-def]
    consent(family, case_manager, person=mother)
    with pytest.raises(Conflict) as caught:
        plan(family, case_manager, agenda_members=[mother, father], participants=[EXTERNAL])
    error = caught.value
    assert error.code == "consent_missing"
    assert error.extra["members"] == [str(father.pk)] and error.extra["agency"] == "jobcenter"
    assert error.extra["uncovered"] == [{"member": str(father.pk), "categories": list(SharedCategory.values)}]
    assert "Omar" not in error.message and str(father.pk) in error.message
    assert CaseConference.objects.count() == 0
    # the agenda naming only her is covered
    conference = plan(family, case_manager, agenda_members=[mother], participants=[EXTERNAL])
    assert conference.participants.get(kind="external").consent is not None


def test_one_members_consent_no_longer_opens_the_household(case_manager, family, mother, father) -> None:  # type: ignore[no-untyped-def]
    consent(family, case_manager, person=mother)
    with pytest.raises(Conflict) as caught:
        plan(family, case_manager, participants=[EXTERNAL])  # no agenda named: the household
    assert caught.value.extra["members"] == [str(father.pk)]


def test_category_not_covered_is_refused(case_manager, family, mother) -> None:  # type: ignore[no-untyped-def]
    consent(family, case_manager, person=mother, data_categories=["language", "social_benefits"])
    with pytest.raises(Conflict) as caught:
        plan(
            family,
            case_manager,
            agenda_members=[mother],
            agenda_categories=["language", "residence"],
            participants=[EXTERNAL],
        )
    assert caught.value.extra["uncovered"] == [{"member": str(mother.pk), "categories": ["residence"]}]
    # no categories named: every category, so the scoped consent does not cover it either
    with pytest.raises(Conflict):
        plan(family, case_manager, agenda_members=[mother], participants=[EXTERNAL])
    conference = plan(
        family, case_manager, agenda_members=[mother], agenda_categories=["language"], participants=[EXTERNAL]
    )
    # widening the agenda afterwards is refused while the agency is invited
    with pytest.raises(ValidationError):
        conference_update(
            conference=conference, agenda_categories=["language", "health"], acting_user=case_manager
        )
    with pytest.raises(Conflict) as caught:
        conference_update(conference=conference, agenda_categories=["residence"], acting_user=case_manager)
    assert caught.value.code == "consent_missing"
    conference.refresh_from_db()
    assert conference.agenda_categories == ["language"]


def test_unknown_agenda_category_is_a_validation_error(case_manager, family, mother) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as caught:
        plan(family, case_manager, agenda_categories=["health"])
    assert "agenda_categories" in caught.value.error_dict


def test_consents_combine_member_by_member(case_manager, family, mother, father) -> None:  # type: ignore[no-untyped-def]
    consent(family, case_manager, person=mother, data_categories=["language"])
    consent(family, case_manager, person=father, data_categories=["language", "social_benefits"])
    conference = plan(
        family,
        case_manager,
        agenda_members=[mother, father],
        agenda_categories=["language"],
        participants=[EXTERNAL],
    )
    with pytest.raises(Conflict) as caught:
        conference_update(
            conference=conference, agenda_categories=["social_benefits"], acting_user=case_manager
        )
    assert caught.value.extra["members"] == [str(mother.pk)]


def test_household_wide_old_consent_still_works(case_manager, family, mother, father, child) -> None:  # type: ignore[no-untyped-def]
    """A representative's consent of everyone and every category (what the migration makes of old rows)."""
    consent(
        family,
        case_manager,
        given_by_representative="Vormund",
        members=[mother, father, child],
        data_categories=list(SharedCategory.values),
    )
    conference = plan(family, case_manager, participants=[EXTERNAL])
    conference = conference_hold(conference=conference, minutes="m", acting_user=case_manager)
    assert conference.status == "held"


def test_withdrawn_consent_of_one_member_blocks_the_conference(case_manager, family, mother, father) -> None:  # type: ignore[no-untyped-def]
    consent(family, case_manager, person=mother)
    his = consent(family, case_manager, person=father)
    conference = plan(family, case_manager, agenda_members=[mother, father], participants=[EXTERNAL])
    other = plan(family, case_manager, agenda_members=[mother], participants=[EXTERNAL])
    consent_withdraw(consent=his, acting_user=case_manager)
    with pytest.raises(Conflict) as caught:
        conference_hold(conference=conference, minutes="m", acting_user=case_manager)
    assert caught.value.code == "consent_missing" and caught.value.extra["members"] == [str(father.pk)]
    conference.refresh_from_db()
    assert conference.status == "planned"
    # a conference about her alone goes on
    assert conference_hold(conference=other, minutes="m", acting_user=case_manager).status == "held"


def test_restricted_member_is_never_on_the_agenda(case_manager, family, mother, father, district) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.models import Role

    dpo = make_user(district, Role.DPO)
    consent(family, case_manager, given_by_representative="Vormund")
    conference = plan(family, case_manager, agenda_members=[mother, father])
    restriction_add(person=father, reason="contested", acting_user=dpo)
    with pytest.raises(Conflict) as caught:
        plan(family, case_manager, agenda_members=[father])
    assert caught.value.code == "restricted"
    with pytest.raises(Conflict) as caught:
        conference_participant_add(conference=conference, participant=EXTERNAL, acting_user=case_manager)
    assert caught.value.code == "restricted"
    # the household without him is covered: the restricted member is left out of it
    conference_update(conference=conference, agenda_members=[], acting_user=case_manager)
    conference_participant_add(conference=conference, participant=EXTERNAL, acting_user=case_manager)


def test_signed_form_can_be_required(case_manager, family, mother) -> None:  # type: ignore[no-untyped-def]
    given = consent(family, case_manager, person=mother)
    with override_settings(CONSENT_REQUIRE_SIGNED_FORM=True):
        with pytest.raises(Conflict):
            plan(family, case_manager, agenda_members=[mother], participants=[EXTERNAL])
        document_create(
            target_kind="consent",
            target_id=given.pk,
            upload=SimpleUploadedFile("einwilligung.pdf", b"%PDF-1.4 signed"),
            acting_user=case_manager,
        )
        plan(family, case_manager, agenda_members=[mother], participants=[EXTERNAL])


# --- the API


def test_api_scoped_consent_round_trip(api, case_manager, family, mother, father) -> None:  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v1/consents/",
        {
            "family": str(family.pk),
            "person": str(mother.pk),
            "members": [str(mother.pk), str(father.pk)],
            "data_categories": ["social_benefits", "language"],
            "recipient": "jobcenter",
            "purpose": "Arbeitsvermittlung",
            "given_on": YESTERDAY.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert sorted(body["members"]) == sorted([str(mother.pk), str(father.pk)])
    assert body["data_categories"] == ["language", "social_benefits"]
    assert body["has_signed_form"] is False
    document_create(
        target_kind="consent",
        target_id=body["id"],
        upload=SimpleUploadedFile("form.pdf", b"%PDF-1.4 signed"),
        acting_user=case_manager,
    )
    listed = api.get("/api/v1/consents/", {"member": str(father.pk)}).json()
    assert listed["count"] == 1 and listed["results"][0]["has_signed_form"] is True
    assert (
        api.get("/api/v1/consents/", {"member": str(make_person(family, case_manager).pk)}).json()["count"]
        == 0
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"members": ["FOREIGN"]}, "members"),
        ({"members": ["not-a-uuid"]}, "members"),
        ({"members": []}, "members"),
        ({"members": "MOTHER"}, "members"),
        ({"members": ["OTHER_FAMILY"]}, "members"),
        ({"data_categories": ["health"]}, "data_categories"),
        ({"data_categories": []}, "data_categories"),
        ({"data_categories": "language"}, "data_categories"),
        ({"data_categories": [5]}, "data_categories"),
    ],
)
def test_api_consent_bad_scope(api, case_manager, other_case_manager, family, mother, body, field) -> None:  # type: ignore[no-untyped-def]
    foreign = make_person(make_family(other_case_manager, family_name="Fremd"), other_case_manager)
    other_family = make_person(make_family(case_manager, family_name="Kaya"), case_manager)
    ids = {"FOREIGN": str(foreign.pk), "OTHER_FAMILY": str(other_family.pk), "MOTHER": str(mother.pk)}

    def swap(value: Any) -> Any:
        if isinstance(value, list):
            return [swap(v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    data = {
        "family": str(family.pk),
        "person": str(mother.pk),
        "recipient": "school",
        "purpose": "x",
        "given_on": YESTERDAY.isoformat(),
        **{k: swap(v) for k, v in body.items()},
    }
    response = api.post("/api/v1/consents/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert Consent.objects.count() == 0


def test_api_conference_agenda(api, case_manager, family, mother, father) -> None:  # type: ignore[no-untyped-def]
    consent(family, case_manager, person=mother, data_categories=["language"])
    base = {
        "family": str(family.pk),
        "scheduled_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        "participants": [EXTERNAL],
    }
    refused = api.post("/api/v1/conferences/", {**base, "agenda_members": [str(father.pk)]}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_missing" and refused.json()["members"] == [str(father.pk)]
    assert "Omar" not in refused.content.decode()
    created = api.post(
        "/api/v1/conferences/",
        {**base, "agenda_members": [str(mother.pk)], "agenda_categories": ["language"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["agenda_members"] == [str(mother.pk)] and body["agenda_categories"] == ["language"]
    url = f"/api/v1/conferences/{body['id']}/"
    widened = api.patch(url, {"agenda_members": [str(mother.pk), str(father.pk)]}, format="json")
    assert widened.status_code == 409 and widened.json()["members"] == [str(father.pk)]
    assert api.get(url).json()["agenda_members"] == [str(mother.pk)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"agenda_members": ["FOREIGN"]}, "agenda_members"),
        ({"agenda_members": ["OTHER_FAMILY"]}, "agenda_members"),
        ({"agenda_members": ["not-a-uuid"]}, "agenda_members"),
        ({"agenda_members": 7}, "agenda_members"),
        ({"agenda_categories": ["health"]}, "agenda_categories"),
        ({"agenda_categories": "language"}, "agenda_categories"),
    ],
)
def test_api_conference_bad_agenda(
    api, case_manager, other_case_manager, family, mother, body, field
) -> None:  # type: ignore[no-untyped-def]
    foreign = make_person(make_family(other_case_manager, family_name="Fremd"), other_case_manager)
    other_family = make_person(make_family(case_manager, family_name="Kaya"), case_manager)
    ids = {"FOREIGN": str(foreign.pk), "OTHER_FAMILY": str(other_family.pk)}
    data = {
        "family": str(family.pk),
        "scheduled_at": (timezone.now() + datetime.timedelta(days=3)).isoformat(),
        **{
            k: [ids.get(v, v) for v in value] if isinstance(value, list) else value
            for k, value in body.items()
        },
    }
    response = api.post("/api/v1/conferences/", data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert CaseConference.objects.count() == 0
    conference = plan(family, case_manager)
    patched = api.patch(f"/api/v1/conferences/{conference.pk}/", {k: data[k] for k in body}, format="json")
    assert patched.status_code == 400, patched.json()


def test_german_labels_of_the_categories() -> None:
    from django.utils import translation

    with translation.override("de"):
        assert str(SharedCategory.RESIDENCE.label) == "Aufenthaltsstatus (Ausländerrecht)"
        assert str(SharedCategory.SOCIAL_BENEFITS.label) == "Leistungsbezug (Sozialdaten)"


def test_art19_names_only_agencies_that_received_the_persons_data(  # type: ignore[no-untyped-def]
    case_manager, family, mother, father
) -> None:
    """A conference about the mother alone shared nothing of the father: rectifying or erasing
    his data must not tell (and so inform) that agency."""
    from privacy.rights import _recipients_of

    consent(family, case_manager, person=mother)
    conference = plan(family, case_manager, agenda_members=[mother], participants=[EXTERNAL])
    conference_hold(conference=conference, minutes="m", acting_user=case_manager)
    assert [kind for kind, _name, _via in _recipients_of(mother)] == [EXTERNAL["agency"]]
    assert _recipients_of(father) == []
