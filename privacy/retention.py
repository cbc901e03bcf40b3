"""Retention (Art. 5(1)(e)): every table holding personal data has a rule, applied per organisation.

Like SORMAS's deletion configuration, a rule names the entity, its reference date and a
period; the default period is the processing activity's in the registry (or the rule's
own where the activity states none), and each organisation's DPO may set another within
the rule's documented minimum and maximum (``privacy.models.RetentionPeriod``). The
nightly job (``privacy.jobs.run_retention``) and ``manage.py apply_retention`` apply every
rule to every organisation and store a report of counts (``RetentionReport``); with
``dry_run`` nothing changes and the same report is returned.

Safe to run daily: a row is selected only while it is past its period and not yet
anonymised or deleted, so a second run finds nothing to do. Rows of a family under a legal
hold, or with a member under an Art. 18 restriction, are kept and counted as ``kept``.

Every write is one transaction per rule and organisation, attributed to the acting system
process (``acting_as_system``) under ``data_subject_rights``, with one non-identifying
tombstone per model in the audit trail (as erasure writes).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.apps import apps
from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from casemgmt import policies
from casemgmt.db import in_batches
from casemgmt.services.common import invalid
from privacy import erasure
from privacy.audit import audited_write, log_bulk
from privacy.registry import Activity, Text, activities_by_code

YEAR = 365

Action = Literal["anonymise_case", "anonymise", "delete", "prune_audit"]


@dataclass(frozen=True)
class Cutoff:
    """The end of a period, as the date and the (aware) moment it starts: rows older are due."""

    today: datetime.date
    date: datetime.date
    at: datetime.datetime

    @classmethod
    def of(cls, today: datetime.date, days: int) -> Cutoff:
        date = today - datetime.timedelta(days=days)
        return cls(today, date, timezone.make_aware(datetime.datetime.combine(date, datetime.time())))


@dataclass(frozen=True)
class RetentionRule:
    """One entity's retention: which rows, from which date, for how long, and what happens then.

    ``due`` narrows the model's rows to those past the period (the condition and the
    reference date together). ``organisation_path`` is the ORM lookup to the organisation;
    None for tables of no single organisation (one period for all). Rows of a family
    (``FamilyOwned``) are kept while a legal hold or a restriction applies.
    """

    code: str
    model: str
    label: Text
    reference: Text
    action: Action
    activity: str
    due: Callable[[QuerySet[Any], Cutoff], QuerySet[Any]]
    min_days: int
    max_days: int
    organisation_path: str | None
    #: Own default where the activity declares no period (accounts, keys).
    own_default_days: int | None = None
    #: Further models whose rows the rule handles (erasure of a case takes every record of it).
    covers: tuple[str, ...] = ()

    @property
    def default_days(self) -> int:
        """The registry's period for the rule's activity, else the rule's own default."""
        if self.own_default_days is not None:
            return self.own_default_days
        days = activities_by_code()[self.activity].retention_days
        if days is None:
            raise RuntimeError(f"Retention rule {self.code} needs a period: its activity declares none.")
        return days

    @property
    def per_organisation(self) -> bool:
        return self.organisation_path is not None

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)


def _closed_cases(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    return qs.filter(status="closed", closed_on__lt=c.date, anonymised_at__isnull=True)


def _dormant_intake(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    """Intake cases nobody has touched since the cutoff: no record of the case written since.

    "Touched" is any family-owned record created or changed since then (contacts, goals,
    members, documents, conferences ...), found from the records' own declarations, so a
    new kind of record counts as activity without a change here.
    """
    from casemgmt.models.base import family_owned_models

    qs = qs.filter(status="intake", anonymised_at__isnull=True, updated_at__lt=c.at, opened_on__lt=c.date)
    for model in family_owned_models():
        path: str = model.FAMILY_PATH  # type: ignore[attr-defined]
        names = {f.name for f in model._meta.concrete_fields}
        stamp = "updated_at" if "updated_at" in names else "created_at" if "created_at" in names else ""
        if path == "pk" or not stamp:
            continue
        recent = model._default_manager.filter(**{path: OuterRef("pk"), f"{stamp}__gte": c.at})
        qs = qs.filter(~Exists(recent))
    return qs


def _first_set_before(qs: QuerySet[Any], fields: tuple[str, str], before: Any) -> QuerySet[Any]:
    """Rows whose reference date (the first of ``fields`` that is set) lies before ``before``."""
    annotated: QuerySet[Any] = qs.annotate(_reference=Coalesce(*fields))
    return annotated.filter(_reference__lt=before)


def _ended_emergency_access(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    # Reference: when the access ended (ended early) or ran out.
    return _first_set_before(qs, ("ended_at", "expires_at"), c.at)


def _decided_emergency_request(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    return qs.filter(status__in=("approved", "declined"), decided_at__lt=c.at)


def _ended_consent(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    # Reference: the day it stopped covering sharing (withdrawn, else run out). A consent
    # without an end still covers and is kept; it goes with its case.
    return _first_set_before(qs.filter(anonymised_at__isnull=True), ("withdrawn_on", "valid_until"), c.date)


def _on(field_name: str, **conditions: Any) -> Callable[[QuerySet[Any], Cutoff], QuerySet[Any]]:
    """A ``due`` function: rows matching ``conditions`` whose datetime ``field_name`` is past the cutoff."""

    def due(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
        return qs.filter(**conditions, **{f"{field_name}__lt": c.at})

    return due


def _ended_deputyship(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    return qs.filter(ends_at__isnull=False, ends_at__lt=c.at)


def _spent_token(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    return _first_set_before(qs, ("used_at", "expires_at"), c.at)


def _no_rows(qs: QuerySet[Any], c: Cutoff) -> QuerySet[Any]:
    return qs.none()  # the audit log is pruned by sealed range, not by row (prune_sealed)


def _case_records() -> tuple[str, ...]:
    from casemgmt.models.base import family_owned_models

    return tuple(m._meta.label for m in family_owned_models())


RIGHTS = {"de": "Abschluss der Bearbeitung", "en": "the request was completed"}


def _rights_record(**fields: Any) -> RetentionRule:
    """A record of a data subject request (Art. 16-21): deleted after 1 to 10 years."""
    return RetentionRule(
        action="delete",
        activity=Activity.DATA_SUBJECT_RIGHTS,
        min_days=1 * YEAR,
        max_days=10 * YEAR,
        **fields,
    )


RULES: tuple[RetentionRule, ...] = (
    RetentionRule(
        code="closed_cases",
        model="casemgmt.Family",
        label={"de": "Abgeschlossene Fälle", "en": "Closed cases"},
        reference={"de": "Datum des Fallabschlusses", "en": "the day the case was closed"},
        action="anonymise_case",
        activity=Activity.CASE_MANAGEMENT,
        due=_closed_cases,
        min_days=1 * YEAR,
        max_days=10 * YEAR,
        organisation_path="organisation_id",
        covers=("casemgmt.Family",),
    ),
    RetentionRule(
        code="dormant_intake",
        model="casemgmt.Family",
        label={
            "de": "Aufnahmefälle ohne Aktivität (nie begonnen)",
            "en": "Intake cases with no activity (never started)",
        },
        reference={
            "de": "letzte Änderung am Fall oder an einem seiner Datensätze",
            "en": "the last change to the case or any of its records",
        },
        action="anonymise_case",
        activity=Activity.CASE_MANAGEMENT,
        due=_dormant_intake,
        own_default_days=1 * YEAR,
        min_days=180,
        max_days=3 * YEAR,
        organisation_path="organisation_id",
    ),
    RetentionRule(
        code="emergency_access",
        model="casemgmt.EmergencyAccess",
        label={"de": "Notfallzugriffe", "en": "Emergency accesses"},
        reference={"de": "Ende oder Ablauf des Zugriffs", "en": "the end or expiry of the access"},
        action="delete",
        activity=Activity.ACCOUNT_MANAGEMENT,
        due=_ended_emergency_access,
        # As long as the audit log keeps the reads the access allowed (2 years), for review.
        own_default_days=2 * YEAR,
        min_days=1 * YEAR,
        max_days=5 * YEAR,
        organisation_path="family__organisation_id",
    ),
    RetentionRule(
        code="emergency_access_requests",
        model="casemgmt.EmergencyAccessRequest",
        label={"de": "Anträge auf Notfallzugriff", "en": "Requests for emergency access"},
        reference={"de": "Entscheidung über den Antrag", "en": "the decision on the request"},
        action="delete",
        activity=Activity.ACCOUNT_MANAGEMENT,
        due=_decided_emergency_request,
        own_default_days=2 * YEAR,
        min_days=1 * YEAR,
        max_days=5 * YEAR,
        organisation_path="family__organisation_id",
    ),
    RetentionRule(
        code="consents",
        model="casemgmt.Consent",
        label={"de": "Beendete Einwilligungen", "en": "Ended consents"},
        reference={
            "de": "Widerruf oder Ablauf der Einwilligung",
            "en": "the withdrawal or expiry of the consent",
        },
        action="anonymise",
        activity=Activity.CASE_CONFERENCES,
        due=_ended_consent,
        min_days=1 * YEAR,
        max_days=10 * YEAR,
        organisation_path="family__organisation_id",
    ),
    _rights_record(
        code="restrictions",
        model="privacy.Restriction",
        label={"de": "Aufgehobene Einschränkungen (Art. 18)", "en": "Lifted restrictions (Art. 18)"},
        reference={"de": "Aufhebung der Einschränkung", "en": "the day the restriction was lifted"},
        due=_on("lifted_at", lifted_at__isnull=False),
        organisation_path="person__family__organisation_id",
    ),
    _rights_record(
        code="rectifications",
        model="privacy.Rectification",
        label={"de": "Berichtigungen (Art. 16)", "en": "Rectifications (Art. 16)"},
        reference={"de": "Datum der Berichtigung", "en": "the day of the rectification"},
        due=_on("rectified_at"),
        organisation_path="person__family__organisation_id",
    ),
    _rights_record(
        code="objections",
        model="privacy.Objection",
        label={"de": "Entschiedene Widersprüche (Art. 21)", "en": "Decided objections (Art. 21)"},
        reference={"de": "Entscheidung über den Widerspruch", "en": "the decision on the objection"},
        due=_on("decided_at", decided_at__isnull=False),
        organisation_path="person__family__organisation_id",
    ),
    _rights_record(
        code="recipient_notices",
        model="privacy.RecipientNotice",
        label={
            "de": "Erledigte Empfängerunterrichtungen (Art. 19)",
            "en": "Completed notices to recipients (Art. 19)",
        },
        reference={"de": "Unterrichtung des Empfängers", "en": "the day the recipient was informed"},
        due=_on("informed_at", informed_at__isnull=False),
        organisation_path="person__family__organisation_id",
    ),
    _rights_record(
        code="erasure_requests",
        model="privacy.ErasureRequest",
        label={"de": "Löschanträge (Art. 17)", "en": "Erasure requests (Art. 17)"},
        reference={"de": "Eingang des Antrags", "en": "the day of the request"},
        due=_on("requested_at"),
        organisation_path="organisation_id",
    ),
    RetentionRule(
        code="breaches",
        model="privacy.Breach",
        label={"de": "Datenschutzvorfälle (Art. 33 Abs. 5)", "en": "Personal data breaches (Art. 33(5))"},
        reference={"de": "Entdeckung des Vorfalls", "en": "the discovery of the breach"},
        action="delete",
        activity=Activity.AUDIT_LOGGING,
        due=_on("discovered_at"),
        # The supervisory authority may check the documentation; five years, as for audits.
        own_default_days=5 * YEAR,
        min_days=3 * YEAR,
        max_days=10 * YEAR,
        organisation_path="organisation_id",
    ),
    RetentionRule(
        code="deputyships",
        model="casemgmt.Deputyship",
        label={"de": "Beendete Vertretungen", "en": "Ended deputyships"},
        reference={"de": "Ende der Vertretung", "en": "the end of the deputyship"},
        action="delete",
        activity=Activity.ACCOUNT_MANAGEMENT,
        due=_ended_deputyship,
        own_default_days=1 * YEAR,
        min_days=90,
        max_days=3 * YEAR,
        organisation_path="organisation_id",
    ),
    RetentionRule(
        code="set_password_tokens",
        model="casemgmt.SetPasswordToken",
        label={"de": "Verbrauchte Passwort-Links", "en": "Spent set-password links"},
        reference={"de": "Nutzung oder Ablauf des Links", "en": "the use or expiry of the link"},
        action="delete",
        activity=Activity.ACCOUNT_MANAGEMENT,
        due=_spent_token,
        own_default_days=30,
        min_days=30,
        max_days=30,
        organisation_path=None,
    ),
    RetentionRule(
        code="audit_log",
        model="privacy.AuditEntry",
        label={"de": "Protokolleinträge", "en": "Audit log entries"},
        reference={"de": "Zeitpunkt des Eintrags", "en": "the time of the entry"},
        action="prune_audit",
        activity=Activity.AUDIT_LOGGING,
        due=_no_rows,
        # One Merkle tree for all organisations: pruned as a whole, by sealed range.
        min_days=2 * YEAR,
        max_days=2 * YEAR,
        organisation_path=None,
    ),
)

#: Every record of a family's case goes with the case (erasure iterates their declarations).
CASE_RULE_COVERS = ("closed_cases", "dormant_intake")

#: Models holding personal data that no retention rule deletes or anonymises, and why.
KEPT: dict[str, str] = {
    "casemgmt.User": "staff accounts: deactivated, not deleted, so audit entries and case history "
    "stay attributable; an account holds only name, username and e-mail",
    "casemgmt.Membership": "a staff member's current role; removed with the role, not by age",
    "casemgmt.Caseload": "a case manager's caseload group; exists as long as the account",
    "casemgmt.FamilyUserObjectPermission": "a grant of case access that follows the case assignment "
    "(assign, transfer); it names only the staff member and the case",
    "privacy.RecordVersion": "the Art. 30 record's history (accountability, Art. 5(2)); names only "
    "the DPO who stored the version",
    "privacy.RetentionPeriod": "this configuration; names only the DPO who set the period",
}


def rules_by_code() -> dict[str, RetentionRule]:
    return {r.code: r for r in RULES}


def covered_models() -> dict[str, list[str]]:
    """Model label -> codes of the rules that delete or anonymise its rows."""
    found: dict[str, list[str]] = {}
    for rule in RULES:
        labels = {rule.model, *rule.covers}
        if rule.code in CASE_RULE_COVERS:
            labels.update(_case_records())
        for label in labels:
            found.setdefault(label, []).append(rule.code)
    return found


# --- periods per organisation


def periods_for(organisation_id: Any) -> dict[str, int]:
    """The period in days of every rule for one organisation: its own where set, else the default."""
    from privacy.models import RetentionPeriod

    own = dict(RetentionPeriod.objects.filter(organisation_id=organisation_id).values_list("rule", "days"))
    return {
        rule.code: own.get(rule.code, rule.default_days) if rule.per_organisation else rule.default_days
        for rule in RULES
    }


def case_retention_days(organisation_id: Any = None) -> int:
    """The closed-case period (the registry's, or the organisation's own)."""
    if organisation_id is None:
        return rules_by_code()["closed_cases"].default_days
    return periods_for(organisation_id)["closed_cases"]


@audited_write(Activity.DATA_SUBJECT_RIGHTS)
def retention_periods_set(
    *, organisation: Any, periods: dict[str, int | None], acting_user: Any
) -> dict[str, int]:
    """Replace the organisation's own periods (the DPO of that organisation only).

    A rule left out, or given as null, falls back to its default. Each period must lie
    within the rule's minimum (what the law or the purpose needs at least) and maximum
    (beyond it the data would be kept longer than any purpose justifies).
    """
    from casemgmt.models import Role
    from privacy.models import RetentionPeriod

    policies.require_role_in(acting_user, organisation, Role.DPO, obj=organisation)
    rules = rules_by_code()
    for code, days in periods.items():
        rule = rules.get(code)
        if rule is None:
            raise invalid("periods", f"Unknown retention rule: {code}.", "unknown_rule")
        if days is None:
            continue
        if not rule.per_organisation:
            raise invalid("periods", f"{code} has one period for all organisations.", "not_configurable")
        if not rule.min_days <= days <= rule.max_days:
            raise invalid(
                "periods",
                f"{code}: the period must lie between {rule.min_days} and {rule.max_days} days.",
                "out_of_bounds",
            )
    wanted = {code: days for code, days in periods.items() if days is not None}
    existing = {
        p.rule: p for p in RetentionPeriod.objects.select_for_update().filter(organisation=organisation)
    }
    for code, period in existing.items():
        if code not in wanted:
            period.delete()
    for code, days in wanted.items():
        period = existing.get(code) or RetentionPeriod(organisation=organisation, rule=code, days=days)
        if period._state.adding or period.days != days:
            period.days = days
            period.updated_by = acting_user
            period.full_clean()
            period.save()
    return periods_for(organisation.pk)


# --- applying the rules


@dataclass
class ReportLine:
    """One rule for one organisation: how many rows were past the period, kept, and handled."""

    rule: str
    period_days: int
    due: int = 0
    kept: int = 0
    applied: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "period_days": self.period_days,
            "due": self.due,
            "kept": self.kept,
            "applied": self.applied,
        }


@dataclass
class RetentionRun:
    """The report of one run: lines per organisation (None: rules of no single organisation)."""

    dry_run: bool
    ran_at: datetime.datetime
    run_id: uuid.UUID = field(default_factory=uuid.uuid4)
    lines: dict[Any, list[ReportLine]] = field(default_factory=dict)
    #: References of the cases anonymised (or that would be), for the operator's console only.
    case_references: list[str] = field(default_factory=list)

    def line(self, organisation_id: Any, rule: str) -> ReportLine:
        return next(item for item in self.lines.get(organisation_id, []) if item.rule == rule)

    def total(self, rule: str, what: str = "applied") -> int:
        return sum(
            getattr(item, what) for items in self.lines.values() for item in items if item.rule == rule
        )

    def save(self, trigger: str) -> None:
        """Store the report (counts only), one row per organisation."""
        from privacy.models import RetentionReport

        RetentionReport.objects.bulk_create(
            RetentionReport(
                run_id=self.run_id,
                organisation_id=organisation_id,
                ran_at=self.ran_at,
                dry_run=self.dry_run,
                trigger=trigger,
                lines=[item.as_dict() for item in items],
            )
            for organisation_id, items in self.lines.items()
        )


def _family_path(model: type[models.Model]) -> str | None:
    from casemgmt.models.base import FamilyOwned

    return model.FAMILY_PATH if issubclass(model, FamilyOwned) else None  # type: ignore[attr-defined]


def _not_held(qs: QuerySet[Any], model: type[models.Model], today: datetime.date) -> QuerySet[Any]:
    """Leave out rows of a family under a legal hold or with a member whose processing is restricted."""
    from casemgmt.models import Family
    from privacy.models import Restriction

    path = _family_path(model)
    if path is None:
        return qs
    held = Family.objects.filter(pk=OuterRef(path), legal_hold_until__gte=today)
    restricted = Restriction.objects.filter(person__family_id=OuterRef(path), lifted_at__isnull=True)
    return qs.filter(~Exists(held), ~Exists(restricted))


def _delete(rule: RetentionRule, ids: list[Any], organisation_id: Any, days: int) -> None:
    """Delete the rows in one transaction; one tombstone (auditlog would write one entry per row)."""
    from auditlog.context import disable_auditlog

    from privacy.models import AuditEntry

    model = rule.model_class()
    with transaction.atomic():
        per_model: dict[str, int] = {}
        with disable_auditlog():
            for batch in in_batches(ids):  # one parameter per id: under PostgreSQL's 65,535
                _total, deleted = model._default_manager.filter(pk__in=batch).delete()
                for label, n in deleted.items():
                    per_model[label] = per_model.get(label, 0) + n
        also = {label: n for label, n in per_model.items() if label != rule.model and n}
        note = f"retention {rule.code}: deleted after {days} days"
        if also:
            note += " (with " + ", ".join(f"{n} {label}" for label, n in sorted(also.items())) + ")"
        log_bulk(
            model=model,
            action=AuditEntry.Action.DELETE,
            object_ids=ids,
            activity=Activity.DATA_SUBJECT_RIGHTS,
            organisation_id=organisation_id,
            note=note,
        )


def _apply_case_rule(
    rule: RetentionRule, qs: QuerySet[Any], line: ReportLine, run: RetentionRun, days: int
) -> None:
    """Anonymise each case through erasure (one transaction each); a refused plan keeps the case."""
    from casemgmt.models import Family
    from privacy.models import AuditEntry

    for family in qs.order_by("opened_on", "reference"):
        with transaction.atomic():
            if rule.code == "dormant_intake" and not run.dry_run:
                # A case that never started is closed as "contact lost" before it is anonymised,
                # so lists and statistics do not show it as an open intake forever.
                Family.objects.filter(pk=family.pk).update(
                    status="closed", closed_on=timezone.localdate(run.ran_at), closure_outcome="no_contact"
                )
                log_bulk(
                    model=Family,
                    action=AuditEntry.Action.UPDATE,
                    object_ids=[family.pk],
                    activity=Activity.DATA_SUBJECT_RIGHTS,
                    organisation_id=family.organisation_id,
                    note=f"retention {rule.code}: closed, no activity for {days} days",
                )
                family.refresh_from_db()
            plan = erasure.plan_family(family)
            if (
                rule.code == "dormant_intake"
                and run.dry_run
                and plan.refusal
                and plan.refusal[0] == "open_case"
            ):
                plan.refusal = None  # the run would close it first
            if plan.refusal is not None:
                line.kept += 1
                if not run.dry_run:
                    transaction.set_rollback(True)  # leave a dormant case open if it cannot go
                continue
            run.case_references.append(family.reference)
            if not run.dry_run:
                erasure.execute(plan, note=f"retention {rule.code} after {days} days")
                line.applied += 1


def _apply_rule(
    rule: RetentionRule, organisation_id: Any, days: int, run: RetentionRun, today: datetime.date
) -> ReportLine:
    line = ReportLine(rule.code, days)
    if rule.action == "prune_audit":
        pruned = apply_audit_retention(dry_run=run.dry_run, today=today)
        line.due = pruned
        line.applied = 0 if run.dry_run else pruned
        return line
    model = rule.model_class()
    qs = rule.due(model._default_manager.all(), Cutoff.of(today, days))
    if rule.organisation_path is not None:
        qs = qs.filter(**{rule.organisation_path: organisation_id})
    past = qs.count()
    free = _not_held(qs, model, today)
    line.due = past
    line.kept = past - free.count()
    if rule.action == "anonymise_case":
        _apply_case_rule(rule, free, line, run, days)
        return line
    ids = list(free.values_list("pk", flat=True))
    if not ids or run.dry_run:
        return line
    if rule.action == "delete":
        _delete(rule, ids, organisation_id, days)
    else:
        plan = erasure.ErasurePlan(
            "retention",
            rule.code,
            str(organisation_id),
            # The rows as a subquery, not the ids: a list sends one parameter per id.
            querysets={rule.model: model._default_manager.filter(pk__in=free.values("pk"))},
        )
        erasure.execute(plan, note=f"retention {rule.code} after {days} days")
    line.applied = len(ids)
    return line


def apply_retention(
    *,
    dry_run: bool,
    today: datetime.date | None = None,
    organisations: Iterable[Any] | None = None,
    rules: Iterable[str] | None = None,
) -> RetentionRun:
    """Apply every rule (or those named) to every organisation (or those given); the run's report.

    The caller names the system actor (``acting_as_system``); with ``dry_run`` nothing is
    written and the report says what would happen. Rules of no single organisation run
    once, and only when all organisations are processed.
    """
    from casemgmt.models import Organisation

    today = today or timezone.localdate()
    run = RetentionRun(dry_run=dry_run, ran_at=timezone.now())
    selected = [r for r in RULES if rules is None or r.code in set(rules)]
    orgs = list(organisations) if organisations is not None else list(Organisation.objects.order_by("name"))
    for organisation in orgs:
        periods = periods_for(organisation.pk)
        run.lines[organisation.pk] = [
            _apply_rule(rule, organisation.pk, periods[rule.code], run, today)
            for rule in selected
            if rule.per_organisation
        ]
    if organisations is None:
        run.lines[None] = [
            _apply_rule(rule, None, rule.default_days, run, today)
            for rule in selected
            if not rule.per_organisation
        ]
    return run


def apply_audit_retention(*, dry_run: bool, today: datetime.date | None = None) -> int:
    """Prune whole sealed ranges of the audit log older than the audit-logging retention period.

    Only entries up to a signed checkpoint go, and only with a signed pruning statement
    (privacy/transparency.py), so the verifier can tell retention from tampering.
    """
    from privacy.models import AuditEntry
    from privacy.transparency import prune_sealed

    days = activities_by_code()["audit_logging"].retention_days
    if days is None:
        return 0
    today = today or timezone.localdate()
    cutoff = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=days), datetime.time())
    )
    pruned = prune_sealed(
        before=cutoff, retention_days=days, reason=f"audit retention: older than {days} days", dry_run=dry_run
    )
    if pruned and not dry_run:
        log_bulk(
            model=AuditEntry,
            action=AuditEntry.Action.DELETE,
            object_ids=[],
            activity="audit_logging",
            note=f"audit retention: {pruned} sealed entries older than {days} days pruned",
        )
    return pruned


def report_text(run: RetentionRun, names: dict[Any, str] | None = None) -> list[str]:
    """The report as lines for a console: per organisation, per rule, counts."""
    names = names or {}
    verb = "would apply" if run.dry_run else "applied"
    out = [f"retention run {run.ran_at.isoformat(timespec='seconds')}{' (dry run)' if run.dry_run else ''}"]
    for organisation_id, items in run.lines.items():
        out.append(
            f"[{names.get(organisation_id, organisation_id) if organisation_id else 'all organisations'}]"
        )
        for item in items:
            out.append(
                f"  {item.rule:<28} {item.period_days:>5} days  due {item.due:>5}  kept {item.kept:>5}  "
                f"{verb} {item.due - item.kept if run.dry_run else item.applied:>5}"
            )
    return out
