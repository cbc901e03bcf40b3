"""Name-part and phonetic search, bucketed blind indexes, duplicate detection without an oracle."""

from __future__ import annotations

import datetime
import math
import random
import statistics
from collections import defaultdict

import pytest

from casemgmt.models import DuplicateReview, Person, PersonSearchTerm, Role
from casemgmt.selectors.persons import person_search, persons_visible_to
from privacy.cipher import blind_index
from privacy.cipher.blind_index import PLANS, IndexPlan
from privacy.cipher.normalise import name_parts, phonetic_key
from tests.conftest import client_for
from tests.factories import make_family, make_person, make_user, setup_writes

DOB = datetime.date(1985, 6, 1)


def names(response) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [(p["given_name"], p["family_name"], p["match"]) for p in response.json()["results"]]


@pytest.fixture
def people(case_manager):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Çelik-Weiß")
    make_person(family, case_manager, given_name="Süleyman", family_name="Çelik-Weiß", date_of_birth=DOB)
    other = make_family(case_manager, family_name="Mansour")
    make_person(other, case_manager, given_name="Layla", family_name="Mansour", date_of_birth=DOB)
    make_person(other, case_manager, given_name="Leila", family_name="Mansur", date_of_birth=DOB)
    make_person(other, case_manager, given_name="Amina", family_name="Weber", date_of_birth=DOB)
    return family


@pytest.mark.parametrize(
    "query", ["Weiß", "Weiss", "WEISS", "Süleyman Çelik", "Çelik", "celik weiss suleyman"]
)
def test_any_name_part_finds_the_person(api, people, query: str) -> None:  # type: ignore[no-untyped-def]
    assert names(api.get("/api/v1/persons/", {"name": query})) == [("Süleyman", "Çelik-Weiß", "exact")]


def test_spelling_variant_is_a_possible_match_ranked_after_exact(api, people) -> None:  # type: ignore[no-untyped-def]
    found = names(api.get("/api/v1/persons/", {"name": "Leila Mansur"}))
    assert found == [("Leila", "Mansur", "exact"), ("Layla", "Mansour", "possible")]
    assert names(api.get("/api/v1/persons/", {"name": "Leila Mansur", "date_of_birth": "1985-06-02"})) == []
    # every part must match: "Leila Weber" is nobody
    assert names(api.get("/api/v1/persons/", {"name": "Leila Weber"})) == []


def test_plain_list_has_no_match_field_value(api, people) -> None:  # type: ignore[no-untyped-def]
    assert {p["match"] for p in api.get("/api/v1/persons/").json()["results"]} == {None}


def test_false_positives_of_shared_buckets_are_filtered(api, people, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With 1-bit indexes every bucket holds many names: search still answers exactly."""
    tiny = {context: IndexPlan(distinct=4, min_share=2) for context in PLANS}
    monkeypatch.setattr(blind_index, "PLANS", tiny)
    for person in Person.objects.all():
        PersonSearchTerm.rebuild(person)
    assert names(api.get("/api/v1/persons/", {"name": "Weiss"})) == [("Süleyman", "Çelik-Weiß", "exact")]
    assert names(api.get("/api/v1/persons/", {"date_of_birth": "1985-06-02"})) == []


def _name_in_no_bucket(family) -> str:  # type: ignore[no-untyped-def]
    """A name none of whose index terms any stored person shares. Buckets are shared by design
    (planned leakage), and the keys are new in every run: a fixed name shared one by chance,
    about once in 150 runs."""
    stored = set(PersonSearchTerm.objects.exclude(kind="dob").values_list("kind", "value"))
    for name in ("Kowalczyk", "Nakamura", "Okonkwo", "Lindqvist", "Papadopoulos", "Rasmussen"):
        probe = Person(family=family, given_name=name, family_name=name)
        if not {(t.kind, t.value) for t in PersonSearchTerm.terms_for(probe)} & stored:
            return name
    raise AssertionError("every probe name shares a bucket")  # about 1 in 10**13


def test_search_decrypts_only_bucket_candidates(case_manager, people) -> None:  # type: ignore[no-untyped-def]
    """Indexed lookups select candidates: a name nobody has decrypts nothing (no decrypt-and-scan)."""
    visible = persons_visible_to(case_manager)
    districts = [people.blind_index_district()]
    nobody = _name_in_no_bucket(people)
    assert person_search(visible, districts=districts, name=nobody).candidates == 0
    found = person_search(visible, districts=districts, name="Weiss")
    assert found.candidates == 1 and len(found.exact) == 1


def test_index_keys_differ_per_district(case_manager, other_case_manager) -> None:  # type: ignore[no-untyped-def]
    a = make_person(make_family(case_manager, family_name="Haddad"), case_manager, family_name="Haddad")
    b = make_person(
        make_family(other_case_manager, family_name="Haddad"), other_case_manager, family_name="Haddad"
    )
    terms_a = set(PersonSearchTerm.objects.filter(person=a).values_list("value", flat=True))
    terms_b = set(PersonSearchTerm.objects.filter(person=b).values_list("value", flat=True))
    # Truncated indexes collide by design (false positives hide who is who), so a
    # single shared bucket between two districts is chance, not a shared key.
    assert terms_a and terms_b and terms_a != terms_b
    # and the other district's case manager finds only their own Amina Haddad
    found = client_for(other_case_manager).get("/api/v1/persons/", {"name": "Amina Haddad"}).json()
    assert [p["id"] for p in found["results"]] == [str(b.pk)]


def test_same_value_lands_in_unrelated_buckets_per_district() -> None:
    """Per-district keys: the bucket of a name in one district says nothing about the other."""
    names_ = [f"Name{i}" for i in range(400)]
    a = [blind_index.blind_index(n, context="person.name_part", district="d1") for n in names_]
    b = [blind_index.blind_index(n, context="person.name_part", district="d2") for n in names_]
    same = sum(x == y for x, y in zip(a, b, strict=True))
    buckets = 2 ** PLANS["person.name_part"].bits
    # independent keys agree about 1/buckets of the time; one key would agree always
    assert same <= 400 * 4 / buckets + 5


def test_date_of_birth_index_is_never_near_unique() -> None:
    plan = PLANS["person.date_of_birth"]
    assert plan.bits <= math.floor(math.log2(36_500 / 8))  # at least ~8 dates per index value
    values = defaultdict(set)
    day = datetime.date(1925, 1, 1)
    while day < datetime.date(2025, 1, 1):
        values[blind_index.blind_index(day.isoformat(), context="person.date_of_birth", district="d1")].add(
            day
        )
        day += datetime.timedelta(days=1)
    shares = sorted(len(v) for v in values.values())
    assert statistics.median(shares) >= 8
    assert sum(1 for s in shares if s < 3) / len(shares) < 0.02


def test_index_coincidence_on_generated_names() -> None:
    """On generated names, each index value stands for several names (planned leakage)."""
    rng = random.Random(15)
    letters = "abdefghiklmnorstuyz"
    generated = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(6000)}
    plan = IndexPlan(distinct=len(generated), min_share=4)
    buckets: dict[int, set[str]] = defaultdict(set)
    for name in generated:
        value = blind_index.blind_index(name, context="person.name_part", district="d1")
        buckets[int(value.split(":")[1], 16) >> (PLANS["person.name_part"].bits - plan.bits)].add(name)
    shares = sorted(len(v) for v in buckets.values())
    assert statistics.median(shares) >= 4
    assert sum(1 for s in shares if s == 1) / len(shares) < 0.1
    # Kölner Phonetik is coarser than the names it codes
    codes = {phonetic_key(part) for name in generated for part in name_parts(name)}
    assert len(codes) < 0.7 * len(generated)


def test_duplicate_detection_catches_spelling_variants(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Mansour")
    layla = make_person(family, case_manager, given_name="Layla", family_name="Mansour", date_of_birth=DOB)
    body = {
        "family": str(family.pk),
        "role": "parent",
        "given_name": "Leila",
        "family_name": "Mansur",
        "date_of_birth": DOB.isoformat(),
    }
    warnings = api.post("/api/v1/persons/", body, format="json").json()["warnings"]
    assert [(w["match"], w["person"]) for w in warnings] == [("possible", str(layla.pk))]
    other_day = {**body, "date_of_birth": "1985-06-02"}
    assert api.post("/api/v1/persons/", other_day, format="json").json()["warnings"] == []


def test_duplicate_detection_is_no_oracle(case_manager, district) -> None:  # type: ignore[no-untyped-def]
    """The answer is the same whether or not an invisible family holds a match."""
    hidden = make_family(case_manager, family_name="Mansour")
    layla = make_person(hidden, case_manager, given_name="Layla", family_name="Mansour", date_of_birth=DOB)
    colleague = make_user(district, Role.CASE_MANAGER)
    own = make_family(colleague, family_name="Mansur")
    body = {"family": str(own.pk), "role": "parent", "given_name": "Leila", "family_name": "Mansur"}
    with_match = client_for(colleague).post("/api/v1/persons/", {**body, "date_of_birth": DOB.isoformat()})
    without = client_for(colleague).post("/api/v1/persons/", {**body, "date_of_birth": "1970-01-01"})
    assert with_match.status_code == without.status_code == 201
    assert set(with_match.json()) == set(without.json())
    assert with_match.json()["warnings"] == without.json()["warnings"] == []
    review = DuplicateReview.objects.get()
    assert (review.candidate_id, review.match, review.status) == (layla.pk, "possible", "open")


def test_restricted_person_never_matches(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    from privacy.models import Restriction

    family = make_family(case_manager, family_name="Mansour")
    layla = make_person(family, case_manager, given_name="Layla", family_name="Mansour", date_of_birth=DOB)
    from django.utils import timezone

    with setup_writes("data_subject_rights"):
        Restriction.objects.create(
            person=layla, reason="Art. 18 Antrag", restricted_at=timezone.now(), restricted_by=case_manager
        )
    body = {"family": str(family.pk), "role": "parent", "given_name": "Layla", "family_name": "Mansour"}
    response = api.post("/api/v1/persons/", {**body, "date_of_birth": DOB.isoformat()}, format="json")
    assert response.json()["warnings"] == [] and not DuplicateReview.objects.exists()


def test_search_query_count_does_not_grow(api, case_manager, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Haddad")
    for i in range(3):
        make_person(family, case_manager, given_name=f"Amina{'x' * i}", family_name="Haddad")
    api.get("/api/v1/persons/", {"name": "Haddad"})  # warm the district cache

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/v1/persons/", {"name": "Haddad"}).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(5):
        make_person(family, case_manager, given_name=f"Leyla{'y' * i}", family_name="Haddad")
    assert count() == before


@pytest.fixture
def reviews(case_manager, district):  # type: ignore[no-untyped-def]
    family = make_family(case_manager, family_name="Mansour")
    candidate = make_person(
        family, case_manager, given_name="Layla", family_name="Mansour", date_of_birth=DOB
    )

    def add(n: int) -> None:
        for _ in range(n):
            other = make_person(
                family, case_manager, given_name="Leila", family_name="Mansur", date_of_birth=DOB
            )
            with setup_writes("case_management"):
                DuplicateReview.objects.create(
                    organisation=district, person=other, candidate=candidate, match="possible"
                )

    add(1)
    return add


def test_duplicate_review_bad_input_changes_nothing(district, reviews) -> None:  # type: ignore[no-untyped-def]
    supervisor = client_for(make_user(district, Role.SUPERVISOR))
    review = DuplicateReview.objects.get()
    url = f"/api/v1/duplicate-reviews/{review.pk}/resolve/"
    for body in (
        {"status": "maybe"},
        {"status": 5},
        {},
        {"status": "duplicate", "note": "x"},
        {"status": "open"},
    ):
        response = supervisor.post(url, body, format="json")
        assert response.status_code == 400, body
        assert {"code", "detail"} <= set(response.json())
    assert DuplicateReview.objects.get().status == "open"
    assert supervisor.get("/api/v1/duplicate-reviews/", {"open": "maybe"}).status_code == 400
    assert supervisor.post(url, {"status": "not_duplicate"}, format="json").status_code == 200
    again = supervisor.post(url, {"status": "duplicate"}, format="json")
    assert again.status_code == 400 and DuplicateReview.objects.get().status == "not_duplicate"
    assert supervisor.get("/api/v1/duplicate-reviews/", {"open": "true"}).json()["count"] == 0


def test_duplicate_review_list_shows_no_names_and_constant_queries(  # type: ignore[no-untyped-def]
    district, reviews, django_assert_num_queries
) -> None:
    supervisor = client_for(make_user(district, Role.SUPERVISOR))
    first = supervisor.get("/api/v1/duplicate-reviews/")
    assert (
        first.status_code == 200
        and "Layla" not in first.content.decode()
        and "Mans" not in first.content.decode()
    )

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert supervisor.get("/api/v1/duplicate-reviews/").status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    reviews(4)
    with django_assert_num_queries(one):
        assert supervisor.get("/api/v1/duplicate-reviews/").json()["count"] == 5
