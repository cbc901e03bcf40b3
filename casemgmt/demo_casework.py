"""Demo case work: goals, reviews, referrals in every state, consents, conferences, contacts,
closed families. Written through the services, so the demo obeys every rule."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from casemgmt.models import Course, Family, FieldOfAction, IntegrationPlan, Organisation, Referral, Role, User
from casemgmt.services.catalogue import course_create, provider_create
from casemgmt.services.conferences import conference_create, conference_hold
from casemgmt.services.consents import consent_create
from casemgmt.services.contacts import contact_create
from casemgmt.services.families import family_close
from casemgmt.services.goals import goal_create, goal_review_add
from casemgmt.services.persons import person_update
from casemgmt.services.plans import (
    assessment_create,
    plan_create,
    plan_version_approve,
    plan_version_create,
    plan_version_record_agreement,
    plan_version_submit,
)
from casemgmt.services.referrals import referral_create, referral_transition

GOAL_TEXTS = {
    "language": "Deutschkurs bis Niveau B1 abschließen",
    "education": "Regelmäßiger Schulbesuch und Hausaufgabenhilfe",
    "work": "Bewerbungen für eine Ausbildung schreiben",
    "recognition": "Anerkennung des Berufsabschlusses beantragen",
    "health": "Kinderarzt finden und U-Untersuchungen nachholen",
    "housing": "Größere Wohnung suchen",
    "parenting": "Elternkurs besuchen",
    "participation": "Mitgliedschaft im Sportverein",
    "residence": "Verlängerung der Aufenthaltserlaubnis vorbereiten",
    "finances": "Schuldnerberatung wahrnehmen",
}
#: Paths through the referral lifecycle; together they reach every state.
REFERRAL_PATHS = (
    (),
    ("sent",),
    ("sent", "accepted"),
    ("sent", "declined"),
    ("sent", "accepted", "enrolled"),
    ("sent", "accepted", "enrolled", "completed"),
    ("sent", "accepted", "enrolled", "dropped_out"),
    ("cancelled",),
)


def seed_catalogue(organisation: Organisation, admin: User) -> list[Course]:
    """A small catalogue for a district: two providers, a handful of courses."""
    existing = list(Course.objects.filter(organisation=organisation))
    if existing:
        return existing
    today = timezone.localdate()
    vhs = provider_create(
        organisation=organisation,
        name="Volkshochschule Musterland",
        acting_user=admin,
        address="Schulstraße 4, Musterdorf",
    )
    caritas = provider_create(organisation=organisation, name="Caritasverband Musterland", acting_user=admin)
    specs = [
        (vhs, "Integrationskurs A2", "integration_course", "A2", 25),
        (vhs, "Integrationskurs B1", "integration_course", "B1", 25),
        (vhs, "Berufssprachkurs B2", "language_course", "B2", 18),
        (caritas, "Elternkurs Starke Eltern", "parenting", "", 12),
        (caritas, "Migrationsberatung", "counselling", "", 60),
        (caritas, "Mentoring Ausbildung", "mentoring", "", 15),
    ]
    return [
        course_create(
            provider=p,
            title=t,
            course_type=ct,
            cefr_level=lvl,
            capacity=cap,
            acting_user=admin,
            starts_on=today - datetime.timedelta(days=120),
            ends_on=today + datetime.timedelta(days=240),
            place="Musterdorf",
        )
        for p, t, ct, lvl, cap in specs
    ]


def seed_family_casework(
    family: Family, user: User, courses: list[Course], rng: random.Random, index: int
) -> None:
    """Goals, reviews, referrals, consents, a conference and contacts for one family."""
    members = list(family.members.all())
    if not members:
        return
    fields = list(FieldOfAction.objects.filter(organisation__isnull=True))
    today = timezone.localdate()
    start = max(family.opened_on, today - datetime.timedelta(days=365))
    # Every second family has an integration plan (issue 19): its goals link to it, each
    # field gets a baseline and a follow-up assessment, a version is submitted (and approved
    # where the demo supervisor works) and the family's agreement is recorded.
    plan = (
        plan_create(family=family, review_on=today + datetime.timedelta(days=7 + index), acting_user=user)
        if index % 2 == 0
        else None
    )
    chosen = rng.sample(fields, k=rng.randint(1, 3))
    for field in chosen:
        goal = goal_create(
            plan=plan,
            family=family,
            person=rng.choice(members),
            field_of_action=field,
            description=GOAL_TEXTS.get(field.code, "Ziel"),
            agreed_on=start,
            target_date=start + datetime.timedelta(days=rng.randint(60, 300)),
            acting_user=user,
        )
        if rng.random() < 0.6:
            status = rng.choice(("in_progress", "achieved", "partly_achieved", "not_achieved", "cancelled"))
            goal_review_add(
                goal=goal,
                status=status,
                note="Gespräch zum Stand",
                acting_user=user,
                reviewed_on=min(today, start + datetime.timedelta(days=rng.randint(10, 200))),
            )
    if plan is not None:
        seed_plan(plan, members, chosen, user, rng, start)
    # Per person: languages and interpreter need; a residence permit running out soon (a deadline).
    person_update(
        person=members[0],
        preferred_languages=family.preferred_languages,
        interpreter_needed=family.interpreter_needed,
        residence_valid_until=today + datetime.timedelta(days=10 + 15 * index) if index % 3 == 0 else None,
        acting_user=user,
    )
    for step, path in enumerate(REFERRAL_PATHS if index == 0 else rng.sample(REFERRAL_PATHS, k=2)):
        course = courses[(index + step) % len(courses)]
        if (
            Referral.objects.filter(course=course, status__in=Referral.SEAT_STATUSES).count()
            >= course.capacity
        ):
            continue
        referral = referral_create(person=rng.choice(members), course=course, acting_user=user)
        for to in path:
            referral_transition(referral=referral, to=to, acting_user=user)
    for _ in range(rng.randint(1, 4)):
        contact_create(
            family=family,
            occurred_on=start + datetime.timedelta(days=rng.randint(0, max(0, (today - start).days))),
            kind=rng.choice(("home_visit", "office", "phone", "video", "accompaniment")),
            initiated_by=rng.choice(("case_manager", "case_manager", "family")),
            duration_minutes=rng.choice((15, 30, 45, 60, 90)),
            interpreter_used=family.interpreter_needed and rng.random() < 0.8,
            notes="Beratungsgespräch",
            acting_user=user,
        )
    if index % 4 == 0:
        consent_create(
            family=family,
            person=members[0],
            recipient="jobcenter",
            recipient_name="Jobcenter Musterland",
            purpose="Abstimmung in der Fallkonferenz",
            given_on=start,
            # Scoped: her own data, and only what the jobcenter needs for her integration into work.
            members=[members[0]],
            data_categories=["identification", "language", "social_benefits", "case_administration"],
            acting_user=user,
        )
        conference = conference_create(
            family=family,
            acting_user=user,
            format="in_person",
            agenda="Sprachkurs, Arbeit, Kinderbetreuung",
            agenda_members=[members[0]],
            agenda_categories=["language", "social_benefits"],
            scheduled_at=timezone.now() - datetime.timedelta(days=7 + index),
            participants=[
                {"kind": "internal", "user": user, "role": "Fallverantwortung"},
                {
                    "kind": "external",
                    "agency": "jobcenter",
                    "name": "Frau Jansen",
                    "role": "Arbeitsvermittlung",
                    "reason": "Eingliederung in Arbeit",
                    "legal_basis": "Einwilligung (Art. 6(1)(a) DSGVO, § 67b SGB X)",
                },
                {"kind": "family", "person": members[0]},
            ],
        )
        language = next(f for f in fields if f.code == "language")
        conference_hold(
            conference=conference,
            acting_user=user,
            minutes="Vereinbarungen getroffen.",
            held_at=conference.scheduled_at,
            decisions=[
                {
                    "field_of_action": language,
                    "person": members[0],
                    "description": "Anmeldung zum Integrationskurs",
                }
            ],
        )


def seed_plan(
    plan: IntegrationPlan,
    members: list[Any],
    fields: list[FieldOfAction],
    user: User,
    rng: random.Random,
    start: datetime.date,
) -> None:
    """Assessments (baseline at intake, a follow-up), a submitted version, the family's agreement."""
    today = timezone.localdate()
    for field in fields:
        person = rng.choice(members)
        baseline = rng.randint(1, 3)
        assessment_create(
            family=plan.family,
            person=person,
            field_of_action=field,
            kind="baseline",
            score=baseline,
            assessed_on=start,
            notes="Ersteinschätzung im Aufnahmegespräch",
            acting_user=user,
        )
        assessment_create(
            family=plan.family,
            person=person,
            field_of_action=field,
            kind="follow_up",
            score=min(5, max(1, baseline + rng.choice((-1, 0, 1, 1, 2)))),
            assessed_on=min(today, start + datetime.timedelta(days=rng.randint(60, 200))),
            notes="Folgeeinschätzung",
            acting_user=user,
        )
    version = plan_version_submit(
        version=plan_version_create(
            plan=plan, summary="Förderplan: Sprache, Arbeit, Schule", acting_user=user
        ),
        acting_user=user,
    )
    supervisor = User.objects.filter(
        memberships__organisation=plan.family.organisation, memberships__role=Role.SUPERVISOR
    ).first()
    if supervisor is not None:
        version = plan_version_approve(version=version, acting_user=supervisor)
    plan_version_record_agreement(
        version=version, agreed_on=today, agreed_by_person=members[0], acting_user=user
    )


def close_some(families: list[Family], user: User, rng: random.Random) -> None:
    """Close a few families with realistic outcomes, after finishing their referrals."""
    # Never the first family: it carries a referral in every state of the lifecycle.
    count = min(3, max(1, len(families) // 8))
    for family in families[1:][-count:]:
        for referral in family.referrals.filter(status__in=Referral.OPEN_STATUSES):
            referral_transition(referral=referral, to="cancelled", acting_user=user)
        family_close(
            family=family,
            acting_user=user,
            outcome=rng.choice(("self_sufficient", "goals_achieved", "moved_away", "withdrew")),
            benefit_status_at_closure=rng.choice(("none", "none", "sgb_ii")),
        )
