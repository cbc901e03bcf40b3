"""Subject access export (Art. 15): everything held on a person, in one document.

Household-level records (the family's notes, contacts, conference minutes, family-wide
goals) can mention other members; they are included and flagged ``household_level`` so the
DPO can redact third parties before release (Art. 15(4)).
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from casemgmt.models.base import ExportContext, SubjectExport
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


def _recipients(person: Any, family: Any) -> list[dict[str, Any]]:
    """Art. 15(1)(c): who received the person's data, by name (agencies, providers)."""
    from casemgmt.models import ConferenceParticipant, Referral
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
    # Sent referrals only: one cancelled as a draft never reached the provider. A referral past
    # "sent" counts even without a send time (one older than the transition records).
    sent = Q(sent_at__isnull=False) | ~Q(status__in=("draft", "cancelled"))
    for r in Referral.objects.filter(sent, person=person).select_related("provider"):
        found.append(
            {
                "name": r.provider.name,
                "kind": "course_provider",
                "via": "referral",
                "on": _iso(r.sent_at or r.created_at),  # when the provider got the data
            }
        )
    return found


# --- the records held on the person, from the models' declarations (SubjectExport)


def export_declarations() -> list[tuple[type[Model], SubjectExport]]:
    """Every family-owned model that declares how it appears in the export, in model order."""
    from casemgmt.models.base import family_owned_models

    declared = []
    for model in family_owned_models():
        spec: SubjectExport | None = getattr(model, "SUBJECT_EXPORT", None)
        if spec is not None:
            declared.append((model, spec))
    return declared


def _resolve(obj: Any, path: str) -> Any:
    """Follow an attribute path (dots or ORM ``__``); a missing relation gives None."""
    value = obj
    for part in path.replace("__", ".").split("."):
        if value is None:
            return None
        value = getattr(value, part, None)
    return value


def _related(model: type[Model], spec: SubjectExport) -> list[str]:
    """Foreign keys the fields read through, fetched with the rows (one query per section)."""
    names = []
    for path in spec.fields.values():
        head = path.split(".", 1)[0] if isinstance(path, str) and "." in path else ""
        if head:
            field = model._meta.get_field(head)
            if field.many_to_one or field.one_to_one:
                names.append(head)
    return names


def _row(obj: Any, model: type[Model], spec: SubjectExport, context: ExportContext) -> dict[str, Any]:
    person_path: str = getattr(model, "PERSON_PATH", "")
    household = not person_path or _resolve(obj, person_path) is None
    row: dict[str, Any] = {}
    if spec.with_id:
        row["id"] = str(obj.pk)
    if spec.household_flag:
        row["household_level"] = household
    for key, path in spec.fields.items():
        value = path(obj, context) if callable(path) else _iso(_resolve(obj, path))
        if household and key in spec.household_text and isinstance(value, str):
            value = context.household(value)
        row[key] = value
    return row


def _rows_of(model: type[Model], spec: SubjectExport, person: Any, family: Any) -> QuerySet[Any]:
    """The rows that concern the person: their own, and the household's without a person."""
    person_path: str = getattr(model, "PERSON_PATH", "")
    family_path: str = model.FAMILY_PATH  # type: ignore[attr-defined]
    if person_path:
        condition = Q(**{person_path: person.pk}) | Q(
            **{family_path: family.pk, f"{person_path}__isnull": True}
        )
    else:
        condition = Q(**{family_path: family.pk})
    for path in spec.covers:
        # a subquery, not a join: the row comes once however many members it covers
        about = model._default_manager.filter(**{family_path: family.pk, path: person.pk}).values("pk")
        condition |= Q(pk__in=about)
    rows = model._default_manager.filter(condition, **spec.where)
    if spec.concerns:
        concerned = Q(pk__in=[])
        for path in spec.concerns:
            concerned |= Q(**{path: person.pk})
        rows = rows.filter(concerned).distinct()
    return rows.select_related(*_related(model, spec))


def held_records(person: Any, context: ExportContext) -> tuple[dict[str, Any], list[str]]:
    """Every declared record held on ``person``, by section; and the ids of the rows shown.

    Child records (a goal's reviews) are listed inside their parent's rows, fetched in one
    query per child model.
    """
    family = person.family
    declared = export_declarations()
    sections: dict[str, Any] = {}
    ids: list[str] = []
    rows_by_section: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    for model, spec in declared:
        if spec.within:
            continue
        objects = list(_rows_of(model, spec, person, family))
        rows = [(obj, _row(obj, model, spec, context)) for obj in objects]
        rows_by_section[spec.section] = rows
        ids.extend(str(obj.pk) for obj in objects)
        if spec.single:
            sections[spec.section] = rows[0][1] if rows else None
        else:
            sections[spec.section] = [row for _, row in rows]
    for model, spec in declared:
        if not spec.within:
            continue
        parents = rows_by_section.get(spec.within, [])
        children: dict[Any, list[dict[str, Any]]] = {}
        lookup = {f"{spec.parent}__in": [obj.pk for obj, _ in parents]}
        # the parent comes along: a child's person (household or not) is read through it
        query = model._default_manager.filter(**lookup, **spec.where)
        for child in query.select_related(spec.parent, *_related(model, spec)):
            children.setdefault(getattr(child, f"{spec.parent}_id"), []).append(
                _row(child, model, spec, context)
            )
        for obj, row in parents:
            row[spec.section] = children.get(obj.pk, [])
    return sections, ids


def _nest(data: dict[str, Any], sections: dict[str, Any]) -> None:
    """Put each section at its key; a dotted key ("status.objections") goes into a nested dict."""
    for key, value in sections.items():
        target = data
        *outer, last = key.split(".")
        for part in outer:
            target = target.setdefault(part, {})
        target[last] = value


def subject_export(person: Any, lang: str = "en", redact: bool = False) -> dict[str, Any]:
    """The Art. 15 export of ``person`` as plain data (JSON and HTML are made from it).

    The records come from the models' ``SUBJECT_EXPORT`` declarations (``held_records``), so
    a new family-owned record is exported once it declares itself. ``redact``: the copy
    handed to the person (Art. 15(3)/(4)); household-level free text, which may be about
    other members, is replaced by a marker.
    """
    from casemgmt.models import ConferenceParticipant
    from privacy.classification import SPECIAL_CATEGORIES, category_label

    family = person.family
    context = ExportContext(lang=lang, redact=redact, marker=REDACTED[lang])
    sections, related_ids = held_records(person, context)
    disclosed = ConferenceParticipant.objects.filter(
        conference__family=family, conference__status="held", kind="external"
    ).values_list("agency", "conference__held_at")
    activities = activities_by_code()
    categories: list[Any] = []
    for code in SUBJECT_ACTIVITIES:
        categories.extend(c for c in activities[code].data_categories() if c not in categories)

    data: dict[str, Any] = {
        "generated": timezone.now().isoformat(timespec="seconds"),
        "language": lang,
        "redacted": redact,
        "controller": controller_section(family.organisation, lang),
    }
    _nest(data, sections)
    # Art. 18 / Art. 21 status at the time of the answer (objections are declared "status.objections").
    restricted = any(r["lifted_at"] is None for r in data.get("restrictions", []))
    data["status"] = {"restricted": restricted, **data.get("status", {})}
    data.update(
        {
            # Art. 15(1)(b): the categories of personal data concerned.
            "categories": [
                {"code": c.value, "label": category_label(c, lang), "special": c in SPECIAL_CATEGORIES}
                for c in categories
            ],
            "recipients": _recipients(person, family),
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
    )
    return data
