"""Reads of family members, scoped through their family, and the name search."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from casemgmt import policies
from casemgmt.models import DuplicateReview, Person, PersonSearchTerm, Role, User
from casemgmt.selectors.families import families_editable_by, families_visible_to
from privacy.cipher.blind_index import search_terms
from privacy.cipher.normalise import name_parts, phonetic_key

EXACT, POSSIBLE = "exact", "possible"


def not_restricted() -> Q:
    """Persons whose processing is not restricted (Art. 18): only the DPO reads the others."""
    return policies.not_restricted(Person)


def persons_visible_to(user: User) -> QuerySet[Person]:
    """Members of families the user may see; the same rule as for families."""
    return Person.objects.filter(not_restricted(), family__in=families_visible_to(user).values("id"))


def persons_editable_by(user: User) -> QuerySet[Person]:
    """Members of families the user may change (never a restricted person)."""
    return Person.objects.filter(not_restricted(), family__in=families_editable_by(user).values("id"))


def _has_term(kind: str, text: str, districts: list[str]) -> Q:
    """Persons with a term of ``kind`` in the bucket of ``text`` (an index scan on (kind, value))."""
    context = PersonSearchTerm.CONTEXTS[kind]
    values = search_terms(text, context=context, districts=districts)
    return Q(pk__in=PersonSearchTerm.objects.filter(kind=kind, value__in=values).values("person_id"))


@dataclass
class PersonSearch:
    """The outcome of a search: exact and possible matches, and how many candidates were decrypted."""

    exact: list[object] = field(default_factory=list)
    possible: list[object] = field(default_factory=list)
    candidates: int = 0

    def ranked(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        """``queryset`` narrowed to the matches, exact ones first, annotated with ``match``."""
        return (
            queryset.filter(pk__in=[*self.exact, *self.possible])
            .annotate(
                match_rank=Case(
                    When(pk__in=self.exact, then=Value(0)), default=Value(1), output_field=IntegerField()
                ),
                match=Case(When(pk__in=self.exact, then=Value(EXACT)), default=Value(POSSIBLE)),
            )
            .order_by("match_rank", "created_at", "id")
        )


def person_search(
    queryset: QuerySet[Person],
    *,
    districts: list[str],
    name: str | None = None,
    date_of_birth: datetime.date | None = None,
    phonetic: bool = True,
) -> PersonSearch:
    """Find persons in ``queryset`` by any parts of their name and/or their date of birth.

    Every part of the query must match a part of the given or family name, in any order:
    "Çelik", "Weiss" and "Süleyman Çelik" all find "Süleyman Çelik-Weiß". With ``phonetic``,
    parts that only sound alike (Kölner Phonetik: "Leila Mansur" ~ "Layla Mansour") are
    possible matches. Only index lookups select candidates; the candidates the user may see
    (index buckets are shared by several names) are decrypted to drop false positives.
    """
    result = PersonSearch()
    parts = name_parts(name or "")
    if name is not None and not parts:
        return result
    if not districts or (not parts and date_of_birth is None):
        return result
    condition = Q()
    if parts:
        exact_all = Q()
        phonetic_all = Q()
        for part in parts:
            exact_all &= _has_term("name", part, districts)
            code = phonetic_key(part)
            phonetic_all &= (
                _has_term("phonetic", code, districts) if code else _has_term("name", part, districts)
            )
        condition &= (exact_all | phonetic_all) if phonetic else exact_all
    if date_of_birth is not None:
        condition &= _has_term("dob", date_of_birth.isoformat(), districts)
    codes = {part: phonetic_key(part) for part in parts}
    for person in queryset.filter(condition).only("id", "given_name", "family_name", "date_of_birth"):
        result.candidates += 1
        if date_of_birth is not None and person.date_of_birth != date_of_birth:
            continue
        own = set(name_parts(person.given_name or "")) | set(name_parts(person.family_name or ""))
        if all(part in own for part in parts):
            result.exact.append(person.pk)
        elif phonetic:
            own_codes = {phonetic_key(p) for p in own}
            if all((codes[part] or part) in own_codes | own for part in parts):
                result.possible.append(person.pk)
    return result


def duplicate_reviews_for(user: User) -> QuerySet[DuplicateReview]:
    """Duplicate reviews of the organisations where the user is supervisor or DPO."""
    reviewers = policies.organisation_ids_with_role(user, Role.SUPERVISOR, Role.DPO)
    return DuplicateReview.objects.filter(organisation_id__in=reviewers).select_related(
        "person__family", "candidate__family"
    )
