"""The filter backend skips a filter set only where running it could change nothing (issue 17)."""

from __future__ import annotations

from typing import Any

import django_filters
import pytest
from django_filters.rest_framework import DjangoFilterBackend

from api.families.views import FamilyFilter
from api.filters import _passive_filter_names
from api.persons.views import PersonFilter
from api.privacy.audit_events import AuditEventFilter
from casemgmt.models import Family, Role
from tests.conftest import client_for
from tests.factories import make_family, make_user

URL = "/api/v1/families/"


@pytest.fixture
def filter_sets_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The views whose filter set django-filter's own backend built and ran."""
    runs: list[str] = []
    original = DjangoFilterBackend.filter_queryset

    def spy(self: Any, request: Any, queryset: Any, view: Any) -> Any:
        runs.append(type(view).__name__)
        return original(self, request, queryset, view)

    monkeypatch.setattr(DjangoFilterBackend, "filter_queryset", spy)
    return runs


def test_an_unfiltered_list_builds_no_filter_set_and_answers_the_same(
    api, case_manager, filter_sets_run
) -> None:  # type: ignore[no-untyped-def]
    active = make_family(case_manager, family_name="A")
    paused = make_family(case_manager, family_name="B", status=Family.Status.PAUSED)
    everything = api.get(URL, {"page_size": 10}).json()
    assert filter_sets_run == []
    assert {row["id"] for row in everything["results"]} == {str(active.pk), str(paused.pk)}
    filtered = api.get(URL, {"status": "paused"}).json()
    assert filter_sets_run == ["FamilyViewSet"]
    assert [row["id"] for row in filtered["results"]] == [str(paused.pk)]


@pytest.mark.parametrize("params", [{"status": "bogus"}, {"status": ""}, {"name": "x" * 201}])
def test_a_named_filter_always_runs_and_its_bad_value_answers_400(api, filter_sets_run, params) -> None:  # type: ignore[no-untyped-def]
    response = api.get(URL, params)
    assert filter_sets_run == ["FamilyViewSet"]
    if params["status" if "status" in params else "name"]:
        assert response.status_code == 400 and response.json()["code"]
    else:
        assert response.status_code == 200  # an empty value is no filter, as django-filter says


def test_filter_sets_that_act_on_their_own_are_never_skipped() -> None:
    class Required(django_filters.FilterSet):
        status = django_filters.CharFilter(required=True)

        class Meta:
            model = Family
            fields = ("status",)

    class OwnFilterClass(django_filters.FilterSet):
        class DefaultOpen(django_filters.CharFilter):
            def filter(self, qs: Any, value: Any) -> Any:
                return qs.filter(status=value or "active")

        status = DefaultOpen()

        class Meta:
            model = Family
            fields = ("status",)

    class Suffixed(django_filters.FilterSet):
        opened = django_filters.DateFromToRangeFilter(field_name="opened_on")

        class Meta:
            model = Family
            fields = ("opened",)

    assert _passive_filter_names(FamilyFilter) == ("name", "status")
    assert _passive_filter_names(Suffixed) == ("opened",)  # opened_after / opened_before name it
    for reads_its_own_way in (PersonFilter, AuditEventFilter, Required, OwnFilterClass):
        assert _passive_filter_names(reads_its_own_way) is None, reads_its_own_way


def test_a_remapped_parameter_still_filters(district, filter_sets_run) -> None:  # type: ignore[no-untyped-def]
    """The audit events' ``from`` is read by the filter set's own ``__init__``: never skipped."""
    dpo = make_user(district, Role.DPO)
    response = client_for(dpo).get("/api/v1/audit/events/", {"from": "2999-01-01"})
    assert response.status_code == 200 and response.json()["count"] == 0
    assert filter_sets_run


def test_a_filter_set_with_its_own_form_is_never_skipped() -> None:
    from django import forms

    class NeedsSomething(forms.Form):
        def clean(self) -> dict[str, Any]:
            raise forms.ValidationError("Name a status.")

    class OwnForm(django_filters.FilterSet):
        class Meta:
            model = Family
            fields = ("status",)
            form = NeedsSomething

    assert _passive_filter_names(OwnForm) is None
