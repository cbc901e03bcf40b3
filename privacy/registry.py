"""The record of processing activities (GDPR Art. 30(1)), declared in code.

Each activity names the models it records; its categories of personal data are derived
from those models' field classification (``PERSONAL_DATA``), and the technical and
organisational measures from the running settings, so the record cannot drift from the
system. Texts are given in German and English; the German social-law bases are stated in
prose for the DPO to confirm against the state law that applies.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Model

from privacy.classification import SPECIAL_CATEGORIES, DataCategory

Text = dict[str, str]  # {"de": ..., "en": ...}

CONTROLLER: Text = {
    "de": "Die Kommune (Landkreis bzw. Stadt), die den Dienst betreibt; vertreten durch die Behördenleitung. "
    "Kontakt der/des Datenschutzbeauftragten: siehe Impressum der Kommune.",
    "en": "The municipality (district or town) operating the service, represented by its head of administration. "
    "Contact of the data protection officer: see the municipality's legal notice.",
}

DATA_SUBJECTS: dict[str, Text] = {
    "family_members": {
        "de": "Familienmitglieder (Erwachsene und Kinder)",
        "en": "Family members (adults and children)",
    },
    "legal_representatives": {"de": "Gesetzliche Vertreter", "en": "Legal representatives"},
    "external_professionals": {
        "de": "Vertreter externer Stellen",
        "en": "Representatives of external agencies",
    },
    "staff": {"de": "Beschäftigte der Kommune", "en": "Staff of the municipality"},
}

RECIPIENTS: dict[str, Text] = {
    "internal_case_management": {
        "de": "Zuständige Fallverantwortliche und Vertretungen",
        "en": "Responsible case managers and their deputies",
    },
    "jobcenter": {"de": "Jobcenter (nur mit Einwilligung)", "en": "Jobcenter (only with consent)"},
    "immigration_office": {
        "de": "Ausländerbehörde (nur mit Einwilligung)",
        "en": "Immigration office (only with consent)",
    },
    "youth_office": {
        "de": "Jugendamt (mit Einwilligung; § 8a SGB VIII bleibt unberührt)",
        "en": "Youth office (with consent; child-protection duties unaffected)",
    },
    "school": {"de": "Schulen (nur mit Einwilligung)", "en": "Schools (only with consent)"},
    "course_provider": {"de": "Kurs- und Maßnahmeträger", "en": "Course and programme providers"},
    "health_office": {
        "de": "Gesundheitsamt (nur mit Einwilligung)",
        "en": "Health office (only with consent)",
    },
    "supervisors": {
        "de": "Teamleitung (nur anonymisierte Statistik)",
        "en": "Supervisors (anonymised statistics only)",
    },
    "dpo": {"de": "Datenschutzbeauftragte/r", "en": "Data protection officer"},
    "it_operations": {
        "de": "IT-Betrieb (Auftragsverarbeitung, Art. 28 DSGVO)",
        "en": "IT operations (processor, Art. 28 GDPR)",
    },
}


class Activity(StrEnum):
    """The codes of the activities below: every audited write names one (``privacy.audit.audited``)."""

    CASE_MANAGEMENT = "case_management"
    CASE_CONFERENCES = "case_conferences"
    COURSE_REFERRALS = "course_referrals"
    OUTCOME_STATISTICS = "outcome_statistics"
    AUDIT_LOGGING = "audit_logging"
    DATA_SUBJECT_RIGHTS = "data_subject_rights"
    ACCOUNT_MANAGEMENT = "account_management"
    KEY_MANAGEMENT = "key_management"


@dataclass(frozen=True)
class ProcessingActivity:
    """One entry of the record (Art. 30(1)(a)-(g))."""

    code: str
    name: Text
    purpose: Text
    legal_basis: Text
    data_subjects: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: Text
    retention_days: int | None
    risk: Text
    special_categories_basis: Text | None = None
    #: Categories used only in aggregated, anonymised form (statistics).
    aggregated_only: bool = False
    third_country_transfers: Text = field(
        default_factory=lambda: {
            "de": "Keine Übermittlung in Drittländer",
            "en": "No transfers to third countries",
        }
    )
    #: Uses every encrypted field of every model (key rotation re-encrypts them all).
    uses_encrypted_fields: bool = False

    @property
    def models(self) -> tuple[str, ...]:
        """The models that declare this activity (``PROCESSING_ACTIVITY`` / ``ALSO_PROCESSED_FOR``)."""
        return declared_models().get(self.code, ())

    def model_classes(self) -> list[type[Model]]:
        return [apps.get_model(label) for label in self.models]

    def data_categories(self) -> list[DataCategory]:
        """Derived from the classification of the fields the activity uses.

        A model's own activity uses all its personal fields; a further activity
        (``ALSO_PROCESSED_FOR``) only the fields the model names for it in ``FIELD_USE``.
        """
        found: set[DataCategory] = set()
        if self.uses_encrypted_fields:
            found.update(_encrypted_field_categories())
        for model in self.model_classes():
            personal: dict[str, str] = getattr(model, "PERSONAL_DATA", {})
            if getattr(model, "PROCESSING_ACTIVITY", "") == self.code:
                used = set(personal)
            else:
                used = set(getattr(model, "FIELD_USE", {}).get(self.code, ()))
            found.update(DataCategory(c) for name, c in personal.items() if name in used)
        return sorted(found, key=lambda c: list(DataCategory).index(c))

    def special_categories(self) -> list[DataCategory]:
        return [c for c in self.data_categories() if c in SPECIAL_CATEGORIES]


def _encrypted_field_categories() -> set[DataCategory]:
    from casemgmt.models.base import declaring_models
    from privacy.cipher.fields import EncryptedFieldMixin

    return {
        DataCategory(model.PERSONAL_DATA[f.name])  # type: ignore[attr-defined]
        for model in declaring_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedFieldMixin) and f.name in getattr(model, "PERSONAL_DATA", {})
    }


@cache
def declared_models() -> dict[str, tuple[str, ...]]:
    """Model labels per activity code, from the models' own declarations (never a hand list)."""
    from casemgmt.models.base import declaring_models

    found: dict[str, list[str]] = {}
    for model in declaring_models():
        codes = [getattr(model, "PROCESSING_ACTIVITY", ""), *getattr(model, "ALSO_PROCESSED_FOR", ())]
        for code in filter(None, codes):
            found.setdefault(code, []).append(model._meta.label)
    return {code: tuple(labels) for code, labels in found.items()}


YEARS = 365

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        code="case_management",
        name={
            "de": "Fallbezogenes Integrationsmanagement (Case-Management mit Familien)",
            "en": "Integration case management with families",
        },
        purpose={
            "de": "Begleitung von Familien bei Sprache, Bildung, Arbeit, Anerkennung, Gesundheit und "
            "Teilhabe; Vereinbarung und Überprüfung individueller Ziele (Förderkonzept).",
            "en": "Supporting families in language, education, work, recognition, health and participation; "
            "agreeing and reviewing individual goals (support plan).",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. e DSGVO i. V. m. der landesrechtlichen Aufgabenzuweisung des "
            "Kommunalen Integrationsmanagements und §§ 67a ff. SGB X (Sozialdatenschutz).",
            "en": "Art. 6(1)(e) GDPR with the state-law assignment of municipal integration management "
            "and §§ 67a ff. SGB X (social data protection).",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. a DSGVO (ausdrückliche Einwilligung) für "
            "Gesundheitsangaben in Notizen und Angaben zur Herkunft.",
            "en": "Art. 9(2)(a) GDPR (explicit consent) for health details in notes and "
            "information revealing ethnic origin.",
        },
        data_subjects=("family_members", "legal_representatives"),
        recipients=("internal_case_management", "it_operations"),
        retention={
            "de": "3 Jahre nach Abschluss des Falls, danach Löschung bzw. Anonymisierung.",
            "en": "3 years after the case is closed, then erased or anonymised.",
        },
        retention_days=3 * YEARS,
        risk={
            "de": "Hoch: Sozialdaten, Aufenthaltsstatus und Angaben zu Kindern; die Kommune ist zugleich "
            "Kontrollbehörde. Maßnahmen: Feldverschlüsselung, Zugriff nur über Fallzuweisung, "
            "Protokollierung jedes Lese- und Schreibzugriffs, Notfallzugriff mit Begründung und Prüfung.",
            "en": "High: social data, residence status and data on children; the municipality is also a "
            "control authority. Measures: field encryption, access only through case assignment, "
            "logging of every read and write, emergency access with reason and review.",
        },
    ),
    ProcessingActivity(
        code="case_conferences",
        name={
            "de": "Fallkonferenzen und Datenaustausch mit anderen Stellen",
            "en": "Case conferences and sharing with other agencies",
        },
        purpose={
            "de": "Abstimmung mit Jobcenter, Ausländerbehörde, Jugendamt, Schulen und Trägern im Interesse "
            "der Familie, nur im Umfang der Schweigepflichtentbindung.",
            "en": "Coordinating with jobcenter, immigration office, youth office, schools and providers in "
            "the family's interest, only within the consent given.",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. a DSGVO (Einwilligung) i. V. m. § 67b Abs. 2 SGB X; "
            "Widerruf jederzeit mit Wirkung für die Zukunft.",
            "en": "Art. 6(1)(a) GDPR (consent) with § 67b(2) SGB X; withdrawal at any time with effect "
            "for the future.",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. a DSGVO (ausdrückliche Einwilligung).",
            "en": "Art. 9(2)(a) GDPR (explicit consent).",
        },
        data_subjects=("family_members", "legal_representatives", "external_professionals"),
        recipients=(
            "internal_case_management",
            "jobcenter",
            "immigration_office",
            "youth_office",
            "school",
            "health_office",
            "course_provider",
        ),
        retention={
            "de": "Wie die Fallakte: 3 Jahre nach Abschluss; Einwilligungen bis zum Ablauf der "
            "Nachweispflicht.",
            "en": "As the case file: 3 years after closure; consents as long as proof is required.",
        },
        retention_days=3 * YEARS,
        risk={
            "de": "Hoch: Weitergabe an Kontrollbehörden. Maßnahmen: externe Teilnahme technisch nur bei "
            "gültiger Einwilligung, Widerruf stoppt jede weitere Weitergabe, Empfänger werden protokolliert.",
            "en": "High: disclosure to control authorities. Measures: external participation technically "
            "requires a valid consent, withdrawal stops further sharing, recipients are logged.",
        },
    ),
    ProcessingActivity(
        code="course_referrals",
        name={"de": "Vermittlung in Kurse und Angebote", "en": "Referrals to courses and programmes"},
        purpose={
            "de": "Vermittlung von Familienmitgliedern in Integrations-, Sprach- und andere Kurse; "
            "Verfolgung von Teilnahme und Abschluss.",
            "en": "Referring family members to integration, language and other courses; following "
            "participation and completion.",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. e DSGVO i. V. m. §§ 67a ff. SGB X; Übermittlung an Träger "
            "nur, soweit zur Anmeldung erforderlich.",
            "en": "Art. 6(1)(e) GDPR with §§ 67a ff. SGB X; disclosure to providers only as far as "
            "needed for enrolment.",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. a DSGVO für Notizen zur Vermittlung, soweit sie "
            "Gesundheitsangaben enthalten.",
            "en": "Art. 9(2)(a) GDPR for referral notes that mention health.",
        },
        data_subjects=("family_members",),
        recipients=("internal_case_management", "course_provider"),
        retention={"de": "3 Jahre nach Abschluss des Falls.", "en": "3 years after the case is closed."},
        retention_days=3 * YEARS,
        risk={
            "de": "Mittel. Maßnahmen: Kapazitätsprüfung ohne Personendaten beim Träger, Protokoll jedes "
            "Statuswechsels.",
            "en": "Medium. Measures: capacity checks without personal data at the provider, every status "
            "change logged.",
        },
    ),
    ProcessingActivity(
        code="outcome_statistics",
        name={"de": "Anonymisierte Wirkungsstatistik", "en": "Anonymised outcome statistics"},
        purpose={
            "de": "Steuerung und Berichterstattung: Zielerreichung, Kursabschlüsse, Fallabschlüsse, nur "
            "als Aggregat mit Unterdrückung kleiner Fallzahlen.",
            "en": "Management and reporting: goal achievement, course completion, case closures, only as "
            "aggregates with small cells suppressed.",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. e DSGVO i. V. m. § 67c Abs. 3 SGB X (Planung und Statistik); "
            "Ergebnisse sind anonym.",
            "en": "Art. 6(1)(e) GDPR with § 67c(3) SGB X (planning and statistics); results are anonymous.",
        },
        data_subjects=("family_members",),
        recipients=("supervisors",),
        retention={
            "de": "Keine Speicherung personenbezogener Daten; Aggregate unbefristet.",
            "en": "No personal data stored; aggregates kept without limit.",
        },
        retention_days=None,
        aggregated_only=True,
        risk={
            "de": "Gering: Aggregation in der Datenbank ohne Entschlüsselung, Überlagerung nach dem "
            "Cell-Key-Verfahren (begrenztes, konsistentes Rauschen) und Sperrung kleiner Werte.",
            "en": "Low: aggregation in the database without decryption, perturbation by the cell key "
            "method (bounded, consistent noise) and suppression of small values.",
        },
    ),
    ProcessingActivity(
        code="audit_logging",
        name={
            "de": "Protokollierung von Zugriffen und Änderungen",
            "en": "Audit logging of access and changes",
        },
        purpose={
            "de": "Nachweis der Rechtmäßigkeit (Rechenschaftspflicht), Aufklärung von Missbrauch, "
            "Auskunft über Zugriffe an Betroffene.",
            "en": "Demonstrating lawfulness (accountability), investigating misuse, telling data subjects "
            "who accessed their data.",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. c DSGVO i. V. m. Art. 5 Abs. 2, Art. 24 und Art. 32 DSGVO.",
            "en": "Art. 6(1)(c) GDPR with Art. 5(2), Art. 24 and Art. 32 GDPR.",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. g DSGVO i. V. m. Art. 33 Abs. 5 DSGVO für Beschreibungen im "
            "Vorfallregister, soweit sie Gesundheitsangaben enthalten.",
            "en": "Art. 9(2)(g) GDPR with Art. 33(5) GDPR for breach register descriptions that "
            "mention health.",
        },
        data_subjects=("staff", "family_members"),
        recipients=("dpo", "it_operations"),
        retention={"de": "2 Jahre, danach Löschung.", "en": "2 years, then erased."},
        retention_days=2 * YEARS,
        risk={
            "de": "Mittel. Maßnahmen: keine Klartexte oder Chiffrate verschlüsselter Felder im Protokoll, "
            "Merkle-Baum mit signierten Prüfpunkten (Ed25519) gegen Manipulation, nur lesender Zugriff der/des DSB.",
            "en": "Medium. Measures: no plaintext or ciphertext of encrypted fields in the log, Merkle tree "
            "with Ed25519-signed checkpoints against tampering, read-only access for the DPO.",
        },
    ),
    ProcessingActivity(
        code="data_subject_rights",
        name={
            "de": "Bearbeitung von Betroffenenrechten (Auskunft, Einschränkung, Löschung)",
            "en": "Handling data subject rights (access, restriction, erasure)",
        },
        purpose={
            "de": "Auskunft nach Art. 15, Einschränkung nach Art. 18, Löschung und Anonymisierung nach "
            "Art. 17 DSGVO sowie Fristenlöschung.",
            "en": "Access (Art. 15), restriction (Art. 18), erasure and anonymisation (Art. 17 GDPR) and "
            "retention deletion.",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. c DSGVO i. V. m. Art. 12–18 DSGVO und § 84 SGB X.",
            "en": "Art. 6(1)(c) GDPR with Art. 12–18 GDPR and § 84 SGB X.",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. g DSGVO (Erfüllung der Betroffenenrechte).",
            "en": "Art. 9(2)(g) GDPR (fulfilling data subject rights).",
        },
        data_subjects=("family_members", "staff"),
        recipients=("dpo",),
        retention={
            "de": "Nachweise 3 Jahre nach Erledigung (ohne Inhaltsdaten).",
            "en": "Records 3 years after completion (without content data).",
        },
        retention_days=3 * YEARS,
        risk={
            "de": "Gering. Maßnahmen: Probelauf vor jeder Löschung, atomare Ausführung, Sperre bei "
            "Aufbewahrungspflicht.",
            "en": "Low. Measures: dry run before every erasure, atomic execution, refusal under a legal "
            "hold.",
        },
    ),
    ProcessingActivity(
        code="account_management",
        name={
            "de": "Benutzer-, Rollen- und Berechtigungsverwaltung",
            "en": "Accounts, roles and access management",
        },
        purpose={
            "de": "Anmeldung, Rollen je Organisation, Fallzuweisungen, Vertretungen und Notfallzugriffe.",
            "en": "Login, roles per organisation, case assignments, deputies and emergency access.",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. b und c DSGVO i. V. m. dem Beschäftigungsverhältnis.",
            "en": "Art. 6(1)(b) and (c) GDPR with the employment relationship.",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. a DSGVO für Begründungen von Notfallzugriffen, "
            "soweit sie Gesundheitsangaben enthalten.",
            "en": "Art. 9(2)(a) GDPR for emergency-access reasons that mention health.",
        },
        data_subjects=("staff",),
        recipients=("it_operations", "dpo"),
        retention={
            "de": "Für die Dauer der Beschäftigung; Notfallzugriffe 2 Jahre.",
            "en": "For the duration of employment; emergency accesses 2 years.",
        },
        retention_days=None,
        risk={
            "de": "Mittel. Maßnahmen: Argon2-Passwörter, ablaufende Tokens, Drosselung von Anmeldungen, "
            "Protokoll aller Rechteänderungen.",
            "en": "Medium. Measures: Argon2 passwords, expiring tokens, login throttling, every change of "
            "rights logged.",
        },
    ),
    ProcessingActivity(
        code="key_management",
        name={
            "de": "Schlüsselwechsel der Feldverschlüsselung",
            "en": "Rotation of the field encryption keys",
        },
        purpose={
            "de": "Neuverschlüsselung gespeicherter Werte unter dem aktiven Schlüssel, damit alte "
            "Schlüssel außer Betrieb genommen werden können (Art. 32 DSGVO).",
            "en": "Re-encrypting stored values under the active key so that old keys can be retired "
            "(Art. 32 GDPR).",
        },
        legal_basis={
            "de": "Art. 6 Abs. 1 lit. c DSGVO i. V. m. Art. 32 DSGVO.",
            "en": "Art. 6(1)(c) GDPR with Art. 32 GDPR.",
        },
        data_subjects=("family_members", "staff"),
        recipients=("it_operations",),
        retention={
            "de": "Keine eigene Speicherung; die Werte behalten die Frist ihrer Tätigkeit.",
            "en": "Nothing stored of its own; values keep the retention of their activity.",
        },
        special_categories_basis={
            "de": "Art. 9 Abs. 2 lit. g DSGVO i. V. m. Art. 32 DSGVO (Schutz der verschlüsselten "
            "besonderen Kategorien; die Werte werden nur im Speicher neu verschlüsselt).",
            "en": "Art. 9(2)(g) GDPR with Art. 32 GDPR (protecting the encrypted special categories; "
            "values are only re-encrypted in memory).",
        },
        uses_encrypted_fields=True,
        retention_days=None,
        risk={
            "de": "Gering: Werte werden nur im Speicher entschlüsselt und sofort neu verschlüsselt; "
            "Schlüssel nur aus Umgebung oder Schlüsseldatei.",
            "en": "Low: values are decrypted only in memory and re-encrypted at once; keys only from "
            "the environment or a key file.",
        },
    ),
)


@cache
def activities_by_code() -> dict[str, ProcessingActivity]:
    return {a.code: a for a in ACTIVITIES}


def technical_measures() -> list[Text]:
    """Art. 32 measures as the running configuration shows them."""
    enc = settings.FIELD_ENCRYPTION_KEYRING
    bidx = settings.BLIND_INDEX_KEYRING
    ttl: datetime.timedelta = settings.REST_KNOX["TOKEN_TTL"]  # type: ignore[assignment]
    ttl_hours = ttl.total_seconds() / 3600
    hasher = settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1].replace("PasswordHasher", "")
    return [
        {
            "de": f"Feldverschlüsselung AES-256-GCM mit Schlüsselkennung; {len(enc.keys)} Schlüssel konfiguriert, "
            f"aktiv: {enc.active}; Schlüssel nur aus Umgebung/Schlüsseldatei.",
            "en": f"Field encryption AES-256-GCM with key ids; {len(enc.keys)} key(s) configured, active: "
            f"{enc.active}; keys only from the environment or a key file.",
        },
        {
            "de": f"Suche über HMAC-SHA256-Blindindizes mit eigenem Schlüssel ({len(bidx.keys)} konfiguriert).",
            "en": f"Search through HMAC-SHA256 blind indexes with a separate key ({len(bidx.keys)} configured).",
        },
        {
            "de": "Objektberechtigungen je Familie (django-guardian); Mandantentrennung; fremde Objekte "
            "antworten 404.",
            "en": "Object permissions per family (django-guardian); tenant separation; other tenants' objects "
            "answer 404.",
        },
        {
            "de": "Protokollierung aller Schreib- und Lesezugriffe (django-auditlog) als Transparenzprotokoll "
            "(Merkle-Baum nach RFC 9162, Prüfpunkte mit Ed25519 signiert, Schlüssel außerhalb der Datenbank).",
            "en": "Logging of every write and read (django-auditlog) as a transparency log (RFC 9162 Merkle "
            "tree, checkpoints signed with Ed25519, key outside the database).",
        },
        {
            "de": f"Passwörter mit {hasher}; Tokens laufen nach {ttl_hours:g} h ab; Anmeldeversuche gedrosselt.",
            "en": f"Passwords hashed with {hasher}; tokens expire after {ttl_hours:g} h; login attempts throttled.",
        },
        {
            "de": "Dokumente (PDF, Bilder) je Datei mit eigenem Schlüssel verschlüsselt (AES-256-GCM, "
            "segmentweise gestreamt); der Dateischlüssel ist mit dem Feldschlüssel verschlüsselt, der "
            "Dateityp wird aus dem Inhalt bestimmt, jeder Download wird protokolliert.",
            "en": "Documents (PDF, images) encrypted with a key per file (AES-256-GCM, streamed in "
            "segments); the file key is wrapped by the field key, the type is sniffed from the content, "
            "every download is logged.",
        },
        {
            # The justification the KIM report needs for a clear column beside an encrypted one.
            "de": "Im Klartext neben verschlüsselten Angaben nur grobe Kategorien für Statistik und den "
            "Bericht an das Land: Geburtsjahr (statt Geburtsdatum) und Aufenthaltskategorie in vier "
            "Klassen (gesichert, befristet, ungesichert, unbekannt; statt des genauen Aufenthaltsstatus). "
            "Jede Klasse umfasst viele Personen; Auswertungen nur über das Cell-Key-Verfahren.",
            "en": "In clear beside encrypted details only coarse categories for statistics and the report "
            "to the Land: birth year (not the date of birth) and a residence category in four classes "
            "(secure, temporary, precarious, unknown; not the exact residence status). Each class holds "
            "many persons; figures only through the cell key method.",
        },
        {
            "de": "Transportverschlüsselung (HTTPS, HSTS) im Produktivbetrieb"
            + ("" if settings.SECURE_HSTS_SECONDS else " – derzeit nicht aktiv (Entwicklung)")
            + ".",
            "en": "Transport encryption (HTTPS, HSTS) in production"
            + ("" if settings.SECURE_HSTS_SECONDS else " – currently off (development)")
            + ".",
        },
    ]


#: Organisational measures (Art. 32(1), Art. 30(1)(g)) with German defaults; an organisation
#: overrides any of them in its ``ControllerProfile.organisational_measures``.
ORGANISATIONAL_MEASURES: dict[str, dict[str, Text]] = {
    "confidentiality": {
        "title": {"de": "Verpflichtung auf Vertraulichkeit", "en": "Confidentiality commitments"},
        "text": {
            "de": "Alle Beschäftigten sind auf das Sozialgeheimnis (§ 35 SGB I) und die Vertraulichkeit "
            "nach Art. 29 und Art. 32 Abs. 4 DSGVO schriftlich verpflichtet.",
            "en": "All staff have signed a commitment to social data secrecy (§ 35 SGB I) and to "
            "confidentiality under Art. 29 and Art. 32(4) GDPR.",
        },
    },
    "training": {
        "title": {"de": "Schulung", "en": "Training"},
        "text": {
            "de": "Datenschutzschulung vor Aufnahme der Tätigkeit und jährlich; Teilnahme wird dokumentiert.",
            "en": "Data protection training before starting work and every year; attendance is recorded.",
        },
    },
    "backup": {
        "title": {"de": "Datensicherung und Wiederherstellung", "en": "Backup and restore"},
        "text": {
            "de": "Tägliche verschlüsselte Sicherung, Aufbewahrung 30 Tage; Wiederherstellung wird "
            "halbjährlich geprobt.",
            "en": "Daily encrypted backups kept for 30 days; restore is rehearsed every six months.",
        },
    },
    "incident": {
        "title": {"de": "Umgang mit Datenschutzvorfällen", "en": "Incident process"},
        "text": {
            "de": "Vorfälle werden sofort der/dem DSB gemeldet, im Vorfallregister erfasst und binnen "
            "72 Stunden der Aufsichtsbehörde gemeldet, soweit ein Risiko besteht (Art. 33 DSGVO).",
            "en": "Incidents are reported to the DPO at once, entered in the breach register and "
            "notified to the supervisory authority within 72 hours where there is a risk (Art. 33 GDPR).",
        },
    },
    "roles": {
        "title": {"de": "Rollen- und Berechtigungskonzept", "en": "Role concept"},
        "text": {
            "de": "Zugriff nur nach Rolle (Fallverantwortliche, Teamleitung, DSB, Administration) und "
            "Fallzuweisung; Vergabe und Entzug von Rechten werden protokolliert und jährlich überprüft.",
            "en": "Access only by role (case manager, supervisor, DPO, administrator) and case "
            "assignment; granting and revoking rights is logged and reviewed every year.",
        },
    },
}

ARRANGEMENT_TEXT: dict[str, Text] = {
    "sole": {"de": "Alleinverantwortlicher", "en": "Sole controller"},
    "joint": {
        "de": "Gemeinsam Verantwortliche nach Art. 26 DSGVO mit {partner}",
        "en": "Joint controllers under Art. 26 GDPR with {partner}",
    },
    "processor": {
        "de": "Verarbeitung im Auftrag von {partner} nach Art. 28 DSGVO",
        "en": "Processing on behalf of {partner} under Art. 28 GDPR",
    },
}

MISSING: Text = {"de": "fehlt – bitte ergänzen", "en": "missing – please complete"}


def controller_section(organisation: Any, lang: str) -> dict[str, Any]:
    """Art. 30(1)(a): the controller of ``organisation`` from its profile; gaps are named."""
    from privacy.models import ControllerProfile

    profile = (
        ControllerProfile.objects.select_related("arrangement_partner")
        .filter(organisation=organisation)
        .first()
    )
    if profile is None:
        return {
            "organisation": str(organisation.pk),
            "name": organisation.name,
            "address": "",
            "representative": "",
            "dpo_contact": "",
            "arrangement": "sole",
            "arrangement_text": ARRANGEMENT_TEXT["sole"][lang],
            "arrangement_partner": None,
            "arrangement_reference": "",
            "processors": [],
            "missing": ["address", "representative", "dpo_contact"],
            "updated_at": None,
        }
    partner = profile.arrangement_partner
    return {
        "organisation": str(organisation.pk),
        "name": profile.name,
        "address": profile.address,
        "representative": profile.representative,
        "dpo_contact": profile.dpo_contact,
        "arrangement": profile.arrangement,
        "arrangement_text": ARRANGEMENT_TEXT[profile.arrangement][lang].format(
            partner=partner.name if partner else ""
        ),
        "arrangement_partner": {"id": str(partner.pk), "name": partner.name} if partner else None,
        "arrangement_reference": profile.arrangement_reference,
        "processors": [line.strip() for line in profile.processors.splitlines() if line.strip()],
        "missing": [
            f for f in ("name", "address", "representative", "dpo_contact") if not getattr(profile, f)
        ],
        "updated_at": profile.updated_at.isoformat(timespec="seconds"),
    }


def organisational_measures(organisation: Any, lang: str) -> list[dict[str, Any]]:
    """The organisation's measures: its own text where given, else the German/English default."""
    from privacy.models import ControllerProfile

    overrides: dict[str, str] = {}
    if organisation is not None:
        profile = ControllerProfile.objects.filter(organisation=organisation).first()
        overrides = dict(profile.organisational_measures) if profile else {}
    return [
        {
            "code": code,
            "title": measure["title"][lang],
            "text": overrides.get(code) or measure["text"][lang],
            "default": code not in overrides,
        }
        for code, measure in ORGANISATIONAL_MEASURES.items()
    ]


def record(lang: str = "en", organisation: Any = None) -> dict[str, Any]:
    """The whole record in one language, as plain data (JSON, CSV and HTML are made from it).

    With ``organisation``, the record of that controller: its controller details,
    arrangement, processors, transfers statement and organisational measures.
    """
    from privacy.classification import category_label
    from privacy.models import ControllerProfile

    measures = [m[lang] for m in technical_measures()]
    org_measures = organisational_measures(organisation, lang)
    controller = controller_section(organisation, lang) if organisation is not None else None
    profile = ControllerProfile.objects.filter(organisation=organisation).first() if organisation else None
    transfers = profile.third_country_transfers if profile and profile.third_country_transfers else None
    details: dict[str, dict[str, str]] = dict(profile.activity_details) if profile else {}
    periods = _configured_periods(organisation)
    return {
        "controller": controller or {"name": CONTROLLER[lang], "missing": []},
        "technical_and_organisational_measures": measures
        + [f"{m['title']}: {m['text']}" for m in org_measures],
        "technical_measures": measures,
        "organisational_measures": org_measures,
        "activities": [
            {
                "code": a.code,
                "name": a.name[lang],
                "purpose": a.purpose[lang],
                "legal_basis": a.legal_basis[lang],
                "special_categories_basis": a.special_categories_basis[lang]
                if a.special_categories_basis
                else None,
                "data_subjects": [DATA_SUBJECTS[s][lang] for s in a.data_subjects],
                "data_categories": [
                    {"code": c.value, "label": category_label(c, lang), "special": c in SPECIAL_CATEGORIES}
                    for c in a.data_categories()
                ],
                "aggregated_only": a.aggregated_only,
                "recipients": [{"code": r, "label": RECIPIENTS[r][lang]} for r in a.recipients],
                # Art. 30(1)(d): the processors by name, where IT operations receive the data.
                "processors": (controller or {}).get("processors", [])
                if "it_operations" in a.recipients
                else [],
                "third_country_transfers": transfers or a.third_country_transfers[lang],
                "retention": a.retention[lang],
                "retention_days": a.retention_days,
                # Art. 30(1)(f): the periods the retention rules of this activity apply, as configured.
                "retention_periods": retention_periods(a.code, lang, periods),
                "risk_assessment": a.risk[lang],
                "responsible_unit": details.get(a.code, {}).get("responsible_unit", ""),
                "dpia_reference": details.get(a.code, {}).get("dpia_reference", ""),
                "models": list(a.models),
            }
            for a in ACTIVITIES
        ],
    }


def _configured_periods(organisation: Any) -> dict[str, int]:
    from privacy.retention import RULES, periods_for

    if organisation is None:
        return {rule.code: rule.default_days for rule in RULES}
    return periods_for(organisation.pk)


def retention_periods(activity: str, lang: str, periods: dict[str, int]) -> list[dict[str, Any]]:
    """The retention rules of one activity with the period each has for the organisation."""
    from privacy.retention import RULES

    return [
        {
            "rule": rule.code,
            "label": rule.label[lang],
            "reference": rule.reference[lang],
            "period_days": periods[rule.code],
            "default_days": rule.default_days,
        }
        for rule in RULES
        if rule.activity == activity
    ]


def anonymisation() -> dict[str, dict[str, str]]:
    """How erasure and retention treat each field, per family-owned model (its ``ANONYMISE``).

    Everything identifying is cleared ("clear" sets "" or NULL, "mark" writes a fixed
    placeholder for required names); fields not named are kept as coarse facts.
    """
    from casemgmt.models.base import family_owned_models

    return {m._meta.label: dict(m.ANONYMISE) for m in family_owned_models() if m.ANONYMISE}  # type: ignore[attr-defined]


ANONYMISED_MARK = "[anonymised]"


#: Parts of a generated record that are not its content (they change on every generation).
VOLATILE = ("generated", "period", "observed")


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Paths to leaf values; lists of coded items are keyed by their code, lists of text are sets."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in VOLATILE or key == "updated_at":
                continue
            out.update(_flatten(item, f"{path}.{key}" if path else key))
    elif isinstance(value, list) and all(isinstance(i, dict) and "code" in i for i in value):
        for item in value:
            out.update(_flatten(item, f"{path}[{item['code']}]"))
    elif isinstance(value, list):
        for item in value:
            out[f"{path}[{item}]"] = True
    else:
        out[path] = value
    return out


def record_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two records: added, removed or changed items by path."""
    before = _flatten(old or {})
    after = _flatten(new)
    changes: list[dict[str, Any]] = []
    for path in sorted(set(before) | set(after)):
        if path not in before:
            changes.append({"change": "added", "path": path, "value": after[path]})
        elif path not in after:
            changes.append({"change": "removed", "path": path, "value": before[path]})
        elif before[path] != after[path]:
            changes.append({"change": "changed", "path": path, "from": before[path], "to": after[path]})
    return changes


def record_content(organisation: Any) -> dict[str, Any]:
    """The record of ``organisation`` (German, the language of the signed document) without figures."""
    data = record("de", organisation=organisation)
    for activity in data["activities"]:
        activity.pop("models", None)
    return data
