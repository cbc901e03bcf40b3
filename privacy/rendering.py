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
    html = render_to_string(
        "privacy/registry.html",
        {
            "record": data,
            "t": RECORD_LABELS[lang],
            "lang": lang,
            "period": data["period"],
            "generated": data["generated"],
        },
    )
    return HttpResponse(html, content_type="text/html; charset=utf-8")


EXPORT_LABELS = {
    "en": {
        "title": "Information on your personal data (Art. 15 GDPR)",
        "generated": "Generated",
        "household_hint": "Highlighted rows are household records that may mention other members.",
        "subject": "Your record",
        "family": "Your household",
        "goals": "Goals",
        "field": "Field",
        "description": "Description",
        "status": "Status",
        "dates": "Agreed → target",
        "referrals": "Referrals",
        "consents": "Consents",
        "withdrawn": "withdrawn",
        "conferences": "Case conferences",
        "contacts": "Contacts",
        "processing": "Purposes and legal bases",
        "activity": "Processing activity",
        "purpose": "Purpose",
        "legal_basis": "Legal basis",
        "recipients": "Recipients",
        "retention": "Retention",
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
        "subject": "Ihre Angaben",
        "family": "Ihr Haushalt",
        "goals": "Ziele",
        "field": "Handlungsfeld",
        "description": "Beschreibung",
        "status": "Stand",
        "dates": "Vereinbart → Ziel",
        "referrals": "Vermittlungen",
        "consents": "Einwilligungen",
        "withdrawn": "widerrufen",
        "conferences": "Fallkonferenzen",
        "contacts": "Kontakte",
        "processing": "Zwecke und Rechtsgrundlagen",
        "activity": "Verarbeitungstätigkeit",
        "purpose": "Zweck",
        "legal_basis": "Rechtsgrundlage",
        "recipients": "Empfänger",
        "retention": "Speicherdauer",
        "disclosed": "Übermittelt an",
        "access": "Wer auf Ihre Daten zugegriffen hat",
        "when": "Wann",
        "action": "Vorgang",
        "by": "Durch",
    },
}


def subject_export_html(data: dict[str, Any], lang: str) -> HttpResponse:
    """The Art. 15 export as a readable HTML document."""
    html = render_to_string(
        "privacy/subject_export.html", {"e": data, "t": EXPORT_LABELS[lang], "lang": lang}
    )
    return HttpResponse(html, content_type="text/html; charset=utf-8")
