"""Reads of family members, scoped through their family, and the name search."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

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


def _bucket(kind: str, text: str, districts: list[str]) -> frozenset[tuple[str, str]]:
    """The (kind, value) index entries of ``text``: one per district key (and key id in rotation)."""
    context = PersonSearchTerm.CONTEXTS[kind]
    return frozenset((kind, value) for value in search_terms(text, context=context, districts=districts))


def _candidate_ids(
    required: list[list[frozenset[tuple[str, str]]]], within: QuerySet[Person]
) -> list[object]:
    """Persons having, for one of the alternatives, a term in every one of its buckets.

    ``required``: alternatives (exact parts, phonetic parts), each a list of buckets that must
    all be hit; only persons of ``within`` (the caller's visible persons). The terms are read
    by their (kind, value) index and combined here: as one statement of IN-subqueries on the
    person table the planner scanned all persons (137 ms at 100k families, growing with the
    district, not with the caseload).
    """
    wanted = frozenset().union(*(bucket for alternative in required for bucket in alternative))
    condition = Q()
    for kind in {kind for kind, _ in wanted}:
        condition |= Q(kind=kind, value__in=sorted(value for k, value in wanted if k == kind))
    held: dict[object, set[tuple[str, str]]] = {}
    terms = PersonSearchTerm.objects.filter(condition, person_id__in=within.order_by().values("pk"))
    for person_id, kind, value in terms.values_list("person_id", "kind", "value"):
        held.setdefault(person_id, set()).add((kind, value))
    return [
        person_id
        for person_id, terms in held.items()
        if any(all(terms & bucket for bucket in alternative) for alternative in required)
    ]


@dataclass
class PersonSearch:
    """The outcome of a search: exact and possible matches, and how many candidates were decrypted."""

    exact: list[object] = field(default_factory=list)
    possible: list[object] = field(default_factory=list)
    candidates: int = 0
    #: The matched rows as loaded (whole rows when the search was asked for them).
    rows: dict[object, Person] = field(default_factory=dict)

    def ranked_rows(self) -> list[Person]:
        """The matched rows, exact ones first, each with ``match``: the page without another query."""
        rank = {pk: 0 for pk in self.exact} | {pk: 1 for pk in self.possible}
        found = sorted(self.rows.values(), key=lambda p: (rank[p.pk], p.created_at, str(p.pk)))
        for person in found:
            person.match = EXACT if rank[person.pk] == 0 else POSSIBLE  # type: ignore[attr-defined]
        return found


def person_search(
    queryset: QuerySet[Person],
    *,
    districts: list[str],
    name: str | None = None,
    date_of_birth: datetime.date | None = None,
    phonetic: bool = True,
    whole_rows: bool = False,
) -> PersonSearch:
    """Find persons in ``queryset`` by any parts of their name and/or their date of birth.

    Every part of the query must match a part of the given or family name, in any order:
    "Çelik", "Weiss" and "Süleyman Çelik" all find "Süleyman Çelik-Weiß". With ``phonetic``,
    parts that only sound alike (Kölner Phonetik: "Leila Mansur" ~ "Layla Mansour") are
    possible matches. Only index lookups select candidates; the candidates the user may see
    (index buckets are shared by several names) are decrypted to drop false positives.
    ``whole_rows``: load the candidates' whole rows and keep the matches (``ranked_rows``),
    for a caller that shows them (the API's search needs no second statement for its page).
    """
    result = PersonSearch()
    parts = name_parts(name or "")
    if name is not None and not parts:
        return result
    if not districts or (not parts and date_of_birth is None):
        return result
    born = [_bucket("dob", date_of_birth.isoformat(), districts)] if date_of_birth is not None else []
    exact = [_bucket("name", part, districts) for part in parts]
    required = [exact + born]
    if phonetic and parts:
        sounds = [
            _bucket("phonetic", code, districts) if (code := phonetic_key(part)) else exact[i]
            for i, part in enumerate(parts)
        ]
        required.append(sounds + born)
    candidates = _candidate_ids(required, queryset)
    if not candidates:
        return result
    codes = {part: phonetic_key(part) for part in parts}
    visible = queryset.filter(pk__in=candidates)
    if not whole_rows:
        visible = visible.only("id", "given_name", "family_name", "date_of_birth")
    for person in visible:
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
            else:
                continue
        else:
            continue
        if whole_rows:
            result.rows[person.pk] = person
    return result


def duplicate_reviews_for(user: User) -> QuerySet[DuplicateReview]:
    """Duplicate reviews of the organisations where the user is supervisor or DPO."""
    reviewers = policies.organisation_ids_with_role(user, Role.SUPERVISOR, Role.DPO)
    return DuplicateReview.objects.filter(organisation_id__in=reviewers).select_related(
        "person__family", "candidate__family"
    )
