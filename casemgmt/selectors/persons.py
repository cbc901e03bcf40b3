"""Reads of family members, scoped through their family."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from casemgmt.models import Person, User
from casemgmt.selectors.families import families_editable_by, families_visible_to
from privacy.blind_index import name_terms, search_terms
from privacy.normalise import normalise_name


def not_restricted() -> Q:
    """Persons whose processing is not restricted (Art. 18): only the DPO reads the others."""
    from privacy.models import Restriction

    return ~Q(pk__in=Restriction.objects.filter(lifted_at__isnull=True).values("person_id"))


def persons_visible_to(user: User) -> QuerySet[Person]:
    """Members of families the user may see; the same rule as for families."""
    return Person.objects.filter(not_restricted(), family__in=families_visible_to(user).values("id"))


def persons_editable_by(user: User) -> QuerySet[Person]:
    """Members of families the user may change (never a restricted person)."""
    return Person.objects.filter(not_restricted(), family__in=families_editable_by(user).values("id"))


def person_name_filter(name: str) -> Q:
    """Match a given name, a family name, or both in either order.

    "Amina" matches a given or family name; "Amina Haddad" and "Haddad Amina" match the
    full-name index; so does a two-part given name such as "Abdul Rahman" by itself.
    """
    norm = normalise_name(name)
    if not norm:
        return Q(pk__in=[])
    condition = Q(given_name_index__in=name_terms([norm], context="person.given_name")) | Q(
        family_name_index__in=name_terms([norm], context="person.family_name")
    )
    words = norm.split(" ")
    # Every split of the words into "given family" and "family given" orders.
    candidates = set()
    for cut in range(1, len(words)):
        first, last = " ".join(words[:cut]), " ".join(words[cut:])
        candidates.add(f"{first} {last}")
        candidates.add(f"{last} {first}")
    if candidates:
        condition |= Q(full_name_index__in=name_terms(sorted(candidates), context="person.full_name"))
    return condition


def date_of_birth_filter(date_of_birth: datetime.date) -> Q:
    """Match an exact date of birth through its blind index."""
    return Q(date_of_birth_index__in=search_terms(date_of_birth.isoformat(), context="person.date_of_birth"))
