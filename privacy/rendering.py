"""Label tables and HTML/CSV rendering of the DPO documents (Art. 30 record, Art. 15 export).

The documents are built as plain data in ``privacy.registry`` and ``privacy.exports``; this
module only turns that data into a file a person reads.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string

from privacy.classification import category_label

RECORD_LABELS = {
    "en": {
        "title": "Record of processing activities (Art. 30 GDPR)",
        "generated": "Generated",
        "period": "Observed period",
        "controller": "Controller",
        "controller_name": "Name",
        "address": "Address",
        "representative": "Represented by",
        "dpo": "Data protection officer",
        "arrangement": "Arrangement",
        "processors": "Processors (Art. 28)",
        "missing": "missing – please complete",
        "technical": "Technical measures",
        "responsible_unit": "Responsible unit",
        "dpia": "Data protection impact assessment",
        "version": "Version",
        "last_changed": "last changed",
        "organisational": "Organisational measures",
        "toms": "Technical and organisational measures",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "subjects": "Data subjects",
        "categories": "Categories of personal data (special categories in bold)",
        "aggregated": "used only in aggregated, anonymised form",
        "recipients": "Recipients",
        "transfers": "Transfers to third countries",
        "retention": "Retention",
        "retention_rule_days": "days from",
        "risk": "Risk assessment",
        "observed": "Observed operations",
        "recipients_used": "Recipients actually used",
        "footer": "Generated from the running system: categories from the field classification, measures "
        "from the configuration, figures from the audit log.",
    },
    "de": {
        "title": "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)",
        "generated": "Erstellt",
        "period": "Beobachteter Zeitraum",
        "controller": "Verantwortlicher",
        "controller_name": "Name",
        "address": "Anschrift",
        "representative": "Vertreten durch",
        "dpo": "Datenschutzbeauftragte/r",
        "arrangement": "Verhältnis",
        "processors": "Auftragsverarbeiter (Art. 28)",
        "missing": "fehlt – bitte ergänzen",
        "technical": "Technische Maßnahmen",
        "responsible_unit": "Zuständige Stelle",
        "dpia": "Datenschutz-Folgenabschätzung",
        "version": "Fassung",
        "last_changed": "zuletzt geändert",
        "organisational": "Organisatorische Maßnahmen",
        "toms": "Technische und organisatorische Maßnahmen",
        "purpose": "Zweck",
        "legal_basis": "Rechtsgrundlage",
        "subjects": "Betroffene Personen",
        "categories": "Datenkategorien (besondere Kategorien fett)",
        "aggregated": "nur aggregiert und anonymisiert verwendet",
        "recipients": "Empfänger",
        "transfers": "Übermittlung in Drittländer",
        "retention": "Löschfristen",
        "retention_rule_days": "Tage ab",
        "risk": "Risikobewertung",
        "observed": "Beobachtete Vorgänge",
        "recipients_used": "Tatsächliche Empfänger",
        "footer": "Aus dem laufenden System erzeugt: Kategorien aus der Feldklassifikation, Maßnahmen aus der "
        "Konfiguration, Zahlen aus dem Protokoll.",
    },
}


def registry_csv(data: dict[str, Any]) -> HttpResponse:
    """The record as CSV, one row per activity."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "code",
            "name",
            "purpose",
            "legal_basis",
            "special_categories_basis",
            "data_subjects",
            "data_categories",
            "special_categories",
            "recipients",
            "third_country_transfers",
            "retention",
            "retention_days",
            "retention_periods",
            "risk_assessment",
            "operations_create",
            "operations_update",
            "operations_delete",
            "operations_access",
            "recipients_used",
        ]
    )
    for a in data["activities"]:
        ops = a["observed"]["operations"]
        writer.writerow(
            [
                a["code"],
                a["name"],
                a["purpose"],
                a["legal_basis"],
                a["special_categories_basis"] or "",
                "; ".join(a["data_subjects"]),
                "; ".join(c["code"] for c in a["data_categories"]),
                "; ".join(c["code"] for c in a["data_categories"] if c["special"]),
                "; ".join(r["code"] for r in a["recipients"]),
                a["third_country_transfers"],
                a["retention"],
                a["retention_days"] if a["retention_days"] is not None else "",
                "; ".join(f"{p['rule']}={p['period_days']}" for p in a["retention_periods"]),
                a["risk_assessment"],
                ops.get("create", 0),
                ops.get("update", 0),
                ops.get("delete", 0),
                ops.get("access", 0),
                "; ".join(f"{k}={v}" for k, v in a["observed"]["recipients_used"].items()),
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="record-of-processing-activities.csv"'
    return response


def registry_html(data: dict[str, Any], lang: str) -> HttpResponse:
    """The record as a readable HTML document."""
    table = CHOICES_DE if lang == "de" else _choices_en()
    shown = {
        **data,
        "activities": [
            {
                **a,
                "operations": [
                    (table["action"].get(action, action), n)
                    for action, n in a["observed"]["operations"].items()
                ],
                "recipients_used": [
                    (table["agency"].get(code, code), n)
                    for code, n in a["observed"]["recipients_used"].items()
                ],
            }
            for a in data["activities"]
        ],
    }
    html = render_to_string(
        "privacy/registry.html",
        {
            "record": shown,
            "t": RECORD_LABELS[lang],
            "lang": lang,
            "period": {"from": when(data["period"]["from"], lang), "to": when(data["period"]["to"], lang)},
            "generated": when(data["generated"], lang),
            "version": {**data["version"], "last_changed": when(data["version"]["last_changed"], lang)}
            if data.get("version")
            else None,
        },
    )
    return HttpResponse(html, content_type="text/html; charset=utf-8")


EXPORT_LABELS = {
    "en": {
        "title": "Information on your personal data (Art. 15 GDPR)",
        "generated": "Generated",
        "household_hint": "Highlighted rows are household records that may mention other members.",
        "redacted_hint": "Copy for the data subject: household-level text that may concern other members is blacked out (Art. 15(4) GDPR).",
        "controller": "Controller",
        "dpo": "Data protection officer",
        "subject": "Your record",
        "family": "Your household",
        "household_notes": "Household notes",
        "goals": "Goals",
        "field": "Field",
        "description": "Description",
        "status": "Status",
        "dates": "Agreed → target",
        "referrals": "Referrals",
        "consents": "Consents",
        "withdrawn": "withdrawn",
        "covers": "covers",
        "covered_members": "members' data",
        "on_agenda": "on the agenda",
        "conferences": "Case conferences",
        "contacts": "Contacts",
        "documents": "Documents (files on request)",
        "handovers": "Handovers between offices",
        "processing": "Purposes and legal bases (Art. 15(1)(a))",
        "categories": "Categories of personal data (Art. 15(1)(b))",
        "recipients_named": "Recipients who received your data (Art. 15(1)(c))",
        "activity": "Processing activity",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "recipients": "Recipients",
        "retention": "Storage period (Art. 15(1)(d))",
        "rights": "Your rights (Art. 15(1)(e))",
        "complaint": "Right to complain (Art. 15(1)(f))",
        "source": "Where the data come from (Art. 15(1)(g))",
        "automated": "Automated decisions (Art. 15(1)(h))",
        "transfers": "Transfers to third countries (Art. 15(2))",
        "state": "Restriction and objection (Art. 18, Art. 21)",
        "restricted": "Processing of your data is restricted.",
        "not_restricted": "Processing of your data is not restricted.",
        "no_objection": "No objection recorded.",
        "objection": "Objection received",
        "rectifications": "Rectifications (Art. 16)",
        "previous": "Previous value",
        "data_field": "Item",
        "reason": "Reason",
        "disclosed": "Disclosed to",
        "access": "Who accessed your data",
        "when": "When",
        "action": "Action",
        "by": "By",
    },
    "de": {
        "title": "Auskunft über Ihre personenbezogenen Daten (Art. 15 DSGVO)",
        "generated": "Erstellt",
        "household_hint": "Hervorgehobene Zeilen betreffen den ganzen Haushalt und können andere Mitglieder nennen.",
        "redacted_hint": "Kopie für die betroffene Person: Haushaltsangaben, die andere Mitglieder betreffen können, sind geschwärzt (Art. 15 Abs. 4 DSGVO).",
        "controller": "Verantwortlicher",
        "dpo": "Datenschutzbeauftragte/r",
        "subject": "Ihre Angaben",
        "family": "Ihr Haushalt",
        "household_notes": "Notizen zum Haushalt",
        "goals": "Ziele",
        "field": "Handlungsfeld",
        "description": "Beschreibung",
        "status": "Stand",
        "dates": "Vereinbart → Ziel",
        "referrals": "Vermittlungen",
        "consents": "Einwilligungen",
        "withdrawn": "widerrufen",
        "covers": "umfasst",
        "covered_members": "Mitglieder (Daten)",
        "on_agenda": "auf der Tagesordnung",
        "conferences": "Fallkonferenzen",
        "contacts": "Kontakte",
        "documents": "Dokumente (Dateien auf Anfrage)",
        "handovers": "Übergaben zwischen Stellen",
        "processing": "Zwecke und Rechtsgrundlagen (Art. 15 Abs. 1 lit. a)",
        "categories": "Kategorien personenbezogener Daten (Art. 15 Abs. 1 lit. b)",
        "recipients_named": "Empfänger, die Ihre Daten erhalten haben (Art. 15 Abs. 1 lit. c)",
        "activity": "Verarbeitungstätigkeit",
        "purpose": "Zweck",
        "legal_basis": "Rechtsgrundlage",
        "recipients": "Empfänger",
        "retention": "Speicherdauer (Art. 15 Abs. 1 lit. d)",
        "rights": "Ihre Rechte (Art. 15 Abs. 1 lit. e)",
        "complaint": "Beschwerderecht (Art. 15 Abs. 1 lit. f)",
        "source": "Herkunft der Daten (Art. 15 Abs. 1 lit. g)",
        "automated": "Automatisierte Entscheidungen (Art. 15 Abs. 1 lit. h)",
        "transfers": "Übermittlung in Drittländer (Art. 15 Abs. 2)",
        "state": "Einschränkung und Widerspruch (Art. 18, Art. 21)",
        "restricted": "Die Verarbeitung Ihrer Daten ist eingeschränkt.",
        "not_restricted": "Die Verarbeitung Ihrer Daten ist nicht eingeschränkt.",
        "no_objection": "Kein Widerspruch erfasst.",
        "objection": "Widerspruch eingegangen",
        "rectifications": "Berichtigungen (Art. 16)",
        "previous": "Früherer Wert",
        "data_field": "Angabe",
        "reason": "Grund",
        "disclosed": "Übermittelt an",
        "access": "Wer auf Ihre Daten zugegriffen hat",
        "when": "Wann",
        "action": "Vorgang",
        "by": "Durch",
    },
}

VIA_LABELS = {
    "en": {"case_conference": "case conference", "referral": "referral"},
    "de": {"case_conference": "Fallkonferenz", "referral": "Vermittlung"},
}

#: Labels of the export's fields (the HTML never shows a raw key).
FIELD_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "id": "Record number",
        "role": "Role in the family",
        "given_name": "Given name",
        "family_name": "Family name",
        "date_of_birth": "Date of birth",
        "birth_year": "Year of birth",
        "sex": "Sex",
        "residence_status": "Residence status",
        "country_of_origin": "Country of origin",
        "recorded_on": "Recorded on",
        "anonymised_at": "Anonymised on",
        "reference": "Case number",
        "status": "Status",
        "opened_on": "Opened on",
        "closed_on": "Closed on",
        "address": "Address",
        "phone": "Phone",
        "preferred_languages": "Preferred languages",
        "interpreter_needed": "Interpreter needed",
        "benefit_status_at_intake": "Benefits at intake",
        "benefit_status_at_closure": "Benefits at closure",
        "closure_outcome": "Outcome at closure",
    },
    "de": {
        "id": "Datensatznummer",
        "role": "Rolle in der Familie",
        "given_name": "Vorname",
        "family_name": "Familienname",
        "date_of_birth": "Geburtsdatum",
        "birth_year": "Geburtsjahr",
        "sex": "Geschlecht",
        "residence_status": "Aufenthaltsstatus",
        "country_of_origin": "Herkunftsland",
        "recorded_on": "Erfasst am",
        "anonymised_at": "Anonymisiert am",
        "reference": "Aktenzeichen",
        "status": "Stand",
        "opened_on": "Eröffnet am",
        "closed_on": "Abgeschlossen am",
        "address": "Anschrift",
        "phone": "Telefon",
        "preferred_languages": "Bevorzugte Sprachen",
        "interpreter_needed": "Dolmetscher benötigt",
        "benefit_status_at_intake": "Leistungsbezug bei Aufnahme",
        "benefit_status_at_closure": "Leistungsbezug bei Abschluss",
        "closure_outcome": "Ergebnis bei Abschluss",
    },
}

#: German labels of the coded values the export shows (English ones come from the models).
CHOICES_DE: dict[str, dict[str, str]] = {
    "role": {"parent": "Elternteil", "child": "Kind", "other": "Weiteres Haushaltsmitglied"},
    "sex": {"female": "weiblich", "male": "männlich", "diverse": "divers", "unspecified": "keine Angabe"},
    "residence_status": {
        "german_citizen": "Deutsche Staatsangehörigkeit",
        "eu_citizen": "EU-/EWR-Staatsangehörigkeit (Freizügigkeit)",
        "settlement_permit": "Niederlassungserlaubnis",
        "residence_permit": "Aufenthaltserlaubnis",
        "temporary_protection": "Vorübergehender Schutz (§ 24 AufenthG)",
        "asylum_pending": "Aufenthaltsgestattung (Asylverfahren)",
        "tolerated": "Duldung",
        "other": "Sonstiger Status",
        "unknown": "Unbekannt",
    },
    "family_status": {"intake": "Aufnahme", "active": "Aktiv", "paused": "Ruhend", "closed": "Abgeschlossen"},
    "benefit": {
        "sgb_ii": "SGB II (Bürgergeld)",
        "sgb_xii": "SGB XII (Sozialhilfe)",
        "asylblg": "AsylbLG",
        "none": "Keine Leistungen",
        "unknown": "Unbekannt",
    },
    "closure_outcome": {
        "self_sufficient": "Eigenständig",
        "goals_achieved": "Ziele erreicht",
        "moved_away": "Verzogen",
        "transferred": "An anderen Dienst übergeben",
        "withdrew": "Zurückgezogen",
        "no_contact": "Kontakt abgebrochen",
        "other": "Sonstiges",
    },
    "goal_status": {
        "open": "Offen",
        "in_progress": "In Arbeit",
        "achieved": "Erreicht",
        "partly_achieved": "Teilweise erreicht",
        "not_achieved": "Nicht erreicht",
        "cancelled": "Abgebrochen",
    },
    "referral_status": {
        "draft": "Entwurf",
        "sent": "Versandt",
        "accepted": "Angenommen",
        "declined": "Abgelehnt",
        "enrolled": "Angemeldet",
        "completed": "Abgeschlossen",
        "dropped_out": "Abgebrochen",
        "cancelled": "Storniert",
    },
    "agency": {
        "jobcenter": "Jobcenter",
        "immigration_office": "Ausländerbehörde",
        "youth_office": "Jugendamt",
        "school": "Schule",
        "course_provider": "Kursträger",
        "health_office": "Gesundheitsamt",
        "social_welfare_office": "Sozialamt",
        "other": "Sonstige Stelle",
    },
    "conference_format": {"in_person": "Vor Ort", "video": "Video", "phone": "Telefon", "hybrid": "Hybrid"},
    "conference_status": {"planned": "Geplant", "held": "Durchgeführt", "cancelled": "Abgesagt"},
    "participant_kind": {"internal": "Intern", "external": "Externe Stelle", "family": "Familienmitglied"},
    "contact_kind": {
        "home_visit": "Hausbesuch",
        "office": "Termin im Büro",
        "phone": "Telefon",
        "video": "Video",
        "accompaniment": "Begleitung",
    },
    "initiated_by": {"case_manager": "Fallverantwortliche/r", "family": "Familie", "other": "Sonstige"},
    "action": {"create": "Angelegt", "update": "Geändert", "delete": "Gelöscht", "access": "Gelesen"},
    "by_role": {
        "case_manager": "Fallverantwortliche/r",
        "supervisor": "Teamleitung",
        "dpo": "Datenschutzbeauftragte/r",
        "admin": "Administration",
        "system": "System (automatischer Vorgang)",
        "other staff": "Andere Beschäftigte",
    },
    "bool": {"True": "ja", "False": "nein"},
    "decision": {
        "pending": "noch nicht entschieden",
        "upheld": "stattgegeben: die Verarbeitung ist eingeschränkt",
        "rejected": "abgelehnt aus zwingenden schutzwürdigen Gründen",
    },
}

_SUBJECT_CHOICES = {"role": "role", "sex": "sex", "residence_status": "residence_status"}
_FAMILY_CHOICES = {
    "status": "family_status",
    "benefit_status_at_intake": "benefit",
    "benefit_status_at_closure": "benefit",
    "closure_outcome": "closure_outcome",
}


def _choices_en() -> dict[str, dict[str, str]]:
    from casemgmt.models import CaseConference, ConferenceParticipant, Contact, Family, Goal, Person, Referral
    from casemgmt.models.casework import Agency
    from privacy.models import Objection

    def of(model: Any, name: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in model._meta.get_field(name).choices}

    return {
        "role": of(Person, "role"),
        "sex": of(Person, "sex"),
        "residence_status": of(Person, "residence_status"),
        "family_status": of(Family, "status"),
        "benefit": of(Family, "benefit_status_at_intake"),
        "closure_outcome": of(Family, "closure_outcome"),
        "goal_status": of(Goal, "status"),
        "referral_status": of(Referral, "status"),
        "agency": {str(k): str(v) for k, v in Agency.choices},
        "conference_format": of(CaseConference, "format"),
        "conference_status": of(CaseConference, "status"),
        "participant_kind": of(ConferenceParticipant, "kind"),
        "contact_kind": of(Contact, "kind"),
        "initiated_by": of(Contact, "initiated_by"),
        "action": {"create": "Created", "update": "Changed", "delete": "Deleted", "access": "Read"},
        "by_role": {
            "case_manager": "Case manager",
            "supervisor": "Supervisor",
            "dpo": "Data protection officer",
            "admin": "Administrator",
            "system": "System (automatic process)",
            "other staff": "Other staff",
        },
        "bool": {"True": "yes", "False": "no"},
        "decision": {str(k): str(v) for k, v in Objection.Decision.choices},
    }


def when(value: Any, lang: str) -> str:
    """An ISO date or timestamp as a reader expects it: local time, German or ISO order."""
    import datetime

    from django.utils import timezone

    if value in (None, ""):
        return "–"
    text = str(value)
    try:
        if "T" in text:
            moment = timezone.localtime(datetime.datetime.fromisoformat(text))
            return moment.strftime("%d.%m.%Y, %H:%M Uhr" if lang == "de" else "%Y-%m-%d %H:%M")
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return text
    return day.strftime("%d.%m.%Y" if lang == "de" else "%Y-%m-%d")


def subject_export_display(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The export with labels for every key and coded value and local times: what the HTML shows."""
    from casemgmt.models import Handover
    from privacy.registry import activities_by_code

    table = CHOICES_DE if lang == "de" else _choices_en()
    fields = FIELD_LABELS[lang]

    def label(group: str, value: Any) -> str:
        if value in (None, ""):
            return "–"
        return table[group].get(str(value), str(value))

    def rows(section: dict[str, Any], choices: dict[str, str], skip: set[str]) -> list[tuple[str, str]]:
        out = []
        for key, value in section.items():
            if key in skip:
                continue
            if key in choices:
                shown = label(choices[key], value)
            elif isinstance(value, bool):
                shown = label("bool", value)
            elif isinstance(value, list):
                shown = ", ".join(str(v) for v in value) or "–"
            elif key.endswith(("_on", "_at", "date_of_birth")):
                shown = when(value, lang)
            else:
                shown = "–" if value in (None, "") else str(value)
            out.append((fields[key], shown))
        return out

    activities = activities_by_code()
    return {
        "generated": when(data["generated"], lang),
        "redacted": data["redacted"],
        "controller": data["controller"],
        "subject": rows(data["subject"], _SUBJECT_CHOICES, {"id"}),
        "family": rows(data["family"], _FAMILY_CHOICES, {"household_notes"}),
        "household_notes": data["family"]["household_notes"]["text"] or "–",
        "goals": [
            {
                **g,
                "status": label("goal_status", g["status"]),
                "agreed_on": when(g["agreed_on"], lang),
                "target_date": when(g["target_date"], lang),
                "reviews": [
                    {
                        **r,
                        "reviewed_on": when(r["reviewed_on"], lang),
                        "status": label("goal_status", r["status"]),
                    }
                    for r in g["reviews"]
                ],
            }
            for g in data["goals"]
        ],
        "referrals": [
            {
                **r,
                "status": label("referral_status", r["status"]),
                "history": [
                    {"to": label("referral_status", h["to"]), "at": when(h["at"], lang)} for h in r["history"]
                ],
            }
            for r in data["referrals"]
        ],
        "consents": [
            {
                **c,
                "recipient": label("agency", c["recipient"]),
                "given_on": when(c["given_on"], lang),
                "valid_until": when(c["valid_until"], lang) if c["valid_until"] else "",
                "withdrawn_on": when(c["withdrawn_on"], lang) if c["withdrawn_on"] else "",
                "data_categories": [category_label(x, lang) for x in c.get("data_categories", [])],
                "member_count": len(c.get("members", [])),
            }
            for c in data["consents"]
        ],
        "conferences": [
            {
                **k,
                "scheduled_at": when(k["scheduled_at"], lang),
                "status": label("conference_status", k["status"]),
                "participants": [
                    f"{label('participant_kind', p['kind'])}"
                    + (f" ({label('agency', p['agency'])})" if p["agency"] else "")
                    for p in k["participants"]
                ],
                "agenda_categories": [category_label(x, lang) for x in k.get("agenda_categories", [])],
            }
            for k in data["conferences"]
        ],
        "contacts": [
            {
                **c,
                "occurred_on": when(c["occurred_on"], lang),
                "kind": label("contact_kind", c["kind"]),
                "initiated_by": label("initiated_by", c["initiated_by"]),
            }
            for c in data["contacts"]
        ],
        "documents": [
            {
                **d,
                "recorded_on": when(d["recorded_on"], lang),
                "attached_to": DOCUMENT_TARGET_LABELS[lang].get(d["attached_to"], d["attached_to"]),
            }
            for d in data.get("documents", [])
        ],
        "handovers": [
            {
                **h,
                "offered_on": when(h["offered_on"], lang),
                "status": dict(Handover.Status.choices).get(h["status"], h["status"]),
                "legal_basis": dict(Handover.LegalBasis.choices).get(h["legal_basis"], h["legal_basis"]),
            }
            for h in data.get("handovers", [])
        ],
        "declared": declared_sections_display(data, lang),
        "processing": data["processing"],
        "categories": data["categories"],
        "recipients": [
            {**r, "via": VIA_LABELS[lang][r["via"]], "on": when(r["on"], lang)} for r in data["recipients"]
        ],
        "restricted": data["status"]["restricted"],
        "objections": [
            {
                "received_at": when(o["received_at"], lang),
                "decision": label("decision", o["decision"]),
                "decision_reason": o["decision_reason"],
            }
            for o in data["status"]["objections"]
        ],
        "rectifications": [
            {
                "field": fields[r["field"]],
                "previous_value": r["previous_value"] or "–",
                "reason": r["reason"],
                "rectified_at": when(r["rectified_at"], lang),
            }
            for r in data["rectifications"]
        ],
        "rights": data["rights"],
        "complaint": data["complaint"],
        "source": data["source"],
        "automated_decisions": data["automated_decisions"],
        "third_country_transfers": data["third_country_transfers"],
        "access_log": [
            {
                "timestamp": when(a["timestamp"], lang),
                "action": label("action", a["action"]),
                "by": label("by_role", a["by_role"])
                + (f" ({a['by_organisation']})" if a["by_organisation"] else ""),
                "activity": activities[a["activity"]].name[lang] if a["activity"] in activities else "–",
            }
            for a in data["access_log"]
        ],
    }


#: Sections the template lays out by hand; every other declared section (``SUBJECT_EXPORT``)
#: is shown as a generic table, so a new record reaches the HTML without editing it.
HAND_RENDERED = frozenset(
    {
        "subject",
        "family",
        "goals",
        "referrals",
        "consents",
        "conferences",
        "contacts",
        "documents",
        "handovers",
        "restrictions",
        "rectifications",
        "status.objections",
    }
)


def _model_field(model: Any, path: Any) -> Any:
    """The model field an export field reads directly, if any (not through a relation)."""
    if not isinstance(path, str) or "." in path:
        return None
    try:
        return model._meta.get_field(path)
    except Exception:  # a property such as ``effective_status``
        return None


def _field_label(model: Any, spec: Any, key: str, lang: str) -> str:
    from django.utils import translation

    if key in FIELD_LABELS[lang]:
        return FIELD_LABELS[lang][key]
    field = _model_field(model, spec.fields.get(key))
    if field is not None and getattr(field, "verbose_name", None):
        with translation.override(lang):
            text = str(field.verbose_name)
        return text[:1].upper() + text[1:]
    return key.replace("_", " ").capitalize()


def _shown(model: Any, spec: Any, key: str, value: Any, lang: str) -> str:
    from django.db import models as db
    from django.utils import translation

    if value in (None, ""):
        return "–"
    if isinstance(value, bool):
        return (CHOICES_DE if lang == "de" else _choices_en())["bool"][str(value)]
    field = _model_field(model, spec.fields.get(key))
    if field is not None and field.choices:
        with translation.override(lang):
            return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, db.DateField | db.DateTimeField) or key.endswith(("_on", "_at")):
        return when(value, lang)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "–"
    return str(value)


def declared_sections_display(data: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Sections of declared records the template has no layout for, as generic tables."""
    from privacy.exports import export_declarations

    declared = export_declarations()
    children = [(m, s) for m, s in declared if s.within]
    out = []
    for model, spec in declared:
        if spec.within or spec.section in HAND_RENDERED:
            continue
        rows: Any = data
        for part in spec.section.split("."):
            rows = rows.get(part, []) if isinstance(rows, dict) else []
        rows = [rows] if isinstance(rows, dict) else rows
        keys = [k for k in spec.fields if k not in ("id", "household_level")]
        own_children = [(m, s) for m, s in children if s.within == spec.section]
        header = [_field_label(model, spec, k, lang) for k in keys] + [s.label[lang] for _, s in own_children]
        shown_rows = []
        for row in rows:
            cells = [_shown(model, spec, k, row.get(k), lang) for k in keys]
            for child_model, child_spec in own_children:
                cells.append(
                    "; ".join(
                        ", ".join(
                            _shown(child_model, child_spec, k, child.get(k), lang) for k in child_spec.fields
                        )
                        for child in row.get(child_spec.section, [])
                    )
                    or "–"
                )
            shown_rows.append({"household": bool(row.get("household_level")), "cells": cells})
        out.append({"label": spec.label[lang], "header": header, "rows": shown_rows})
    return out


#: What a document is attached to, as the export names it.
DOCUMENT_TARGET_LABELS = {
    "en": {
        "family": "Household",
        "person": "Person",
        "consent": "Consent",
        "conference": "Case conference",
        "plan": "Integration plan",
    },
    "de": {
        "family": "Haushalt",
        "person": "Person",
        "consent": "Einwilligung",
        "conference": "Fallkonferenz",
        "plan": "Integrationsplan",
    },
}


def subject_export_html(data: dict[str, Any], lang: str) -> HttpResponse:
    """The Art. 15 export as a readable HTML document."""
    html = render_to_string(
        "privacy/subject_export.html",
        {"e": subject_export_display(data, lang), "t": EXPORT_LABELS[lang], "lang": lang},
    )
    return HttpResponse(html, content_type="text/html; charset=utf-8")
