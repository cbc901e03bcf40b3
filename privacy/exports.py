"""Subject access export (Art. 15): everything held on a person, in one document.

Household-level records (the family's notes, contacts, conference minutes, family-wide
goals) can mention other members; they are included and flagged ``household_level`` so the
DPO can redact third parties before release (Art. 15(4)).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from privacy.registry import RECIPIENTS, Text, activities_by_code, controller_section

#: Activities under which a family member's data is processed.
SUBJECT_ACTIVITIES = (
    "case_management",
    "case_conferences",
    "course_referrals",
    "outcome_statistics",
    "audit_logging",
    "data_subject_rights",
)


#: Art. 15(1)(e)-(h) and 15(2): the statements every answer carries, in both languages.
RIGHTS: list[Text] = [
    {
        "de": "Berichtigung unrichtiger Daten (Art. 16 DSGVO); frühere Werte bleiben verschlüsselt nachgewiesen.",
        "en": "Rectification of inaccurate data (Art. 16 GDPR); previous values are kept, encrypted, as proof.",
    },
    {
        "de": "Löschung (Art. 17 DSGVO), soweit keine Aufbewahrungspflicht entgegensteht.",
        "en": "Erasure (Art. 17 GDPR) unless a duty to retain prevails.",
    },
    {
        "de": "Einschränkung der Verarbeitung (Art. 18 DSGVO).",
        "en": "Restriction of processing (Art. 18 GDPR).",
    },
    {
        "de": "Widerspruch gegen die Verarbeitung aus Gründen Ihrer besonderen Situation (Art. 21 DSGVO).",
        "en": "Objection to processing on grounds relating to your particular situation (Art. 21 GDPR).",
    },
    {
        "de": "Widerruf einer Einwilligung jederzeit mit Wirkung für die Zukunft (Art. 7 Abs. 3 DSGVO).",
        "en": "Withdrawal of consent at any time with effect for the future (Art. 7(3) GDPR).",
    },
]
COMPLAINT: Text = {
    "de": "Sie können sich bei der Datenschutz-Aufsichtsbehörde Ihres Landes beschweren (Art. 77 DSGVO), "
    "unbeschadet anderer Rechtsbehelfe.",
    "en": "You may lodge a complaint with the data protection supervisory authority of your federal state "
    "(Art. 77 GDPR), without prejudice to other remedies.",
}
SOURCE: Text = {
    "de": "Die Daten stammen von Ihnen und Ihrer Familie (Erstgespräch, Beratung); Angaben zu Kursen von "
    "den Trägern; Ergebnisse von Fallkonferenzen von den beteiligten Stellen im Rahmen Ihrer Einwilligung.",
    "en": "The data come from you and your family (intake, counselling); course details from the providers; "
    "results of case conferences from the agencies taking part within your consent.",
}
AUTOMATED_DECISIONS: Text = {
    "de": "Es findet keine automatisierte Entscheidungsfindung einschließlich Profiling statt (Art. 22 DSGVO).",
    "en": "There is no automated decision-making, including profiling (Art. 22 GDPR).",
}
TRANSFERS: Text = {
    "de": "Keine Übermittlung in Drittländer oder an internationale Organisationen; daher keine Garantien "
    "nach Art. 46 DSGVO erforderlich (Art. 15 Abs. 2 DSGVO).",
    "en": "No transfer to third countries or international organisations, so no Art. 46 safeguards are "
    "needed (Art. 15(2) GDPR).",
}
#: What stands in for household-level text in a copy for the subject (Art. 15(4)).
REDACTED: Text = {
    "de": "[geschwärzt: betrifft weitere Haushaltsmitglieder]",
    "en": "[redacted: concerns other household members]",
}


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _person(person: Any) -> dict[str, Any]:
    return {
        "id": str(person.pk),
        "role": person.role,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "date_of_birth": _iso(person.date_of_birth),
        "birth_year": person.birth_year,
        "sex": person.sex,
        "residence_status": person.residence_status,
        "country_of_origin": person.country_of_origin,
        "recorded_on": _iso(person.created_at),
        "anonymised_at": _iso(person.anonymised_at),
    }


def _held_records(person: Any, family: Any) -> Q:
    """Audit entries about any record held on the person: every declared family-owned model.

    A member's own records are found by their declared path to the person; household-level
    records (no person path) by their path to the family. Matched per model (content type
    and key), so small integer keys of one model never match entries of another.
    """
    from django.contrib.contenttypes.models import ContentType

    from casemgmt.models.base import family_owned_models

    condition = Q(pk__in=[])
    for model in family_owned_models():
        person_path: str = model.PERSON_PATH  # type: ignore[attr-defined]
        family_path: str = model.FAMILY_PATH  # type: ignore[attr-defined]
        rows = model._default_manager.filter(
            Q(**{person_path: person.pk}) if person_path else Q(**{family_path: family.pk})
        )
        condition |= Q(
            content_type=ContentType.objects.get_for_model(model),
            object_pk__in=[str(pk) for pk in rows.values_list("pk", flat=True)],
        )
    return condition


def _access_log(person: Any, family: Any, related_ids: list[str]) -> list[dict[str, Any]]:
    from casemgmt.models import Membership
    from privacy.models import AuditEntry
    from privacy.observed import ACTION_NAMES

    subject_ids = [str(person.pk), str(family.pk)]
    condition = Q(object_pk__in=subject_ids + related_ids) | _held_records(person, family)
    for subject_id in subject_ids:
        if connection.vendor == "postgresql":
            condition |= Q(object_ids__contains=[subject_id])
        else:
            condition |= Q(object_ids__icontains=f'"{subject_id}"')
    entries = list(AuditEntry.objects.filter(condition).order_by("timestamp", "id")[:5000])
    roles = {
        m.user_id: (m.role, m.organisation.name)
        for m in Membership.objects.filter(
            user_id__in={e.actor_id for e in entries if e.actor_id}, organisation_id=family.organisation_id
        ).select_related("organisation")
    }
    log = []
    for entry in entries:
        role, organisation = roles.get(entry.actor_id, (None, None))
        log.append(
            {
                "timestamp": _iso(entry.timestamp),
                "action": ACTION_NAMES.get(entry.action, str(entry.action)),
                "activity": entry.activity,
                # Staff are named by role and organisation, not by name: the subject learns which
                # office accessed their data, the DPO can resolve the person behind it.
                "by_role": role or ("system" if entry.actor_id is None else "other staff"),
                "by_organisation": organisation,
                "what": entry.object_repr,
            }
        )
    return log


def _recipients(person: Any, family: Any, referrals: list[Any]) -> list[dict[str, Any]]:
    """Art. 15(1)(c): who received the person's data, by name (agencies, providers)."""
    from casemgmt.models import ConferenceParticipant
    from casemgmt.models.casework import Agency

    found: list[dict[str, Any]] = []
    participants = ConferenceParticipant.objects.filter(
        conference__family=family, conference__status="held", kind="external"
    ).select_related("conference", "consent")
    for p in participants:
        agency_label = str(Agency(p.agency).label) if p.agency else ""
        name = (p.consent.recipient_name if p.consent else "") or agency_label
        found.append(
            {"name": name, "kind": p.agency, "via": "case_conference", "on": _iso(p.conference.held_at)}
        )
    for r in referrals:
        if r.status != "draft":
            found.append(
                {
                    "name": r.provider.name,
                    "kind": "course_provider",
                    "via": "referral",
                    "on": _iso(r.created_at),
                }
            )
    return found


def subject_export(person: Any, lang: str = "en", redact: bool = False) -> dict[str, Any]:
    """The Art. 15 export of ``person`` as plain data (JSON and HTML are made from it).

    ``redact``: the copy handed to the person (Art. 15(3)/(4)); household-level free text,
    which may be about other members, is replaced by a marker.
    """
    from casemgmt.models import CaseConference, ConferenceParticipant, Consent, Contact, Goal, Referral
    from privacy.classification import SPECIAL_CATEGORIES, category_label
    from privacy.models import Objection, Rectification, Restriction

    family = person.family
    goals = list(
        Goal.objects.filter(Q(person=person) | Q(family=family, person__isnull=True))
        .select_related("field_of_action")
        .prefetch_related("reviews")
    )
    referrals = list(
        Referral.objects.filter(person=person)
        .select_related("course", "provider")
        .prefetch_related("transitions")
    )
    consents = list(Consent.objects.filter(Q(person=person) | Q(family=family, person__isnull=True)))
    conferences = list(
        CaseConference.objects.filter(family=family)
        .filter(Q(participants__person=person) | Q(decided_goals__person=person))
        .distinct()
        .prefetch_related("participants")
    )
    contacts = list(Contact.objects.filter(family=family))
    from casemgmt.models import Document, Handover

    # Documents as a list (the files themselves on request, through the download endpoint).
    documents = list(
        Document.objects.filter(Q(person=person) | Q(family=family, person__isnull=True)).filter(
            anonymised_at__isnull=True
        )
    )
    handovers = list(
        Handover.objects.filter(family=family).select_related("from_organisation", "to_organisation")
    )
    related: list[Any] = [*goals, *referrals, *consents, *conferences, *documents]
    related_ids = [str(o.pk) for o in related]
    disclosed = ConferenceParticipant.objects.filter(
        conference__family=family, conference__status="held", kind="external"
    ).values_list("agency", "conference__held_at")
    activities = activities_by_code()
    restrictions = list(Restriction.objects.filter(person=person))
    categories: list[Any] = []
    for code in SUBJECT_ACTIVITIES:
        categories.extend(c for c in activities[code].data_categories() if c not in categories)
    hidden = REDACTED[lang]

    def household(text: str) -> str:
        return hidden if redact and text else text

    return {
        "generated": timezone.now().isoformat(timespec="seconds"),
        "language": lang,
        "redacted": redact,
        "controller": controller_section(family.organisation, lang),
        "subject": _person(person),
        "family": {
            "reference": family.reference,
            "status": family.status,
            "opened_on": _iso(family.opened_on),
            "closed_on": _iso(family.closed_on),
            "family_name": family.family_name,
            "address": family.address,
            "phone": family.phone,
            "preferred_languages": family.preferred_languages,
            "interpreter_needed": family.interpreter_needed,
            "benefit_status_at_intake": family.benefit_status_at_intake,
            "benefit_status_at_closure": family.benefit_status_at_closure,
            "closure_outcome": family.closure_outcome,
            "household_notes": {"household_level": True, "text": household(family.notes)},
        },
        "goals": [
            {
                "id": str(g.pk),
                "household_level": g.person_id is None,
                "field_of_action": g.field_of_action.code,
                "field_of_action_label": (g.field_of_action.name_de if lang == "de" else "")
                or g.field_of_action.name,
                "description": household(g.description) if g.person_id is None else g.description,
                "agreed_on": _iso(g.agreed_on),
                "target_date": _iso(g.target_date),
                "status": g.status,
                "achieved_at": _iso(g.achieved_at),
                "reviews": [
                    {"reviewed_on": _iso(r.reviewed_on), "status": r.status, "note": r.note}
                    for r in g.reviews.all()
                ],
            }
            for g in goals
        ],
        "referrals": [
            {
                "id": str(r.pk),
                "course": r.course.title if r.course else None,
                "provider": r.provider.name,
                "status": r.status,
                "note": r.note,
                "history": [{"to": t.to_status, "at": _iso(t.at)} for t in r.transitions.all()],
            }
            for r in referrals
        ],
        "consents": [
            {
                "id": str(c.pk),
                "household_level": c.person_id is None,
                "recipient": c.recipient,
                "recipient_name": c.recipient_name,
                "purpose": c.purpose,
                "given_on": _iso(c.given_on),
                "valid_until": _iso(c.valid_until),
                "withdrawn_on": _iso(c.withdrawn_on),
            }
            for c in consents
        ],
        "conferences": [
            {
                "id": str(k.pk),
                "household_level": True,
                "scheduled_at": _iso(k.scheduled_at),
                "held_at": _iso(k.held_at),
                "format": k.format,
                "status": k.status,
                "agenda": household(k.agenda),
                "minutes": household(k.minutes),
                "participants": [
                    {"kind": p.kind, "agency": p.agency, "role": p.role} for p in k.participants.all()
                ],
            }
            for k in conferences
        ],
        "contacts": [
            {
                "household_level": True,
                "occurred_on": _iso(c.occurred_on),
                "kind": c.kind,
                "initiated_by": c.initiated_by,
                "duration_minutes": c.duration_minutes,
                "notes": household(c.notes),
            }
            for c in contacts
        ],
        "documents": [
            {
                "id": str(d.pk),
                "attached_to": d.target_kind,
                "filename": d.filename,
                "content_type": d.content_type,
                "size": d.size,
                "recorded_on": _iso(d.created_at),
            }
            for d in documents
        ],
        "handovers": [
            {
                "from": h.from_organisation.name,
                "to": h.to_organisation.name,
                "status": h.effective_status,
                "legal_basis": h.legal_basis,
                "offered_on": _iso(h.created_at),
                "decided_on": _iso(h.decided_at),
            }
            for h in handovers
        ],
        "restrictions": [
            {"restricted_at": _iso(r.restricted_at), "lifted_at": _iso(r.lifted_at)} for r in restrictions
        ],
        # Art. 18 / Art. 21 status at the time of the answer.
        "status": {
            "restricted": any(r.lifted_at is None for r in restrictions),
            "objections": [
                {
                    "received_at": _iso(o.received_at),
                    "decision": o.decision,
                    "decision_reason": o.decision_reason,
                    "decided_at": _iso(o.decided_at),
                }
                for o in Objection.objects.filter(person=person)
            ],
        },
        # Art. 16: what was corrected, with the previous value.
        "rectifications": [
            {
                "field": r.field,
                "previous_value": r.previous_value,
                "reason": r.reason,
                "rectified_at": _iso(r.rectified_at),
            }
            for r in Rectification.objects.filter(person=person)
        ],
        # Art. 15(1)(b): the categories of personal data concerned.
        "categories": [
            {"code": c.value, "label": category_label(c, lang), "special": c in SPECIAL_CATEGORIES}
            for c in categories
        ],
        "recipients": _recipients(person, family, referrals),
        "rights": [r[lang] for r in RIGHTS],
        "complaint": COMPLAINT[lang],
        "source": SOURCE[lang],
        "automated_decisions": AUTOMATED_DECISIONS[lang],
        "third_country_transfers": TRANSFERS[lang],
        "processing": [
            {
                "code": code,
                "name": activities[code].name[lang],
                "purpose": activities[code].purpose[lang],
                "legal_basis": activities[code].legal_basis[lang],
                "categories": [category_label(c, lang) for c in activities[code].data_categories()],
                "recipients": [RECIPIENTS[r][lang] for r in activities[code].recipients],
                "retention": activities[code].retention[lang],
            }
            for code in SUBJECT_ACTIVITIES
        ],
        "disclosed_to": [{"agency": agency, "on": _iso(held_at)} for agency, held_at in disclosed],
        "access_log": _access_log(person, family, related_ids),
    }
