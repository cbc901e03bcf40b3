"""Lookups shared by the DPO endpoints: the DPO's organisations and their data subjects."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request

from casemgmt import policies
from casemgmt.models import Role


def dpo_organisations(request: Request) -> Any:
    return policies.organisation_ids_with_role(request.user, Role.DPO)  # type: ignore[arg-type]


def subject_person(request: Request, person_id: str) -> Any:
    """A person of one of the DPO's organisations, or 404 (also for malformed ids)."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from casemgmt.models import Person

    try:
        return Person.objects.select_related("family").get(
            pk=person_id, family__organisation_id__in=dpo_organisations(request)
        )
    except (Person.DoesNotExist, ValueError, DjangoValidationError):
        raise exceptions.NotFound() from None


def subject_family(request: Request, family_id: str) -> Any:
    from django.core.exceptions import ValidationError as DjangoValidationError

    from casemgmt.models import Family

    try:
        return Family.objects.get(pk=family_id, organisation_id__in=dpo_organisations(request))
    except (Family.DoesNotExist, ValueError, DjangoValidationError):
        raise exceptions.NotFound() from None
