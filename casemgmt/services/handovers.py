"""Handing a case over to another organisation of the district tree: offer, accept, decline, withdraw.

The offer is made by the case manager who works the case (they know the family and its
consent); the receiving organisation's supervisor decides. Until acceptance the receiver
sees the offer only (``casemgmt.selectors.handovers``). On acceptance the family moves to the
receiving organisation in one transaction: the old caseload loses its grant, the chosen
case manager's caseload gets it, and the members are checked for duplicates across the
district tree; matches go to the receiver's duplicate review list, never to the requester.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from casemgmt import policies
from casemgmt.errors import Conflict
from casemgmt.models import (
    Consent,
    DuplicateReview,
    Family,
    Handover,
    Organisation,
    Person,
    Role,
    SharedCategory,
    User,
    district_of,
)
from casemgmt.services.access import family_grant, family_revoke
from casemgmt.services.common import invalid, require_open_family
from casemgmt.services.consents import shareable_household, uncovered, usable, valid_on
from privacy.audit import audited_write
from privacy.registry import Activity


def same_tree(a: Organisation, b: Organisation) -> bool:
    """Whether two organisations belong to the same district tree (town <-> district, town <-> town)."""
    return district_of(a.pk) == district_of(b.pk)


def _expire_lapsed(family: Family) -> None:
    """Mark this family's lapsed offers as expired (so a new one can be made)."""
    for handover in Handover.objects.filter(
        family=family, status=Handover.Status.OFFERED, expires_at__lte=timezone.now()
    ):
        handover.status = Handover.Status.EXPIRED
        handover.save(update_fields=["status", "updated_at"])


@audited_write(Activity.CASE_MANAGEMENT)
def handover_offer(
    *,
    family: Family,
    to_organisation: Organisation,
    reason: str,
    legal_basis: str,
    acting_user: User,
    consent: Consent | None = None,
    note: str = "",
) -> Handover:
    """Offer ``family`` to another organisation of the same district tree, with reason and legal basis."""
    policies.require_case_access(acting_user, family)
    family = Family.objects.select_for_update(no_key=True).get(pk=family.pk)
    require_open_family(family)
    if (
        to_organisation.pk == family.organisation_id
        or to_organisation.kind == Organisation.Kind.PROVIDER
        or not same_tree(to_organisation, family.organisation)
    ):
        # Another district's organisation is not named back to the caller: the same answer as a typo.
        raise invalid(
            "to_organisation",
            "Give another organisation of the family's district tree.",
            "not_in_district",
        )
    if legal_basis == Handover.LegalBasis.CONSENT:
        if consent is None:
            raise invalid(
                "consent", "A handover on the basis of consent needs the family's consent.", "required"
            )
        covering = Consent.objects.filter(
            valid_on(timezone.localdate()),
            usable(),
            pk=consent.pk,
            family=family,
            recipient__in=("integration_management", "other"),
        )
        if not covering.exists():
            raise invalid(
                "consent",
                "This consent does not cover a handover today (another family, another recipient, "
                "expired or withdrawn).",
                "not_covering",
            )
        # The whole case moves: the consent must cover every member (a restricted one aside,
        # whose data stays behind a restriction anyway) and every kind of data.
        household = shareable_household(family).values_list("pk", flat=True)
        if uncovered([consent], household, SharedCategory.values):
            raise invalid(
                "consent",
                "This consent does not cover every member and every kind of data of the case; "
                "a handover passes on all of them.",
                "not_covering",
            )
    elif consent is not None and consent.family_id != family.pk:
        raise invalid("consent", "This consent is not the family's.", "not_covering")
    _expire_lapsed(family)
    if Handover.objects.filter(family=family, status=Handover.Status.OFFERED).exists():
        raise Conflict(
            "This family's case is already offered to another organisation.", code="already_offered"
        )
    handover = Handover(
        family=family,
        from_organisation_id=family.organisation_id,
        to_organisation=to_organisation,
        reason=reason,
        note=note,
        legal_basis=legal_basis,
        consent=consent,
        household_size=family.members.filter(anonymised_at__isnull=True).count(),
        offered_by=acting_user,
        created_by=acting_user,
    )
    handover.full_clean()
    handover.save()
    return handover


def _pending(handover: Handover, acting_user: User) -> Handover:
    """The offer, locked, if ``acting_user`` supervises the receiving organisation and it is still open."""
    policies.require_role_in(acting_user, handover.to_organisation, Role.SUPERVISOR, obj=handover)
    handover = Handover.objects.select_for_update(no_key=True).get(pk=handover.pk)
    if handover.effective_status == Handover.Status.EXPIRED:
        if handover.status == Handover.Status.OFFERED:
            handover.status = Handover.Status.EXPIRED
            handover.save(update_fields=["status", "updated_at"])
        raise Conflict("This offer has expired.", code="expired")
    if handover.status != Handover.Status.OFFERED:
        raise Conflict("This offer was already decided.", code="decided", status=handover.status)
    return handover


def _check_duplicates_in_tree(family: Family, reviewer_organisation: Organisation, acting_user: User) -> int:
    """Record possible duplicates of the members anywhere in the district tree, for the receiver."""
    from casemgmt.selectors.persons import not_restricted, person_search

    district = district_of(family.organisation_id)
    tree = Organisation.objects.filter(Q(pk=district) | Q(parent_id=district)).values("id")
    pool = Person.objects.filter(
        not_restricted(), family__organisation_id__in=tree, anonymised_at__isnull=True
    ).exclude(family=family)
    recorded = 0
    for person in family.members.filter(anonymised_at__isnull=True):
        if not person.date_of_birth:
            continue
        found = person_search(
            pool,
            districts=[district],
            name=f"{person.given_name} {person.family_name}",
            date_of_birth=person.date_of_birth,
        )
        matches = {pk: "exact" for pk in found.exact} | {pk: "possible" for pk in found.possible}
        for pk, match in matches.items():
            _, created = DuplicateReview.objects.get_or_create(
                person=person,
                candidate_id=pk,
                defaults={"organisation": reviewer_organisation, "match": match, "created_by": acting_user},
            )
            recorded += int(created)
    return recorded


@audited_write(Activity.CASE_MANAGEMENT)
def handover_accept(*, handover: Handover, case_manager: User, acting_user: User) -> Handover:
    """The receiving supervisor accepts: the family moves, and ``case_manager``'s caseload gets it."""
    handover = _pending(handover, acting_user)
    receiver = handover.to_organisation
    if not case_manager.is_active or not policies.has_role_in(case_manager, receiver, Role.CASE_MANAGER):
        raise invalid(
            "case_manager",
            "This user is not a case manager of the receiving organisation.",
            "not_case_manager",
        )
    family = Family.objects.select_for_update(no_key=True).get(pk=handover.family_id)
    if family.organisation_id != handover.from_organisation_id or family.status == Family.Status.CLOSED:
        raise Conflict("The case changed since it was offered; ask for a new offer.", code="stale_offer")
    from casemgmt.services.families import _next_reference

    previous = family.case_manager
    if previous is not None:
        family_revoke(family=family, case_manager=previous, revoked_by=acting_user)
    family.organisation = receiver
    # The reference is unique per organisation: the receiver numbers the case anew.
    family.reference = _next_reference(organisation=receiver, year=timezone.localdate().year)
    family.case_manager = case_manager
    family.save(update_fields=["organisation", "reference", "case_manager", "updated_at"])
    family_grant(family=family, case_manager=case_manager, granted_by=acting_user)
    handover.status = Handover.Status.ACCEPTED
    handover.case_manager = case_manager
    handover.decided_by = acting_user
    handover.decided_at = timezone.now()
    handover.save(update_fields=["status", "case_manager", "decided_by", "decided_at", "updated_at"])
    # The audit shows the handover through the entries of this transaction: the offer's
    # status, decider and case manager, the family's new organisation and reference, and the
    # grant ledger (AccessGrant) for the new caseload; all under case_management.
    _check_duplicates_in_tree(family, receiver, acting_user)
    return handover


@audited_write(Activity.CASE_MANAGEMENT)
def handover_decline(*, handover: Handover, acting_user: User) -> Handover:
    """The receiving supervisor declines: the case stays where it is."""
    handover = _pending(handover, acting_user)
    handover.status = Handover.Status.DECLINED
    handover.decided_by = acting_user
    handover.decided_at = timezone.now()
    handover.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return handover


@audited_write(Activity.CASE_MANAGEMENT)
def handover_withdraw(*, handover: Handover, acting_user: User) -> Handover:
    """The sending side (the case's case manager or a supervisor there) withdraws an open offer."""
    family = handover.family
    may = policies.has_role_in(acting_user, handover.from_organisation, Role.SUPERVISOR) or (
        Family.objects.filter(
            policies.family_access(acting_user, policies.CHANGE_FAMILY), pk=family.pk
        ).exists()
    )
    if not may or family.organisation_id != handover.from_organisation_id:
        raise policies.not_found(handover)
    handover = Handover.objects.select_for_update(no_key=True).get(pk=handover.pk)
    if handover.status != Handover.Status.OFFERED:
        raise Conflict("Only an open offer can be withdrawn.", code="decided", status=handover.status)
    handover.status = Handover.Status.WITHDRAWN
    handover.decided_by = acting_user
    handover.decided_at = timezone.now()
    handover.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return handover


def handover_expire_lapsed(**kwargs: Any) -> int:
    """Job: mark every lapsed offer as expired (reads already treat them so; this keeps the table honest)."""
    from privacy.audit import acting_as_system

    count = 0
    with acting_as_system(process="handover_expiry", activity=Activity.CASE_MANAGEMENT):
        for handover in Handover.objects.filter(
            status=Handover.Status.OFFERED, expires_at__lte=timezone.now()
        ):
            handover.status = Handover.Status.EXPIRED
            handover.save(update_fields=["status", "updated_at"])
            count += 1
    return count
