"""A page found by keys is the page the whole-row window gives: same rows, order, count and loading."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, F, FilteredRelation, Q, Window
from django.test.utils import CaptureQueriesContext

from api.pagination import CountWithPagePaginator
from casemgmt.db.late_rows import can_page_by_keys, page_by_keys
from casemgmt.models import Family, Organisation
from casemgmt.selectors.families import families_visible_to
from tests.factories import make_family, make_user, setup_writes

pytestmark = pytest.mark.django_db


def _window_page(queryset: Any, bottom: int, top: int) -> list[Any]:
    """The page as the paginator took it before: the window count over whole rows."""
    return list(queryset.annotate(total=Window(Count("pk")))[bottom:top])


@pytest.fixture
def families(case_manager, district) -> Any:  # type: ignore[no-untyped-def]
    """Eleven families with ties on the first ordering field, plus one of another caseload."""
    made = []
    for i in range(11):
        family = make_family(case_manager, family_name=f"Familie {i}")
        made.append(family)
    with setup_writes("case_management"):
        for i, family in enumerate(made):
            # Four opening dates for eleven families: the reference breaks the ties.
            Family.objects.filter(pk=family.pk).update(opened_on=datetime.date(2026, 1, 1 + i % 4))
    make_family(make_user(district, username="someone_else"), family_name="Fremd")
    return families_visible_to(case_manager)


@pytest.mark.parametrize("per_page", [1, 4, 5, 11, 20])
def test_every_page_matches_the_whole_row_window(families, per_page) -> None:  # type: ignore[no-untyped-def]
    for bottom in range(0, 12, per_page):
        expected = _window_page(families, bottom, bottom + per_page)
        got = page_by_keys(families, bottom, bottom + per_page, total="total")
        assert [f.pk for f in got] == [f.pk for f in expected]
        assert [f.total for f in got] == [f.total for f in expected]
        assert all(f.total == 11 for f in got)  # the one of another caseload is not counted
        # Whole rows, decrypted as usual.
        assert [f.family_name for f in got] == [f.family_name for f in expected]


@pytest.mark.parametrize(
    "ordering", [("reference",), ("-reference",), ("opened_on", "-reference"), ("organisation__name", "pk")]
)
def test_other_orderings_and_filters_through_joins(families, case_manager, ordering) -> None:  # type: ignore[no-untyped-def]
    queryset = families.filter(case_manager__username=case_manager.username).order_by(*ordering)
    assert can_page_by_keys(queryset)
    for bottom in (0, 3, 9):
        expected = _window_page(queryset, bottom, bottom + 3)
        assert [f.pk for f in page_by_keys(queryset, bottom, bottom + 3, total="t")] == [
            f.pk for f in expected
        ]


def test_related_deferred_and_prefetched_loading_is_kept(families, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    name = families.first().organisation.name
    queryset = families.select_related("organisation").only("reference", "organisation__name")
    with django_assert_num_queries(1):
        rows = page_by_keys(queryset, 0, 5, total="total")
        assert {f.organisation.name for f in rows} == {name}
    assert rows[0].get_deferred_fields() >= {"family_name", "notes"}
    prefetched = families.prefetch_related("members")
    with django_assert_num_queries(2):  # the page, then the prefetch
        rows = page_by_keys(prefetched, 0, 5, total="total")
        assert all(list(f.members.all()) == [] for f in rows)


def test_the_page_reads_whole_rows_only_by_key(families) -> None:  # type: ignore[no-untyped-def]
    """The filter, count and order run in the inner select; the outer one has no filter of its own."""
    with CaptureQueriesContext(connection) as ctx:
        page_by_keys(families, 0, 5, total="total")
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    outer, inner = sql.split("INNER JOIN (", 1)
    assert "WHERE" not in outer and '"casemgmt_family"."family_name"' in outer
    assert "OVER ()" in inner and '"family_name"' not in inner


def test_queries_the_outer_select_cannot_stand_for_take_the_whole_row_page(
    families, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    annotated = families.annotate(twice=F("interpreter_needed"))
    assert not can_page_by_keys(annotated)
    assert not can_page_by_keys(families.order_by())
    assert not can_page_by_keys(families.order_by("?"))
    assert not can_page_by_keys(families.extra(select={"one": "1"}))
    # Orders Django expands when it compiles: a relation's own ordering, reverse(), extra().
    assert not can_page_by_keys(families.order_by("organisation", "pk"))
    assert not can_page_by_keys(families.order_by("members", "pk"))
    assert not can_page_by_keys(families.reverse())
    assert not can_page_by_keys(families.extra(order_by=["reference"]))
    filtered = families.annotate(
        cm=FilteredRelation("case_manager", condition=Q(case_manager__is_active=True))
    ).select_related("cm")
    assert not can_page_by_keys(filtered)
    assert can_page_by_keys(families.order_by("organisation__name", "opened_on__day", "-pk"))
    # What the window cannot count or number row for row, here or behind DRF's cursor slice.
    for shape in (families.distinct(), families.values("pk"), families[:3], families.union(families), ["a"]):
        assert not can_page_by_keys(shape)
    assert can_page_by_keys(families) and can_page_by_keys(Organisation.objects.all())
    with django_assert_num_queries(1), CaptureQueriesContext(connection) as ctx:
        page = CountWithPagePaginator(annotated, 4).page(2)
    assert "INNER JOIN (" not in ctx.captured_queries[0]["sql"]
    assert page.paginator.count == 11
    assert [f.pk for f in page] == [f.pk for f in _window_page(families, 4, 8)]


def test_fallbacks_give_the_page_django_gives(families, district) -> None:  # type: ignore[no-untyped-def]
    """The orders the window's terms could not reproduce keep the whole-row page, and agree with Django."""
    from django.core.paginator import Paginator

    for queryset in (
        Family.objects.order_by("organisation", "reference"),
        families.reverse(),
        families.extra(order_by=["-reference"]),
    ):
        for number in (1, 2, 3):
            ours = CountWithPagePaginator(queryset, 4).page(number)
            djangos = Paginator(queryset, 4).page(number)
            assert [f.pk for f in ours] == [f.pk for f in djangos]
            assert ours.paginator.count == djangos.paginator.count


def test_rows_reached_through_a_relation_keep_their_parent(
    families, district, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    queryset = district.families.order_by("reference")
    with django_assert_num_queries(1):
        rows = page_by_keys(queryset, 0, 5, total="total")
        assert all(f.organisation is district for f in rows)


def test_cursor_mode_finds_its_page_by_keys(api, families) -> None:  # type: ignore[no-untyped-def]
    """DRF's cursor pagination slices the queryset itself; its page is the keyed join too."""
    with CaptureQueriesContext(connection) as ctx:
        first = api.get("/api/v1/families/", {"cursor": "", "page_size": 4}).json()
    assert any("INNER JOIN (" in q["sql"] and "ROW_NUMBER()" in q["sql"] for q in ctx.captured_queries)
    seen = [f["id"] for f in first["results"]]
    url = first["next"]
    while url:
        page = api.get(url).json()
        seen += [f["id"] for f in page["results"]]
        url = page["next"]
    assert seen == [str(f.pk) for f in families]
    assert "count" not in first
    # And back: DRF reverses the order for a previous page and the page's rows after.
    back: list[str] = []
    url = page["previous"]
    while url:
        page = api.get(url).json()
        back = [f["id"] for f in page["results"]] + back
        url = page["previous"]
    assert back == seen[: len(back)] and len(back) >= len(seen) - 4
