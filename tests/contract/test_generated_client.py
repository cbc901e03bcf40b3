"""A whole case-manager day through a client generated from the schema: every response parses typed."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

from casemgmt.models import FieldOfAction, Role
from casemgmt.services.catalogue import course_create, provider_create
from tests.factories import make_user

PASSWORD = "correct horse battery"


def test_generator_has_no_warnings(generated) -> None:  # type: ignore[no-untyped-def]
    """Every schema construct is one the generator understands: nothing is dropped or untyped."""
    assert generated.returncode == 0, generated.output
    assert "Warning" not in generated.output and "WARNING" not in generated.output, generated.output


def typed(response: Any, model: Any, status: int = 200) -> Any:
    """The documented status, and a body that parsed into the documented model."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert isinstance(response.parsed, model), (type(response.parsed), response.content[:500])
    return response.parsed


@pytest.mark.django_db
def test_a_case_managers_day(generated, wsgi_transport, district) -> None:  # type: ignore[no-untyped-def]
    m = generated.module("models")
    client_module = generated.module("client")

    def op(area: str, name: str) -> Any:
        return generated.module(f"api.{area}.{name}")

    def authenticated(token: str) -> Any:
        return client_module.AuthenticatedClient(
            base_url="http://testserver",
            token=token,
            prefix="Token",
            raise_on_unexpected_status=True,
            httpx_args={"transport": wsgi_transport},
        )

    def login(username: str) -> Any:
        anonymous = client_module.Client(
            base_url="http://testserver",
            raise_on_unexpected_status=True,
            httpx_args={"transport": wsgi_transport},
        )
        body = m.LoginInputRequest(username=username, password=PASSWORD)
        token = typed(
            op("auth", "auth_token_create").sync_detailed(client=anonymous, body=body), m.TokenOutput
        )
        return authenticated(token.token)

    case_manager = make_user(district, Role.CASE_MANAGER, username="cm_day")
    make_user(district, Role.SUPERVISOR, username="lead")
    make_user(district, Role.DPO, username="dpo")
    admin = make_user(district, Role.ADMIN, username="admin_day")
    provider = provider_create(organisation=district, name="VHS Musterland", acting_user=admin)
    today = timezone.localdate()
    course = course_create(
        provider=provider,
        title="Integrationskurs",
        course_type="integration_course",
        cefr_level="",  # a blank optional choice, as in real catalogues
        starts_on=today,
        ends_on=today + datetime.timedelta(days=200),
        capacity=5,
        acting_user=admin,
    )
    cm = login("cm_day")
    me = typed(op("auth", "auth_me_retrieve").sync_detailed(client=cm), m.Me)
    assert str(me.id) == str(case_manager.pk)

    # A family and its members
    family = typed(
        op("families", "families_create").sync_detailed(
            client=cm,
            body=m.FamilyInputRequest(
                family_name="Haddad", preferred_languages=["ar"], interpreter_needed=True
            ),
        ),
        m.FamilyOutput,
        201,
    )
    assert family.closure_outcome == m.BlankEnum.VALUE_0 or family.closure_outcome == ""
    mother = typed(
        op("persons", "persons_create").sync_detailed(
            client=cm,
            body=m.PersonInputRequest(
                family=family.id,
                role=m.PersonRoleEnum.PARENT,
                given_name="Amina",
                family_name="Haddad",
                date_of_birth=datetime.date(1988, 4, 12),
                sex=m.SexEnum.FEMALE,
                residence_status=m.ResidenceStatusEnum.RESIDENCE_PERMIT,
                country_of_origin="SY",
            ),
        ),
        m.PersonCreated,
        201,
    )
    typed(
        op("persons", "persons_create").sync_detailed(
            client=cm,
            body=m.PersonInputRequest(
                family=family.id, role=m.PersonRoleEnum.CHILD, given_name="Yusuf", family_name="Haddad"
            ),
        ),
        m.PersonCreated,
        201,
    )  # no residence status: a blank choice that must still parse in lists

    # Search by name and by date of birth
    found = typed(
        op("persons", "persons_list").sync_detailed(client=cm, name="amina haddad"),
        m.PaginatedPersonOutputList,
    )
    assert [p.id for p in found.results] == [mother.id]
    by_birth = op("persons", "persons_list").sync_detailed(
        client=cm, date_of_birth=datetime.date(1988, 4, 12)
    )
    assert typed(by_birth, m.PaginatedPersonOutputList).count == 1
    members = typed(
        op("persons", "persons_list").sync_detailed(client=cm, family=family.id), m.PaginatedPersonOutputList
    )
    assert members.count == 2
    families = typed(
        op("families", "families_list").sync_detailed(client=cm, name="Haddad"), m.PaginatedFamilyOutputList
    )
    assert families.count == 1

    # Conditional update: ETag from the read, If-Match on the write
    read = op("families", "families_retrieve").sync_detailed(family.id, client=cm)
    typed(read, m.FamilyOutput)
    patched = op("families", "families_partial_update").sync_detailed(
        family.id,
        client=cm,
        body=m.PatchedFamilyUpdateInputRequest(notes="Erstgespräch"),
        if_match=read.headers["ETag"],
    )
    typed(patched, m.FamilyOutput)
    stale = op("families", "families_partial_update").sync_detailed(
        family.id, client=cm, body=m.PatchedFamilyUpdateInputRequest(notes="x"), if_match=read.headers["ETag"]
    )
    assert typed(stale, m.Error, 412).code == "precondition_failed"

    # Goals and reviews
    fields = op("fields_of_action", "fields_of_action_list").sync_detailed(client=cm)
    assert fields.status_code == 200 and isinstance(fields.parsed, list)
    language = next(f for f in fields.parsed if f.code == "language")
    assert str(language.id) == str(FieldOfAction.objects.get(code="language", organisation=None).pk)
    goal = typed(
        op("goals", "goals_create").sync_detailed(
            client=cm,
            body=m.GoalInputRequest(
                family=family.id,
                person=mother.id,
                field_of_action=language.id,
                description="B1-Prüfung",
                target_date=today + datetime.timedelta(days=180),
            ),
        ),
        m.GoalOutput,
        201,
    )
    review = op("goals", "goals_reviews_create").sync_detailed(
        goal.id, client=cm, body=m.GoalReviewInputRequest(status=m.GoalStatusEnum.IN_PROGRESS, note="läuft")
    )
    typed(review, m.GoalReview, 201)
    reviews = op("goals", "goals_reviews_list").sync_detailed(goal.id, client=cm)
    assert reviews.status_code == 200 and all(isinstance(r, m.GoalReview) for r in reviews.parsed)
    goals = op("goals", "goals_list").sync_detailed(client=cm, field_of_action=language.id, overdue=False)
    assert typed(goals, m.PaginatedGoalOutputList).count == 1
    other_field = op("goals", "goals_list").sync_detailed(client=cm, field_of_action_code="work")
    assert typed(other_field, m.PaginatedGoalOutputList).count == 0

    # The integration plan (issue 19): a plan, a version submitted and agreed, an assessment,
    # and the dashboard that shows the plan's review date
    plan = typed(
        op("plans", "plans_create").sync_detailed(
            client=cm,
            body=m.PlanInputRequest(family=family.id, review_on=today + datetime.timedelta(days=3)),
        ),
        m.PlanOutput,
        201,
    )
    version = typed(
        op("plan_versions", "plan_versions_create").sync_detailed(
            client=cm, body=m.PlanVersionInputRequest(plan=plan.id, summary="Sprachkurs")
        ),
        m.PlanVersionOutput,
        201,
    )
    submitted = typed(
        op("plan_versions", "plan_versions_submit_create").sync_detailed(version.id, client=cm),
        m.PlanVersionOutput,
    )
    assert submitted.status == m.PlanVersionStatusEnum.SUBMITTED
    typed(
        op("plan_versions", "plan_versions_agreement_create").sync_detailed(
            version.id, client=cm, body=m.AgreementInputRequest(agreed_on=today, agreed_by_person=mother.id)
        ),
        m.PlanVersionOutput,
    )
    typed(
        op("assessments", "assessments_create").sync_detailed(
            client=cm,
            body=m.AssessmentInputRequest(
                family=family.id,
                person=mother.id,
                field_of_action=language.id,
                kind=m.AssessmentKindEnum.BASELINE,
                score=2,
                notes="wenig Deutsch",
            ),
        ),
        m.AssessmentOutput,
        201,
    )
    typed(op("assessments", "assessments_list").sync_detailed(client=cm), m.PaginatedAssessmentOutputList)
    dashboard = typed(op("dashboard", "dashboard_retrieve").sync_detailed(client=cm), m.CaseloadDashboard)
    assert any(item.kind == m.DeadlineKindEnum.PLAN_REVIEW for item in dashboard.items)

    # A referral through its lifecycle; the first transition comes from "" (a blank enum)
    courses = typed(
        op("courses", "courses_list").sync_detailed(client=cm, has_seats=True), m.PaginatedCourseList
    )
    assert [str(c.id) for c in courses.results] == [str(course.pk)]
    assert courses.results[0].cefr_level == ""  # blank choice, typed as BlankEnum
    referral = typed(
        op("referrals", "referrals_create").sync_detailed(
            client=cm, body=m.ReferralInputRequest(person=mother.id, course=course.pk, goal=goal.id)
        ),
        m.ReferralOutput,
        201,
    )
    for step in ("sent", "accepted", "enrolled", "completed"):
        referral = typed(
            op("referrals", "referrals_transition_create").sync_detailed(
                referral.id, client=cm, body=m.ReferralTransitionInputRequest(to=m.ReferralStatusEnum(step))
            ),
            m.ReferralOutput,
        )
    assert [t.to_status.value for t in referral.transitions][-4:] == [
        "sent",
        "accepted",
        "enrolled",
        "completed",
    ]
    conflict = op("referrals", "referrals_transition_create").sync_detailed(
        referral.id, client=cm, body=m.ReferralTransitionInputRequest(to=m.ReferralStatusEnum.SENT)
    )
    assert typed(conflict, m.Error, 409).code
    referrals = typed(
        op("referrals", "referrals_list").sync_detailed(client=cm, family=family.id),
        m.PaginatedReferralOutputList,
    )
    assert referrals.count == 1

    # Consent, then a case conference with the jobcenter and a decision
    consent = typed(
        op("consents", "consents_create").sync_detailed(
            client=cm,
            body=m.ConsentInputRequest(
                family=family.id,
                person=mother.id,
                recipient=m.AgencyEnum.JOBCENTER,
                purpose="Abstimmung der Arbeitsvermittlung",
                given_on=today,
                members=[mother.id],
                data_categories=[m.SharedCategoryEnum.SOCIAL_BENEFITS, m.SharedCategoryEnum.LANGUAGE],
            ),
        ),
        m.ConsentOutput,
        201,
    )
    assert consent.valid_today is True and consent.has_signed_form is False
    assert [str(x) for x in consent.members] == [str(mother.id)]
    assert consent.data_categories == [m.SharedCategoryEnum.LANGUAGE, m.SharedCategoryEnum.SOCIAL_BENEFITS]
    conference = typed(
        op("conferences", "conferences_create").sync_detailed(
            client=cm,
            body=m.ConferenceInputRequest(
                family=family.id,
                scheduled_at=timezone.now(),
                format_=m.FormatEnum.IN_PERSON,
                agenda="Arbeitssuche",
                # her consent covers her data of these kinds only: the agenda says so
                agenda_members=[mother.id],
                agenda_categories=[m.SharedCategoryEnum.SOCIAL_BENEFITS],
                participants=[
                    m.ParticipantInputRequest(
                        kind=m.ParticipantKindEnum.INTERNAL, user=case_manager.pk, role="Fallführung"
                    ),
                ],
            ),
        ),
        m.ConferenceOutput,
        201,
    )
    typed(
        op("conferences", "conferences_participants_create").sync_detailed(
            conference.id,
            client=cm,
            body=m.ParticipantInputRequest(
                kind=m.ParticipantKindEnum.EXTERNAL,
                agency=m.AgencyEnum.JOBCENTER,
                reason="Arbeitsvermittlung",
                legal_basis="Einwilligung Art. 6(1)(a)",
            ),
        ),
        m.ParticipantOutput,
        201,
    )
    held = typed(
        op("conferences", "conferences_hold_create").sync_detailed(
            conference.id,
            client=cm,
            body=m.ConferenceHoldInputRequest(
                minutes="Bewerbungstraining vereinbart",
                decisions=[
                    m.DecisionInputRequest(field_of_action=language.id, description="Bewerbungstraining")
                ],
            ),
        ),
        m.ConferenceOutput,
    )
    assert len(held.decided_goals) == 1
    conferences = typed(
        op("conferences", "conferences_list").sync_detailed(client=cm), m.PaginatedConferenceOutputList
    )
    assert conferences.count == 1  # participants with and without an agency parse

    # A home visit
    typed(
        op("contacts", "contacts_create").sync_detailed(
            client=cm,
            body=m.ContactInputRequest(
                family=family.id,
                occurred_on=today,
                kind=m.ContactKindEnum.HOME_VISIT,
                initiated_by=m.InitiatedByEnum.FAMILY,
                duration_minutes=45,
                notes="Hausbesuch",
            ),
        ),
        m.ContactOutput,
        201,
    )
    typed(op("contacts", "contacts_list").sync_detailed(client=cm), m.PaginatedContactOutputList)

    # Closure
    closed = typed(
        op("families", "families_close_create").sync_detailed(
            family.id,
            client=cm,
            body=m.FamilyCloseInputRequest(
                outcome=m.ClosureOutcomeEnum.SELF_SUFFICIENT,
                benefit_status_at_closure=m.BenefitStatusEnum.NONE,
            ),
        ),
        m.FamilyOutput,
    )
    assert closed.status == m.FamilyStatusEnum.CLOSED
    after = op("goals", "goals_create").sync_detailed(
        client=cm, body=m.GoalInputRequest(family=family.id, field_of_action=language.id, description="x")
    )
    assert typed(after, m.Error, 409).code == "case_closed"

    # The supervisor's statistics (no personal data) and chart
    lead = login("lead")
    stats = op("stats", "stats_outcomes_retrieve").sync_detailed(
        client=lead, from_=today.replace(month=1, day=1), to=today
    )
    assert stats.status_code == 200 and stats.parsed is not None
    overview = op("case_overview", "case_overview_list").sync_detailed(client=lead, unassigned=False)
    assert typed(overview, m.PaginatedFamilyOverviewList).count == 1
    approvals = typed(
        op("plan_approvals", "plan_approvals_list").sync_detailed(client=lead),
        m.PaginatedPlanApprovalOutputList,
    )
    approved = op("plan_approvals", "plan_approvals_approve_create").sync_detailed(
        approvals.results[0].id, client=lead
    )
    assert typed(approved, m.PlanApprovalOutput).status == m.PlanVersionStatusEnum.APPROVED
    typed(op("dashboard", "dashboard_caseloads_retrieve").sync_detailed(client=lead), m.CaseloadCounts)
    chart = op("stats", "stats_outcomes_chart_svg_retrieve").sync_detailed(client=lead)
    assert chart.status_code == 200 and b"<svg" in chart.content

    # The DPO: the Art. 30 registry and an Art. 15 export
    dpo = login("dpo")
    registry = op("privacy", "privacy_registry_retrieve").sync_detailed(client=dpo)
    assert registry.status_code == 200 and registry.parsed is not None
    export = op("privacy", "privacy_subjects_export_retrieve").sync_detailed(str(mother.id), client=dpo)
    assert export.status_code == 200 and export.parsed is not None
    assert re.search(r"Amina", export.content.decode())
    events = op("audit", "audit_events_list").sync_detailed(client=dpo)
    assert events.status_code == 200 and events.parsed is not None and not isinstance(events.parsed, m.Error)

    # Errors are typed too
    missing = op("families", "families_retrieve").sync_detailed(
        "00000000-0000-0000-0000-000000000000", client=cm
    )
    assert typed(missing, m.Error, 404).code == "not_found"
