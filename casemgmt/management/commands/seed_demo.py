"""Load demo organisations, users and families; idempotent, development only."""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from casemgmt.demo import demo_family
from casemgmt.demo_casework import close_some, seed_catalogue, seed_family_casework
from casemgmt.models import Family, Goal, Membership, Organisation, Role, User
from casemgmt.services.families import family_create
from casemgmt.services.persons import person_create
from privacy.audit import acting_as_system
from privacy.registry import Activity

DISTRICT = "Landkreis Musterland"
TOWN = "Stadt Beispielstadt"
USERS = (
    ("casemanager1", DISTRICT, Role.CASE_MANAGER, "Clara", "Berger"),
    ("casemanager2", DISTRICT, Role.CASE_MANAGER, "Jonas", "Wagner"),
    ("casemanager3", TOWN, Role.CASE_MANAGER, "Selin", "Arslan"),
    ("supervisor1", DISTRICT, Role.SUPERVISOR, "Petra", "Hoffmann"),
    ("dpo1", DISTRICT, Role.DPO, "Martin", "Krüger"),
    ("admin1", DISTRICT, Role.ADMIN, "Sabine", "Keller"),
)
FAMILIES_PER_CASE_MANAGER = 12


class Command(BaseCommand):
    help = "Seed demo organisations, users and families (refuses to run when DEBUG is off)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--families", type=int, default=FAMILIES_PER_CASE_MANAGER, help="families per case manager"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Organisations and accounts are written by the command itself; case data by the
        # services, each naming the demo user who acts.
        with (
            acting_as_system(process="seed_demo", activity=Activity.ACCOUNT_MANAGEMENT),
            transaction.atomic(),
        ):
            self.seed(**options)

    def seed(self, **options: Any) -> None:
        """Create what is missing (idempotent)."""
        if not settings.DEBUG:
            raise CommandError("seed_demo writes known passwords: it runs only with DEBUG=true.")
        district, _ = Organisation.objects.get_or_create(
            name=DISTRICT, defaults={"kind": Organisation.Kind.DISTRICT, "reference_prefix": "LK"}
        )
        town, _ = Organisation.objects.get_or_create(
            name=TOWN, defaults={"kind": Organisation.Kind.TOWN, "parent": district, "reference_prefix": "BS"}
        )
        orgs = {DISTRICT: district, TOWN: town}
        password = settings.DEMO_PASSWORD
        created_users = 0
        for username, org_name, role, first, last in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "is_staff": role == Role.ADMIN},
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
                created_users += 1
            Membership.objects.get_or_create(user=user, organisation=orgs[org_name], defaults={"role": role})

        courses = seed_catalogue(district, User.objects.get(username="admin1"))
        created_families = 0
        today = timezone.localdate()
        for username, org_name, role, *_ in USERS:
            if role != Role.CASE_MANAGER:
                continue
            user = User.objects.get(username=username)
            if Family.objects.filter(created_by=user).exists():
                continue  # this case manager's caseload was seeded before: stay idempotent
            rng = random.Random(f"demo-{username}")
            town_name = "Beispielstadt" if org_name == TOWN else "Musterdorf"
            for _ in range(options["families"]):
                demo = demo_family(rng, town_name, today)
                family = family_create(
                    organisation=orgs[org_name],
                    family_name=demo.family_name,
                    acting_user=user,
                    opened_on=demo.opened_on,
                    address=demo.address,
                    phone=demo.phone,
                    notes=demo.notes,
                    status=demo.status,
                    benefit_status_at_intake=demo.benefit_status_at_intake,
                    preferred_languages=demo.languages,
                    interpreter_needed=demo.interpreter_needed,
                )
                for member in demo.members:
                    person_create(
                        family=family,
                        acting_user=user,
                        role=member.role,
                        given_name=member.given_name,
                        family_name=member.family_name,
                        date_of_birth=member.date_of_birth,
                        sex=member.sex,
                        residence_status=member.residence_status,
                        country_of_origin=member.country_of_origin,
                    )
                created_families += 1
        for username, _org, role, *_ in USERS:
            user = User.objects.get(username=username)
            if role != Role.CASE_MANAGER or Goal.objects.filter(family__created_by=user).exists():
                continue  # case work seeded before
            rng = random.Random(f"casework-{username}")
            families = list(Family.objects.filter(created_by=user).order_by("reference"))
            for index, family in enumerate(families):
                seed_family_casework(family, user, courses, rng, index)
            close_some(families, user, rng)
        self.seed_issue_19(district, today)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created_users} users and {created_families} families created "
                f"(password from DEMO_PASSWORD)."
            )
        )

    def seed_issue_19(self, district: Organisation, today: Any) -> None:
        """An offered handover (town -> district, supervisor1 decides), a document, indicator targets."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from casemgmt.models import Document, Handover, ReportIndicator
        from casemgmt.services.documents import document_create
        from casemgmt.services.handovers import handover_offer
        from casemgmt.services.reporting import report_indicator_set

        if not Handover.objects.exists():
            town_cm = User.objects.get(username="casemanager3")
            family = Family.objects.filter(created_by=town_cm).exclude(status=Family.Status.CLOSED).first()
            if family is not None:
                handover_offer(
                    family=family,
                    to_organisation=district,
                    reason="specialised_service",
                    legal_basis="statutory_task",
                    note="Familie braucht die Anerkennungsberatung des Kreises.",
                    acting_user=town_cm,
                )
        if not Document.objects.exists():
            cm = User.objects.get(username="casemanager1")
            family = Family.objects.filter(created_by=cm).exclude(status=Family.Status.CLOSED).first()
            if family is not None:
                # A minimal valid PDF standing in for a signed consent form.
                pdf = (
                    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
                    b"trailer<</Root 1 0 R>>\n%%EOF\n"
                )
                document_create(
                    target_kind="family",
                    target_id=family.pk,
                    upload=SimpleUploadedFile("Einwilligung.pdf", pdf, "application/pdf"),
                    filename="Schweigepflichtentbindung (unterschrieben).pdf",
                    acting_user=cm,
                )
        if not ReportIndicator.objects.filter(organisation=district).exists():
            supervisor = User.objects.get(username="supervisor1")
            for code, target in (("new_cases", 20), ("closed_self_sufficient", 5), ("goals_achieved", 15)):
                report_indicator_set(
                    organisation=district, year=today.year, code=code, target=target, acting_user=supervisor
                )
