"""Who may do what. One rule per question, used both to filter lists and to check objects.

Being a member of an organisation grants nothing by itself: the same district office may
also be the immigration or benefits authority. Case content is reached only through a
grant on the family (to the case manager's caseload, i.e. them and their deputies) or a
running emergency access, and only while the user still works as a case manager in the
family's organisation. Supervisors see non-personal case data of their organisations;
DPOs and administrators see no case content.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DateTimeField, Exists, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_migrate
from django.utils import timezone

from casemgmt.db.compiled import inline_constants
from casemgmt.models import (
    Caseload,
    Deputyship,
    EmergencyAccess,
    Family,
    FamilyGroupObjectPermission,
    FamilyUserObjectPermission,
    Membership,
    Organisation,
    Role,
    User,
)

M = TypeVar("M", bound=Model)

VIEW_FAMILY = "view_family"
CHANGE_FAMILY = "change_family"


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def organisation_ids_with_role(user: User, *roles: str) -> QuerySet[Membership, Any]:
    """Ids of organisations where ``user`` holds one of ``roles`` (a subquery, not a list)."""
    if not _active(user):
        return Membership.objects.none().values("organisation_id")
    return Membership.objects.filter(user=user, role__in=roles).values("organisation_id")


def organisations_with_role(user: User, *roles: str) -> QuerySet[Organisation]:
    """Organisations where ``user`` holds one of ``roles``."""
    if not _active(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(id__in=organisation_ids_with_role(user, *roles))


def managed_organisations(user: User) -> QuerySet[Organisation]:
    """Organisations an administrator manages: their own and their member towns."""
    if not _active(user):
        return Organisation.objects.none()
    own = organisation_ids_with_role(user, Role.ADMIN)
    return Organisation.objects.filter(Q(id__in=own) | Q(parent_id__in=own))


def managed_users(user: User) -> QuerySet[User]:
    """Accounts an administrator may edit: every membership of the account lies in their tree.

    An account that also works for another district (or a town outside the tree) belongs to
    that district's administrators too, so nobody here may change it, nor give it a role in
    their own tree (that would let them reach into the other district's staff): it is a 404.
    Superuser accounts are managed by superusers only.
    """
    if not _active(user):
        return User.objects.none()
    orgs = managed_organisations(user).values("id")
    outside = Membership.objects.exclude(organisation_id__in=orgs).values("user_id")
    inside = Membership.objects.filter(organisation_id__in=orgs).values("user_id")
    return User.objects.filter(id__in=inside, is_superuser=False).exclude(id__in=outside)


def has_role(user: User, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` in any organisation."""
    return _active(user) and Membership.objects.filter(user=user, role__in=roles).exists()


def has_role_in(user: User, organisation: Organisation, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` in ``organisation``."""
    return (
        _active(user)
        and Membership.objects.filter(user=user, organisation=organisation, role__in=roles).exists()
    )


@cache
def family_permission_id(codename: str) -> int:
    """The id of a Family permission, looked up once per process (the list query then needs no
    joins to the permission and content-type tables: measured, it halves the planning time)."""
    from django.contrib.auth.models import Permission

    return Permission.objects.get(
        codename=codename, content_type__app_label="casemgmt", content_type__model="family"
    ).pk


def _forget_permission_ids(**kwargs: Any) -> None:
    family_permission_id.cache_clear()
    _compiled_rule.cache_clear()


# Permissions are recreated (with new ids) after migrations and test-database flushes.
post_migrate.connect(_forget_permission_ids, dispatch_uid="casemgmt_forget_permission_ids")


def _ordinary_grants(user: Any, codename: str, now: datetime.datetime) -> list[QuerySet[Any, Any]]:
    """The grants of ordinary case work, each a subquery of family ids: a direct grant, the own
    caseload, and the caseloads ``user`` deputises for while the deputyship runs."""
    perm = {"permission_id": family_permission_id(codename)}
    direct = FamilyUserObjectPermission.objects.filter(user=user, **perm).values("content_object_id")
    # The own caseload and the deputised ones as two branches, not one with an OR: with the
    # OR, PostgreSQL guessed half of all caseloads and scanned every grant of the district
    # (100,000 rows at 100k families, ~55 ms per search); each alone is an index scan.
    via_own_caseload = FamilyGroupObjectPermission.objects.filter(
        group_id__in=Caseload.objects.filter(owner=user).values("group_id"), **perm
    ).values("content_object_id")
    # Deputyships decide by their end dates, not by Django group membership, so one stops
    # granting anything the moment it ends, without a job to remove it.
    deputising_for = Deputyship.objects.filter(deputy=user, ends_at__gt=now).values("principal_id")
    via_deputyship = FamilyGroupObjectPermission.objects.filter(
        group_id__in=Caseload.objects.filter(owner_id__in=deputising_for).values("group_id"), **perm
    ).values("content_object_id")
    return [direct.order_by(), via_own_caseload.order_by(), via_deputyship.order_by()]


def _running_emergency_accesses(user: Any, now: datetime.datetime) -> QuerySet[EmergencyAccess]:
    return EmergencyAccess.objects.filter(user=user, ended_at__isnull=True, expires_at__gt=now)


def _family_grants(
    user: Any, codename: str, now: datetime.datetime
) -> tuple[QuerySet[Any, Any], QuerySet[Any, Any]]:
    """The access rule as two subqueries: the ids of the families granted to ``user``, and the
    organisations where ``user`` works as a case manager. The declaration of the rule;
    ``family_access`` runs it precompiled (``_CompiledRule``)."""
    first, *others = _ordinary_grants(user, codename, now)
    emergency = _running_emergency_accesses(user, now).values("family_id").order_by()
    # One IN over a UNION ALL of the branches, not an OR of four INs: the OR can only be
    # checked row by row, so every family of the organisation was read and tested against
    # four hashed subplans; the UNION is the (small) set of ids, joined to families by key.
    granted = first.union(*others, emergency, all=True)
    return granted, organisation_ids_with_role(user, Role.CASE_MANAGER)


#: Stand-ins bound while the rule is compiled; where they appear among the statement's
#: parameters, the real user and the current time are put at request time.
_STAND_IN_USER = uuid.UUID("5e471e1d-0000-4000-8000-00000000a11c")
_STAND_IN_NOW = datetime.datetime(1901, 1, 1, 0, 0, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class _CompiledRule:
    """One subquery of the access rule as SQL with the positions of its user and time parameters.

    Building the rule's querysets and compiling them cost more than the database spent on
    the statement (measured at 10k families: ~7 ms of Python per list statement, against
    ~2 ms for a plain filter; the dashboard filters seven tables by it). The rule does not
    change between requests, only the user and the time do, so it is compiled once per
    process, database and permission (like a prepared statement) from the very querysets
    ``_family_grants`` declares, and only the parameters are bound per request.
    """

    sql: str
    params: tuple[Any, ...]
    user_slots: tuple[int, ...]
    now_slots: tuple[int, ...]

    @classmethod
    def of(cls, queryset: QuerySet[Any, Any], using: str) -> _CompiledRule:
        connection = connections[using]
        sql, params = queryset.query.get_compiler(using).as_sql()
        user = User._meta.pk.get_db_prep_value(_STAND_IN_USER, connection)  # type: ignore[union-attr]
        now = DateTimeField().get_db_prep_value(_STAND_IN_NOW, connection)
        callers = {i for i, p in enumerate(params) if p in (user, now)}
        if not any(params[i] == user for i in callers):
            raise ImproperlyConfigured("the access rule names no user")  # the rule changed shape
        # The rule's constants (permission ids, the role) as literals, so that a prepared
        # statement's generic plan knows them; the user and the time stay parameters.
        sql, params = inline_constants(sql, params, lambda i, _param: i in callers, using)
        user_slots = tuple(i for i, p in enumerate(params) if p == user)
        now_slots = tuple(i for i, p in enumerate(params) if p == now)
        return cls(sql, tuple(params), user_slots, now_slots)

    def bind(self, user_id: Any, now: datetime.datetime, using: str) -> RawSQL:
        connection = connections[using]
        params = list(self.params)
        user = User._meta.pk.get_db_prep_value(user_id, connection)  # type: ignore[union-attr]
        for i in self.user_slots:
            params[i] = user
        if self.now_slots:
            prepared_now = DateTimeField().get_db_prep_value(now, connection)
            for i in self.now_slots:
                params[i] = prepared_now
        # The statement is Django's own compilation of the declared querysets; only parameters vary.
        return RawSQL(self.sql, params)  # noqa: S611


@cache
def _compiled_rule(codename: str, using: str) -> tuple[_CompiledRule, _CompiledRule]:
    stand_in = User(pk=_STAND_IN_USER)
    granted, organisations = _family_grants(stand_in, codename, _STAND_IN_NOW)
    return _CompiledRule.of(granted, using), _CompiledRule.of(organisations, using)


def family_access(user: User, codename: str = VIEW_FAMILY) -> Q:
    """The condition on ``Family`` rows that ``user`` may view (or change): one subquery each.

    Lists and single objects use this same condition, so they cannot drift apart.
    """
    if not _active(user):
        return Q(pk__in=[])
    granted, organisations = _compiled_rule(codename, DEFAULT_DB_ALIAS)
    now = timezone.now()
    return Q(id__in=granted.bind(user.pk, now, DEFAULT_DB_ALIAS)) & Q(
        organisation_id__in=organisations.bind(user.pk, now, DEFAULT_DB_ALIAS)
    )


def not_found(obj: Model) -> ObjectDoesNotExist:
    """The error for a forbidden object: the very one a missing object raises, so nothing leaks."""
    model = type(obj)
    return model.DoesNotExist(f"No {model._meta.verbose_name} matches the given query.")  # type: ignore[attr-defined,no-any-return]


def require_case_access(
    user: User, family: Family, obj: Model | None = None, codename: str = CHANGE_FAMILY
) -> None:
    """Refuse a write on ``family``'s case content (or on ``obj`` of it) unless ``family_access`` allows it.

    The same rule the lists use; a foreign or unassigned family is "not found", never "forbidden".
    """
    if not Family.objects.filter(family_access(user, codename), pk=family.pk).exists():
        raise not_found(obj if obj is not None else family)


def require_case_access_for(
    user: User, family: Family, person: Model | None, codename: str = CHANGE_FAMILY
) -> None:
    """``require_case_access`` and the person's Art. 18 restriction in one statement.

    A record about ``person`` may be written only while nobody restricted its processing;
    asking both questions at once saves a round trip on every case-work create.
    """
    if person is None:
        require_case_access(user, family, codename=codename)
        return
    from casemgmt.errors import Conflict
    from privacy.models import Restriction

    restricted = (
        Family.objects.filter(family_access(user, codename), pk=family.pk)
        .annotate(restricted=Exists(Restriction.objects.filter(person_id=person.pk, lifted_at__isnull=True)))
        .values_list("restricted", flat=True)
        .first()
    )
    if restricted is None:
        raise not_found(family)
    if restricted:
        raise Conflict("Processing of this person is restricted (Art. 18 GDPR).", code="restricted")


def require_role_in(user: User, organisation: Organisation, *roles: str, obj: Model | None = None) -> None:
    """Refuse unless ``user`` holds one of ``roles`` in ``organisation``; about ``obj``, as "not found"."""
    if not has_role_in(user, organisation, *roles):
        raise not_found(obj if obj is not None else organisation)


def emergency_only_accesses(user: User) -> QuerySet[EmergencyAccess]:
    """The running emergency accesses through which alone ``user`` reaches a family.

    A family also reached through an ordinary grant (assigned, running deputyship) is not
    "emergency only": work there is ordinary case work and is not tagged as break-the-glass
    in the audit. The grants are the access rule's own (``_ordinary_grants``), so a lapsed
    deputy still in the caseload's group, or anyone else put into it by hand, is tagged.
    """
    if not _active(user):
        return EmergencyAccess.objects.none()
    now = timezone.now()
    running = _running_emergency_accesses(user, now)
    for grant in _ordinary_grants(user, VIEW_FAMILY, now):
        running = running.exclude(family_id__in=grant)
    return running


def emergency_accesses_behind(user: Any, model: type[Model] | None, object_ids: list[str]) -> list[str]:
    """Ids of the emergency accesses through which alone ``user`` reached these objects.

    Used by the audit to tag each entry made under break-the-glass. Free for everybody
    else: only a user whose ``emergency_access_until`` still runs costs one query.
    """
    until = getattr(user, "emergency_access_until", None)
    if until is None or until <= timezone.now() or model is None or not object_ids:
        return []
    label = model._meta.label
    if label in family_paths():
        family_path = family_paths()[label]
    elif any(f.name == "family" for f in model._meta.concrete_fields):
        family_path = "family_id"
    else:
        return []
    object_ids = [i for i in object_ids if i and i != "None"]
    try:
        families = model._default_manager.filter(pk__in=object_ids).values(family_path)
        return [
            str(pk)
            for pk in emergency_only_accesses(user)
            .filter(family_id__in=families)
            .values_list("id", flat=True)
        ]
    except (ValueError, TypeError, ValidationError):  # ids of another type (e.g. a bad pk): nothing to tag
        return []


# --- Art. 18 restriction: one rule for every record linked to a person

#: How each case-work record reaches its family and the person(s) it concerns comes from the
#: models' own declarations (``FAMILY_PATH``, ``PERSON_PATH``/``RESTRICTION_PATHS``,
#: casemgmt/models/base.py). A record with no person path is household-level (a family's
#: conference, contacts, the family itself): a member's restriction does not hide it,
#: because the other members' case work goes on; the DPO restricts every member when the
#: whole household contests its data.


@cache
def family_paths() -> dict[str, str]:
    """Model label -> ORM path to the family id, for every declared family-owned model."""
    from casemgmt.models.base import family_owned_models

    return {m._meta.label: m.FAMILY_PATH for m in family_owned_models()}  # type: ignore[attr-defined]


@cache
def person_paths() -> dict[str, tuple[str, ...]]:
    """Model label -> ORM paths to the persons whose restriction hides a row."""
    from casemgmt.models.base import family_owned_models, restriction_paths

    return {m._meta.label: restriction_paths(m) for m in family_owned_models()}


def restricted_person_ids() -> QuerySet[Any, Any]:
    """Ids of persons whose processing is restricted now (Art. 18), as a subquery."""
    from privacy.models import Restriction

    return Restriction.objects.filter(lifted_at__isnull=True).values("person_id")


def not_restricted(model: type[Model]) -> Q:
    """The condition on ``model`` rows that concern no restricted person.

    Negated ``__in`` on a nullable column keeps the NULLs (Django adds ``IS NOT NULL``
    inside the negation), so family-level goals and consents stay visible.
    """
    condition = Q()
    for path in person_paths()[model._meta.label]:
        condition &= ~Q(**{f"{path}__in": restricted_person_ids()})
    return condition


def accessible_family_ids(user: User, codename: str = VIEW_FAMILY) -> QuerySet[Family, Any]:
    """The ids of the families ``user`` may view (or change), as a subquery to filter by."""
    return Family.objects.filter(family_access(user, codename)).values("id")


def case_record_access(
    user: User,
    model: type[Model],
    codename: str = VIEW_FAMILY,
    *,
    families: QuerySet[Family, Any] | RawSQL | None = None,
) -> Q:
    """The condition on rows of a case-work ``model`` that ``user`` may view (or change).

    The family rule (grant, caseload, emergency access) and the restriction rule, both in
    the database; lists, filters, single objects and writes all go through it. ``families``:
    a family-id subquery in place of ``accessible_family_ids(user, codename)``, such as the
    dashboard's family set, already evaluated once for the whole statement.
    """
    if families is None:
        families = accessible_family_ids(user, codename)
    label = model._meta.label
    return Q(**{f"{family_paths()[label]}__in": families}) & not_restricted(model)


def require_case_record(user: User, record: Model, codename: str = CHANGE_FAMILY) -> None:
    """Refuse (as "not found") a record the user may not reach, or one of a restricted person."""
    model = type(record)
    if not model._default_manager.filter(case_record_access(user, model, codename), pk=record.pk).exists():
        raise not_found(record)


def require_unrestricted_record(record: Model) -> None:
    """Refuse (as "not found") a change to a record linked to a restricted person, from any caller."""
    model = type(record)
    if (
        person_paths()[model._meta.label]
        and not model._default_manager.filter(not_restricted(model), pk=record.pk).exists()
    ):
        raise not_found(record)


def lock_case_record(user: User, record: M, codename: str = CHANGE_FAMILY) -> M:
    """Fetch ``record`` afresh, locked for update, only if ``user`` may change it: one statement.

    The family rule and the restriction rule of :func:`case_record_access` are part of the
    locking query (Zulip's ``access_*_by_id``: fetch and authorise at once), so a write that
    needs the row lock asks no separate access or restriction question; a foreign, missing
    or restricted record is "not found" alike.
    """
    model = type(record)
    try:
        return (
            model._default_manager.select_for_update(no_key=True, of=("self",))
            .select_related(  # type: ignore[no-any-return]
                "family"
            )
            .filter(case_record_access(user, model, codename))
            .get(pk=record.pk)
        )
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise not_found(record) from None


def supervised_family_filter(user: User) -> Q:
    """Families whose non-personal data ``user`` may see and assign, as a supervisor."""
    if not _active(user):
        return Q(pk__in=[])
    return Q(organisation_id__in=organisation_ids_with_role(user, Role.SUPERVISOR))


def catalogue_organisation_ids(organisation_ids: Any) -> QuerySet[Organisation, Any]:
    """Organisations whose catalogue is shared with ``organisation_ids``: their district and its towns.

    A district shares its providers and courses with its member towns, and the towns'
    own offers are visible across the district; nothing crosses into another district.
    """
    members = Organisation.objects.filter(id__in=organisation_ids)
    roots = Organisation.objects.filter(
        Q(id__in=members.filter(parent__isnull=True).values("id")) | Q(id__in=members.values("parent_id"))
    ).values("id")
    return Organisation.objects.filter(Q(id__in=roots) | Q(parent_id__in=roots)).values("id")


def catalogue_visible_organisation_ids(user: User) -> QuerySet[Organisation, Any]:
    """Catalogue organisations for any member (case managers refer, supervisors plan)."""
    if not _active(user):
        return Organisation.objects.none().values("id")
    return catalogue_organisation_ids(Membership.objects.filter(user=user).values("organisation_id"))


def catalogue_editable_organisation_ids(user: User) -> QuerySet[Membership, Any]:
    """Organisations whose catalogue ``user`` edits: as an administrator or supervisor."""
    return organisation_ids_with_role(user, Role.ADMIN, Role.SUPERVISOR)


ALL_ROLES = (Role.CASE_MANAGER, Role.SUPERVISOR, Role.DPO, Role.ADMIN)
