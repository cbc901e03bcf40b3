"""Reproducible data generator for the benchmarks (state scale or a quick size).

    python -m bench.generate --families 100000 --seed 42

Writes through the real models with bulk inserts: every encrypted field is encrypted and
every blind index computed exactly as in normal writes (Django calls the fields'
``pre_save``/``get_db_prep_save`` in ``bulk_create``), grants are real guardian rows, and
each batch leaves one audit entry per model (bulk writes are audited by hand).
Per family: about 4 members, 10 goals, 5 referrals and 2 contacts.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
from typing import Any

PASSWORD = "bench-password-2026"  # noqa: S105 - benchmark accounts on a throw-away database


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casemgmt.settings")
    os.environ.setdefault("BENCH", "1")
    import django

    django.setup()


def organisations(n_orgs: int) -> list[Any]:
    from casemgmt.models import FamilyReferenceCounter, Organisation

    districts_n = max(1, n_orgs // 10)
    orgs = []
    for d in range(districts_n):
        district = Organisation.objects.create(
            name=f"Landkreis Bench {d:03d}", kind="district", reference_prefix=f"L{d:03d}"
        )
        orgs.append(district)
        for t in range(9):
            if len(orgs) >= n_orgs:
                break
            orgs.append(
                Organisation.objects.create(
                    name=f"Gemeinde Bench {d:03d}-{t}",
                    kind="town",
                    parent=district,
                    reference_prefix=f"G{d:03d}{t}",
                )
            )
    FamilyReferenceCounter.objects.bulk_create(
        [FamilyReferenceCounter(organisation=o, year=2026, last_number=0) for o in orgs]
    )
    return orgs


def staff(orgs: list[Any]) -> tuple[list[Any], Any]:
    """One case manager per organisation (with a caseload group) and one supervisor of every district."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from casemgmt.models import Caseload, Membership, User

    hashed = make_password(PASSWORD)
    managers = []
    for i, org in enumerate(orgs):
        user = User.objects.create(username=f"bench_cm{i:03d}", password=hashed)
        Membership.objects.create(user=user, organisation=org, role="case_manager")
        group = Group.objects.create(name=f"caseload:{user.pk}")
        Caseload.objects.create(owner=user, group=group)
        user.groups.add(group)
        managers.append(user)
    supervisor = User.objects.create(username="bench_supervisor", password=hashed)
    for org in orgs:
        if org.parent_id is None:
            Membership.objects.create(user=supervisor, organisation=org, role="supervisor")
    return managers, supervisor


def catalogue(orgs: list[Any]) -> dict[Any, list[Any]]:
    from casemgmt.models import Course, Provider

    courses: dict[Any, list[Any]] = {}
    start = datetime.date(2025, 1, 1)
    types = ("integration_course", "language_course", "vocational", "counselling", "mentoring")
    for org in orgs:
        if org.parent_id is not None:
            continue
        provider = Provider.objects.create(organisation=org, name=f"VHS {org.name}")
        courses[org.pk] = [
            Course.objects.create(
                provider=provider,
                organisation=org,
                title=f"Kurs {i}",
                course_type=t,
                cefr_level="B1" if t in ("integration_course", "language_course") else "",
                starts_on=start,
                ends_on=start + datetime.timedelta(days=700),
                capacity=10**7,
            )
            for i, t in enumerate(types)
        ]
    return courses


def generate(families: int, seed: int, batch: int = 2000) -> None:
    from django.contrib.auth.models import Permission
    from django.db import transaction

    from bench.models import PlainFamily
    from casemgmt.demo import ORIGINS, RESIDENCE_BY_COUNTRY, STREETS
    from casemgmt.models import (
        RESIDENCE_CATEGORY_OF,
        Contact,
        Family,
        FamilyGroupObjectPermission,
        FamilyReferenceCounter,
        FieldOfAction,
        Goal,
        Person,
        PersonSearchTerm,
        Referral,
        ReferralTransition,
    )
    from casemgmt.signals import refresh_last_contact
    from privacy.audit import log_bulk
    from privacy.models import AuditEntry

    if Family.objects.exists():
        print(f"database already holds {Family.objects.count()} families: not generating", file=sys.stderr)
        return
    rng = random.Random(seed)
    n_orgs = 200 if families >= 50_000 else 20
    started = time.monotonic()
    orgs = organisations(n_orgs)
    managers, _ = staff(orgs)
    courses = catalogue(orgs)
    fields = list(FieldOfAction.objects.filter(organisation__isnull=True))
    perms = list(
        Permission.objects.filter(
            content_type__app_label="casemgmt",
            content_type__model="family",
            codename__in=("view_family", "change_family"),
        )
    )
    groups = {m.pk: m.caseload.group_id for m in managers}
    counters = {o.pk: 0 for o in orgs}
    today = datetime.date(2026, 11, 1)
    statuses = ("open", "in_progress", "achieved", "achieved", "partly_achieved", "not_achieved", "cancelled")
    referral_statuses = (
        "draft",
        "sent",
        "accepted",
        "declined",
        "enrolled",
        "completed",
        "dropped_out",
        "cancelled",
    )
    made = 0
    while made < families:
        size = min(batch, families - made)
        fam_objs, plain, persons, goals, referrals, contacts, grants = [], [], [], [], [], [], []
        transitions: list[ReferralTransition] = []
        for _ in range(size):
            index = made + len(fam_objs)
            org = orgs[index % len(orgs)]
            manager = managers[index % len(orgs)]
            country, languages, surnames, female, male = rng.choice(ORIGINS)
            surname = rng.choice(surnames)
            opened = today - datetime.timedelta(days=rng.randint(0, 1400))
            counters[org.pk] += 1
            closed = rng.random() < 0.2
            values = {
                "reference": f"{org.reference_prefix}-{opened.year}-{counters[org.pk]:06d}",
                "organisation": org,
                "status": "closed" if closed else rng.choice(("intake", "active", "active")),
                "case_manager": manager,
                "opened_on": opened,
                "closed_on": min(today, opened + datetime.timedelta(days=rng.randint(30, 600)))
                if closed
                else None,
                "benefit_status_at_intake": rng.choice(("sgb_ii", "sgb_ii", "asylblg", "none")),
                "benefit_status_at_closure": rng.choice(("none", "sgb_ii")) if closed else "",
                "closure_outcome": rng.choice(("self_sufficient", "moved_away", "withdrew"))
                if closed
                else "",
                "preferred_languages": list(languages),
                "interpreter_needed": rng.random() < 0.5,
                "family_name": surname,
                "address": f"{rng.choice(STREETS)} {rng.randint(1, 150)}",
                "phone": f"+49 15{rng.randint(0, 9)} {rng.randint(1000000, 9999999)}",
                "notes": "Erstgespräch geführt; Unterstützung bei Sprachkurs und Kita gewünscht.",
            }
            family = Family(created_by=manager, **values)
            fam_objs.append(family)
            plain.append(PlainFamily(id=family.id, **values))
            grants.extend(
                FamilyGroupObjectPermission(group_id=groups[manager.pk], permission=p, content_object=family)
                for p in perms
            )
            members = []
            for m in range(rng.randint(1, 7)):
                sex = rng.choice(("female", "male"))
                born = datetime.date(rng.randint(1960, 2024), rng.randint(1, 12), rng.randint(1, 28))
                person = Person(
                    family=family,
                    role="parent" if m < 2 else "child",
                    given_name=rng.choice(female if sex == "female" else male),
                    family_name=surname,
                    date_of_birth=born,
                    birth_year=born.year,
                    sex=sex,
                    residence_status=rng.choice(RESIDENCE_BY_COUNTRY[country]),
                    # A permit or Duldung expiry for about a third (a deadline on the dashboard).
                    residence_valid_until=today + datetime.timedelta(days=rng.randint(-60, 720))
                    if rng.random() < 0.33
                    else None,
                    country_of_origin=country,
                    created_by=manager,
                )
                # the clear coarse category beside the encrypted status, as the person service derives it
                person.residence_category = RESIDENCE_CATEGORY_OF.get(person.residence_status, "unknown")
                members.append(person)
            persons.extend(members)
            district = org.parent_id or org.pk
            for _g in range(10):
                status = rng.choice(statuses)
                agreed = opened + datetime.timedelta(days=rng.randint(0, 200))
                goals.append(
                    Goal(
                        family=family,
                        person=rng.choice([*members, None]),
                        field_of_action=rng.choice(fields),
                        description="Ziel vereinbart: nächster Schritt im Förderkonzept",
                        agreed_on=agreed,
                        target_date=agreed + datetime.timedelta(days=rng.randint(30, 365)),
                        status=status,
                        achieved_at=agreed + datetime.timedelta(days=rng.randint(10, 300))
                        if status in ("achieved", "partly_achieved")
                        else None,
                        created_by=manager,
                    )
                )
            for _r in range(5):
                course = rng.choice(courses[district])
                status = rng.choice(referral_statuses)
                # Past a draft (and not cancelled as one), a referral was sent once: its
                # transition, and the time the dashboard's response deadline counts from.
                sent_at = (
                    None
                    if status in ("draft", "cancelled")
                    else datetime.datetime.combine(
                        today - datetime.timedelta(days=rng.randint(0, 120)), datetime.time(10), datetime.UTC
                    )
                )
                referral = Referral(
                    family=family,
                    person=rng.choice(members),
                    course=course,
                    provider_id=course.provider_id,
                    status=status,
                    sent_at=sent_at,
                    created_by=manager,
                )
                referrals.append(referral)
                if sent_at is not None:
                    transitions.append(
                        ReferralTransition(
                            referral=referral, from_status="draft", to_status="sent", at=sent_at
                        )
                    )
            for _c in range(2):
                contacts.append(
                    Contact(
                        family=family,
                        occurred_on=opened + datetime.timedelta(days=rng.randint(0, 90)),
                        kind=rng.choice(("home_visit", "office", "phone")),
                        initiated_by=rng.choice(("case_manager", "family")),
                        duration_minutes=rng.choice((15, 30, 60)),
                        notes="Beratung",
                        created_by=manager,
                    )
                )
        with transaction.atomic():
            for model, objs in (
                (Family, fam_objs),
                (PlainFamily, plain),
                (FamilyGroupObjectPermission, grants),
                (Person, persons),
                (PersonSearchTerm, [t for p in persons for t in PersonSearchTerm.terms_for(p)]),
                (Goal, goals),
                (Referral, referrals),
                (ReferralTransition, transitions),
                (Contact, contacts),
            ):
                model.objects.bulk_create(objs, batch_size=1000)
                if model is Contact:  # bulk_create sends no post_save: the derived column by hand
                    refresh_last_contact([f.pk for f in fam_objs])
                if model not in (PlainFamily, PersonSearchTerm):
                    log_bulk(
                        model=model,
                        action=AuditEntry.Action.CREATE,
                        object_ids=[],
                        note=f"bench: {len(objs)} rows",
                    )
        made += size
        rate = made / max(1e-9, time.monotonic() - started)
        print(f"{made}/{families} families ({rate:.0f}/s)", file=sys.stderr, flush=True)
    for org_id, n in counters.items():
        FamilyReferenceCounter.objects.filter(organisation_id=org_id, year=2026).update(last_number=n)
    print(f"generated {families} families in {time.monotonic() - started:.0f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    setup()
    from privacy.audit import acting_as_system

    with acting_as_system(process="bench_generate", activity="case_management"):
        generate(args.families, args.seed)


if __name__ == "__main__":
    main()
