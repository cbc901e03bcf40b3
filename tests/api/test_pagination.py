"""Page-number pagination counts with the page: the same pages, counts and errors as Django's."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

from api.pagination import CountWithPagePaginator
from casemgmt.models import Organisation
from tests.factories import OrganisationFactory


@pytest.fixture
def seven(db):  # type: ignore[no-untyped-def]
    for i in range(7):
        OrganisationFactory(name=f"Stadt {i}")
    return Organisation.objects.filter(name__startswith="Stadt ").order_by("name")


@pytest.mark.parametrize("per_page", [1, 3, 7, 10])
def test_pages_match_djangos_paginator(seven, per_page, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    reference = Paginator(seven, per_page)
    for number in range(1, reference.num_pages + 1):
        with django_assert_num_queries(1):  # the page and its count, in one statement
            page = CountWithPagePaginator(seven, per_page).page(number)
            assert page.paginator.count == 7
        expected = reference.page(number)
        assert list(page) == list(expected)
        assert (page.has_next(), page.has_previous()) == (expected.has_next(), expected.has_previous())
        assert page.paginator.num_pages == reference.num_pages


@pytest.mark.parametrize("number", [0, -1, "x", "1.5", None, 1.5])
def test_bad_page_numbers_raise_what_django_raises(seven, number) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((PageNotAnInteger, EmptyPage)) as ours:
        CountWithPagePaginator(seven, 3).page(number)
    with pytest.raises((PageNotAnInteger, EmptyPage)) as djangos:
        Paginator(seven, 3).page(number)
    assert type(ours.value) is type(djangos.value)


def test_past_the_end_and_empty_lists(seven, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EmptyPage), django_assert_num_queries(2):  # an empty page asks for the count
        CountWithPagePaginator(seven, 3).page(4)
    empty = CountWithPagePaginator(seven.filter(name="nobody"), 3).page(1)
    assert list(empty) == [] and empty.paginator.count == 0 and not empty.has_next()


def test_querysets_the_window_cannot_count_take_djangos_way(seven, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    names = seven.values_list("name", flat=True)
    with django_assert_num_queries(2):
        page = CountWithPagePaginator(names, 3).page(1)
        assert page.paginator.count == 7 and list(page) == ["Stadt 0", "Stadt 1", "Stadt 2"]
    distinct = seven.distinct()
    assert CountWithPagePaginator(distinct, 3).page(3).paginator.count == 7
    assert CountWithPagePaginator(["a", "b", "c"], 2).page(2).object_list == ["c"]


def test_the_api_answers_pages_and_bad_pages(api, case_manager) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import make_family

    for i in range(5):
        make_family(case_manager, family_name=f"P{i}")
    first = api.get("/api/v1/families/", {"page_size": 2}).json()
    assert first["count"] == 5 and first["previous"] is None and "page=2" in first["next"]
    last = api.get("/api/v1/families/", {"page_size": 2, "page": "last"}).json()
    assert last["count"] == 5 and len(last["results"]) == 1 and last["next"] is None
    seen = {f["id"] for f in first["results"]} | {f["id"] for f in last["results"]}
    middle = api.get("/api/v1/families/", {"page_size": 2, "page": 2}).json()
    assert len(seen | {f["id"] for f in middle["results"]}) == 5
    for bad in ("4", "0", "x"):
        response = api.get("/api/v1/families/", {"page_size": 2, "page": bad})
        assert response.status_code == 404 and "detail" in response.json()


def test_only_bounded_lists_count_with_their_page(api, district) -> None:  # type: ignore[no-untyped-def]
    """The family list (bounded by the access rule) counts in its page's statement; the audit
    trail (unbounded) keeps COUNT(*) and an index-ordered page: a window there would read and
    sort every entry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from casemgmt.models import Role
    from tests.conftest import client_for
    from tests.factories import make_user

    def windowed(client, url: str) -> bool:  # type: ignore[no-untyped-def]
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return any("OVER ()" in q["sql"] for q in ctx.captured_queries)

    assert windowed(api, "/api/v1/families/")
    assert not windowed(
        client_for(make_user(district, Role.DPO, username="dpo_pages")), "/api/v1/audit/events/"
    )
