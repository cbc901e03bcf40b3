"""Break the glass, tightened: real reasons, tagged audit, openings visible to those responsible,
and a supervisor's approval for repeated openings."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casemgmt.models import EmergencyAccess, EmergencyAccessRequest, Family, Role
from casemgmt.services.access import (
    clean_emergency_reason,
    emergency_access_end,
    emergency_access_open,
    emergency_access_request,
    family_assign,
)
from casemgmt.services.goals import goal_create, goal_review_add
from privacy.models import AuditEntry
from privacy.transparency import seal, verify_log
from tests.conftest import app_queries, client_for
from tests.factories import OrganisationFactory, make_family, make_person, make_user

REASON = "Meldung der Schule: Kind erscheint verletzt, zuständige Kollegin im Urlaub."
ACCESS = "/api/v1/emergency-access/"
REQUESTS = "/api/v1/emergency-access-requests/"
OPENINGS = "/api/v1/emergency-openings/"


@pytest.fixture
def cm2(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.CASE_MANAGER, username="cm2")


@pytest.fixture
def supervisor(district):  # type: ignore[no-untyped-def]
    return make_user(district, Role.SUPERVISOR, username="sup")


# --- the reason must be words


ZWSP = "\u200b"
BAD_REASONS = [
    "aaaaaaaaaaaaaaaaaaaa",
    "....................",
    "a" + ZWSP * 30 + "b",
    ZWSP.join("Notfall") + ZWSP * 20,  # one real word padded with zero-width spaces
    "Notfall" + "\u2060" * 20 + "!",  # word joiners
    "Notfall Notfall Notfall Notfall",  # one word repeated
    "ab ab ab ab ab ab ab ab ab ab",
    "ab cd ab cd ab cd ab cd ab cd",  # few distinct letters
    "1234567890 1234567890 1234567890",
    "Ａ\u00ad" * 25,  # full-width letter and soft hyphens
    "Kind      \t\n      in          Gefahr",  # whitespace padding: too short once collapsed
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bcdefgh ijk",  # one character dominates
]


@pytest.mark.parametrize("reason", BAD_REASONS)
def test_padded_or_meaningless_reasons_are_refused(case_manager, cm2, reason) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    response = client_for(cm2).post(ACCESS, {"family": str(family.pk), "reason": reason}, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid" and "detail" in body
    assert body["errors"]["reason"][0]["code"] in ("too_short", "not_words")
    assert EmergencyAccess.objects.count() == 0


@pytest.mark.parametrize(
    "reason",
    [
        REASON,
        "Kind in Gefahr, Mutter im Krankenhaus",
        "Vater ruft an: Abschiebung droht morgen früh",
        "Ｋｉｎｄ ｉｎ Ｇｅｆａｈｒ, Ｍｕｔｔｅｒ ｆｅｈｌｔ",  # full-width, folded by NFKC
    ],
)
def test_real_reasons_pass_and_are_stored_clean(reason) -> None:  # type: ignore[no-untyped-def]
    cleaned = clean_emergency_reason(ZWSP + reason.replace(" ", " " + ZWSP) + "\u200e")
    assert ZWSP not in cleaned and "\u200e" not in cleaned
    assert cleaned == " ".join(cleaned.split())
    assert len(cleaned) >= 20


def test_stored_reason_has_no_invisible_characters(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    padded = REASON.replace("Kind", "Ki\u200bnd") + "\u200b" * 50
    access = emergency_access_open(family=family, acting_user=cm2, reason=padded)
    access.refresh_from_db()
    assert access.reason == REASON.replace("Kind", "Kind")


# --- the audit names the emergency access


def _entries_since(pk: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=pk).order_by("pk"))


def _head() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_reads_and_writes_under_emergency_access_are_tagged(case_manager, cm2, supervisor, language) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    person = make_person(family, case_manager)
    goal = goal_create(
        family=family, person=person, field_of_action=language, description="B1", acting_user=case_manager
    )
    goal_review_add(goal=goal, acting_user=case_manager, note="gut", status="in_progress")
    own_family = make_family(cm2)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    client = client_for(cm2)
    start = _head()
    assert client.get(f"/api/v1/families/{family.pk}/").status_code == 200
    assert client.get("/api/v1/persons/", {"family": str(family.pk)}).status_code == 200
    assert client.get(f"/api/v1/goals/{goal.pk}/").status_code == 200
    assert client.get(f"/api/v1/goals/{goal.pk}/reviews/").status_code == 200
    assert client.patch(f"/api/v1/goals/{goal.pk}/", {"description": "B2"}, format="json").status_code == 200
    assert (
        client.patch(f"/api/v1/families/{family.pk}/", {"notes": "Notfall"}, format="json").status_code == 200
    )
    tagged = _entries_since(start)
    assert len(tagged) >= 6
    for entry in tagged:
        assert entry.actor_id == cm2.pk
        assert (entry.additional_data or {}).get("emergency_access") == [str(access.pk)], (
            entry.object_repr,
            entry.action,
            entry.additional_data,
            [(e.object_repr, (e.additional_data or {}).get("emergency_access")) for e in tagged],
        )
    assert {e.action for e in tagged} >= {AuditEntry.Action.ACCESS, AuditEntry.Action.UPDATE}
    # the same user's work on their own family is ordinary case work
    start = _head()
    assert client.get(f"/api/v1/families/{own_family.pk}/").status_code == 200
    assert (
        client.patch(f"/api/v1/families/{own_family.pk}/", {"notes": "x"}, format="json").status_code == 200
    )
    for entry in _entries_since(start):
        assert "emergency_access" not in (entry.additional_data or {})
    # the assigned case manager's reads of the same family are not tagged either
    start = _head()
    assert client_for(case_manager).get(f"/api/v1/goals/{goal.pk}/").status_code == 200
    assert all("emergency_access" not in (e.additional_data or {}) for e in _entries_since(start))
    # the tag is covered by the sealed, signed log: editing it is detected
    seal()
    assert verify_log().ok
    AuditEntry.objects.filter(pk=tagged[0].pk).update(additional_data={})
    assert not verify_log().ok


def test_access_through_a_grant_is_not_tagged(case_manager, cm2, supervisor) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    family_assign(family=family, case_manager=cm2, acting_user=supervisor)
    start = _head()
    assert client_for(cm2).get(f"/api/v1/families/{family.pk}/").status_code == 200
    assert all("emergency_access" not in (e.additional_data or {}) for e in _entries_since(start))


def test_ended_access_is_not_tagged_and_gives_no_access(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    emergency_access_end(access=access, acting_user=cm2)
    start = _head()
    assert client_for(cm2).get(f"/api/v1/families/{family.pk}/").status_code == 404
    assert client_for(cm2).get("/api/v1/families/").status_code == 200
    assert all("emergency_access" not in (e.additional_data or {}) for e in _entries_since(start))


def test_users_without_emergency_access_pay_no_query(case_manager) -> None:  # type: ignore[no-untyped-def]
    make_family(case_manager)
    client = client_for(case_manager)
    client.get("/api/v1/families/")
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/families/")
    assert not any(
        "casemgmt_emergencyaccess" in q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"]
    )
    assert not any(
        '"casemgmt_emergencyaccess"."id"' in q["sql"] and "SELECT" in q["sql"][:10]
        for q in ctx.captured_queries
    )


# --- who sees the openings of their families


def test_assigned_case_manager_and_supervisor_see_openings(
    case_manager, cm2, supervisor, district, other_district
) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    other_family = make_family(cm2)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    elsewhere = emergency_access_open(family=other_family, acting_user=case_manager, reason=REASON)

    def listed(user, **params) -> list[str]:  # type: ignore[no-untyped-def]
        response = client_for(user).get(OPENINGS, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert listed(case_manager) == [str(access.pk)]  # their family, opened by a colleague
    assert listed(cm2) == [str(elsewhere.pk)]  # not their own opening of someone else's family
    assert sorted(listed(supervisor)) == sorted([str(access.pk), str(elsewhere.pk)])
    assert listed(make_user(district, Role.CASE_MANAGER)) == []
    assert listed(make_user(other_district, Role.SUPERVISOR)) == []
    assert listed(supervisor, family=str(family.pk)) == [str(access.pk)]
    assert listed(supervisor, active="true", family=str(family.pk)) == [str(access.pk)]
    emergency_access_end(access=access, acting_user=cm2)
    assert listed(case_manager, active="true") == []
    assert listed(case_manager, active="false") == [str(access.pk)]
    row = client_for(case_manager).get(OPENINGS).json()["results"][0]
    assert row["user"] == str(cm2.pk) and row["reason"] == REASON and row["active"] is False
    # a transfer moves the view along with the case
    family_assign(family=family, case_manager=make_user(district, Role.CASE_MANAGER), acting_user=supervisor)
    assert listed(case_manager) == []
    assert client_for(make_user(district, Role.DPO)).get(OPENINGS).status_code == 403


@pytest.mark.parametrize("params", [{"family": "x"}, {"active": "maybe"}])
def test_openings_bad_input(case_manager, params) -> None:  # type: ignore[no-untyped-def]
    response = client_for(case_manager).get(OPENINGS, params)
    assert response.status_code == 400
    assert {"code", "detail"} <= set(response.json())


@pytest.mark.parametrize("url", [OPENINGS, REQUESTS])
def test_emergency_lists_query_count_flat(district, supervisor, url) -> None:  # type: ignore[no-untyped-def]
    counter = iter(range(100))

    def add(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            owner = make_user(district, Role.CASE_MANAGER)
            family = make_family(owner, district, family_name=f"E{i}")
            stranger = make_user(district, Role.CASE_MANAGER)
            access = emergency_access_open(family=family, acting_user=stranger, reason=REASON)
            emergency_access_end(access=access, acting_user=stranger)
            emergency_access_request(family=family, acting_user=stranger, reason=REASON)

    client = client_for(supervisor)
    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert response.status_code == 200 and response.json()["count"] == 2
    add(6)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200 and response.json()["count"] == 8
    assert len(app_queries(large.captured_queries)) == len(app_queries(small.captured_queries)), [
        q[:120] for q in app_queries(large.captured_queries)
    ]
    assert len(large.captured_queries) == len(small.captured_queries)


# --- a repeated opening needs a supervisor's approval


def test_reopening_within_the_window_needs_approval(case_manager, cm2, supervisor, district) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    client = client_for(cm2)
    first = client.post(ACCESS, {"family": str(family.pk), "reason": REASON}, format="json").json()
    assert client.post(f"{ACCESS}{first['id']}/end/").status_code == 200
    # reopening at once is refused and changes nothing
    again = client.post(ACCESS, {"family": str(family.pk), "reason": REASON}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "approval_required"
    assert EmergencyAccess.objects.count() == 1
    assert client.get(f"/api/v1/families/{family.pk}/").status_code == 404
    # so the user asks; nothing opens yet
    start = _head()
    asked = client.post(REQUESTS, {"family": str(family.pk), "reason": REASON}, format="json")
    assert asked.status_code == 201, asked.json()
    request_id = asked.json()["id"]
    assert asked.json()["status"] == "pending" and asked.json()["access"] is None
    assert client.get(f"/api/v1/families/{family.pk}/").status_code == 404
    duplicate = client.post(REQUESTS, {"family": str(family.pk), "reason": REASON}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "pending"
    # the requester cannot approve (not a supervisor), nor can a supervisor of another district
    assert client.post(f"{REQUESTS}{request_id}/approve/").status_code == 403
    other_sup = make_user(
        OrganisationFactory(name="Landkreis Anders", kind="district", reference_prefix="AN"),
        Role.SUPERVISOR,
    )
    assert client_for(other_sup).post(f"{REQUESTS}{request_id}/approve/").status_code == 404
    # the supervisor sees it pending and approves: the access opens now
    pending = client_for(supervisor).get(REQUESTS, {"status": "pending"}).json()["results"]
    assert [r["id"] for r in pending] == [request_id]
    approved = client_for(supervisor).post(f"{REQUESTS}{request_id}/approve/")
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["status"] == "approved" and body["decided_by"] == str(supervisor.pk) and body["access"]
    assert client.get(f"/api/v1/families/{family.pk}/").status_code == 200
    access = EmergencyAccess.objects.get(pk=body["access"])
    assert access.user_id == cm2.pk and access.reason == REASON
    # deciding twice is a conflict
    assert client_for(supervisor).post(f"{REQUESTS}{request_id}/decline/").status_code == 409
    # request and approval are in the audit with their actors
    entries = _entries_since(start)
    request_entries = [e for e in entries if e.content_type.model == "emergencyaccessrequest"]
    assert {(e.action, e.actor_id) for e in request_entries} >= {
        (AuditEntry.Action.CREATE, cm2.pk),
        (AuditEntry.Action.UPDATE, supervisor.pk),
    }
    assert any(
        e.content_type.model == "emergencyaccess"
        and e.action == AuditEntry.Action.CREATE
        and e.actor_id == supervisor.pk
        for e in entries
    )
    assert "Schule" not in str([e.changes for e in entries])


def test_expired_access_also_counts_as_a_repeat(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    EmergencyAccess.objects.filter(pk=access.pk).update(
        opened_at=timezone.now() - datetime.timedelta(hours=25),
        expires_at=timezone.now() - datetime.timedelta(hours=1),
    )
    response = client_for(cm2).post(ACCESS, {"family": str(family.pk), "reason": REASON}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "approval_required"
    # after the window, opening is free again
    EmergencyAccess.objects.filter(pk=access.pk).update(
        opened_at=timezone.now() - datetime.timedelta(days=10),
        expires_at=timezone.now() - datetime.timedelta(days=9),
    )
    response = client_for(cm2).post(ACCESS, {"family": str(family.pk), "reason": REASON}, format="json")
    assert response.status_code == 201


def test_declined_request_opens_nothing(case_manager, cm2, supervisor) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    emergency_access_end(access=access, acting_user=cm2)
    request = emergency_access_request(family=family, acting_user=cm2, reason=REASON)
    response = client_for(supervisor).post(f"{REQUESTS}{request.pk}/decline/")
    assert response.status_code == 200 and response.json()["status"] == "declined"
    assert EmergencyAccess.objects.count() == 1
    assert client_for(cm2).get(f"/api/v1/families/{family.pk}/").status_code == 404
    assert client_for(supervisor).post(f"{REQUESTS}{request.pk}/approve/").status_code == 409


def test_nobody_approves_their_own_request(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ObjectDoesNotExist, PermissionDenied

    from casemgmt.services.access import emergency_access_request_approve

    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    emergency_access_end(access=access, acting_user=cm2)
    request = emergency_access_request(family=family, acting_user=cm2, reason=REASON)
    for user in (cm2, case_manager):  # the requester, and the family's own case manager
        with pytest.raises((PermissionDenied, ObjectDoesNotExist)):
            emergency_access_request_approve(request=request, acting_user=user)
    request.refresh_from_db()
    assert request.status == EmergencyAccessRequest.Status.PENDING
    assert EmergencyAccess.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": REASON}, "family"),
        ({"family": "x", "reason": REASON}, "family"),
        ({"family": "F", "reason": "aaaaaaaaaaaaaaaaaaaaaaaa"}, "reason"),
        ({"family": "F", "reason": REASON, "extra": 1}, "extra"),
        ({"family": "F", "reason": 12345678901234567890}, "reason"),
    ],
)
def test_request_bad_input(case_manager, cm2, body, field) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    emergency_access_end(access=access, acting_user=cm2)
    if body.get("family") == "F":
        body = {**body, "family": str(family.pk)}
    response = client_for(cm2).post(REQUESTS, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert EmergencyAccessRequest.objects.count() == 0


def test_request_without_a_recent_opening_is_not_needed(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    response = client_for(cm2).post(REQUESTS, {"family": str(family.pk), "reason": REASON}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "approval_not_needed"
    assert EmergencyAccessRequest.objects.count() == 0


def test_closed_family_request_approval_is_refused(case_manager, cm2, supervisor) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    emergency_access_end(access=access, acting_user=cm2)
    request = emergency_access_request(family=family, acting_user=cm2, reason=REASON)
    Family.objects.filter(pk=family.pk).update(status=Family.Status.CLOSED, closed_on=timezone.localdate())
    response = client_for(supervisor).post(f"{REQUESTS}{request.pk}/approve/")
    assert response.status_code == 409
    assert EmergencyAccess.objects.count() == 1


def test_family_erasure_clears_request_reasons(case_manager, cm2, district) -> None:  # type: ignore[no-untyped-def]
    from casemgmt.services.families import family_close
    from privacy.rights import erasure_request

    family = make_family(case_manager)
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    emergency_access_end(access=access, acting_user=cm2)
    request = emergency_access_request(family=family, acting_user=cm2, reason=REASON)
    family = family_close(
        family=family, outcome="moved_away", benefit_status_at_closure="unknown", acting_user=case_manager
    )
    dpo = make_user(district, Role.DPO)
    erasure, _ = erasure_request(subject=family, subject_type="family", dry_run=False, acting_user=dpo)
    assert erasure.outcome == "executed", (erasure.refusal_code, erasure.summary)
    request.refresh_from_db()
    assert "Schule" not in request.reason


@pytest.mark.parametrize("url", [OPENINGS, REQUESTS])
def test_emergency_lists_exact_query_count(district, supervisor, url, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        family = make_family(make_user(district, Role.CASE_MANAGER), district, family_name=f"X{i}")
        stranger = make_user(district, Role.CASE_MANAGER)
        emergency_access_end(
            access=emergency_access_open(family=family, acting_user=stranger, reason=REASON),
            acting_user=stranger,
        )
        emergency_access_request(family=family, acting_user=stranger, reason=REASON)
    client = client_for(supervisor)
    client.get(url)
    # token + user + memberships (the role gate's), count, page (family joined); audit: one insert
    with django_assert_num_queries(4):
        assert client.get(url).json()["count"] == 5


def test_a_lapsed_deputys_break_the_glass_is_tagged(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    """Review: a deputyship that ended by its date leaves the deputy in the principal's caseload
    group (only deputy_remove takes them out). family_access no longer reaches the family through
    it, so opening the glass is allowed and the reads go through the emergency access alone; the
    audit must tag them. emergency_only_accesses decides by Django group membership instead of
    by the rule (group__user=user), so it calls the family "reached through a grant"."""
    from casemgmt import policies
    from casemgmt.models import Deputyship
    from casemgmt.services.access import deputy_add

    family = make_family(case_manager)
    deputyship = deputy_add(principal=case_manager, deputy=cm2, acting_user=case_manager)
    Deputyship.objects.filter(pk=deputyship.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    assert not Family.objects.filter(policies.family_access(cm2), pk=family.pk).exists()
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    start = _head()
    assert client_for(cm2).get(f"/api/v1/families/{family.pk}/").status_code == 200
    entries = _entries_since(start)
    assert entries
    assert all((e.additional_data or {}).get("emergency_access") == [str(access.pk)] for e in entries), [
        (e.object_repr, e.additional_data) for e in entries
    ]


def test_a_caseload_group_member_who_is_no_deputy_is_tagged(case_manager, cm2) -> None:  # type: ignore[no-untyped-def]
    """Review: membership of another caseload's Django group grants nothing (family_access), so
    reads under an emergency access are emergency-only and must be tagged."""
    from casemgmt.services.access import caseload_group

    family = make_family(case_manager)
    cm2.groups.add(caseload_group(case_manager))
    access = emergency_access_open(family=family, acting_user=cm2, reason=REASON)
    start = _head()
    assert client_for(cm2).get(f"/api/v1/families/{family.pk}/").status_code == 200
    entries = _entries_since(start)
    assert entries
    assert all((e.additional_data or {}).get("emergency_access") == [str(access.pk)] for e in entries)
