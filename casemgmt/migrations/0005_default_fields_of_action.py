"""Seed the default fields of action; organisations add their own through the API."""

import uuid

from django.db import migrations

DEFAULTS = (
    ("language", "Language", "Sprache"),
    ("education", "Education and school", "Bildung und Schule"),
    ("work", "Work and training", "Arbeit und Ausbildung"),
    ("recognition", "Recognition of qualifications", "Anerkennung von Abschlüssen"),
    ("health", "Health", "Gesundheit"),
    ("housing", "Housing", "Wohnen"),
    ("parenting", "Parenting and family", "Erziehung und Familie"),
    ("participation", "Social participation", "Gesellschaftliche Teilhabe"),
    ("residence", "Residence matters", "Aufenthaltsrechtliche Fragen"),
    ("finances", "Finances and debts", "Finanzen und Schulden"),
)


def seed(apps, schema_editor):
    FieldOfAction = apps.get_model("casemgmt", "FieldOfAction")
    for code, name, name_de in DEFAULTS:
        FieldOfAction.objects.get_or_create(
            organisation=None, code=code, defaults={"id": uuid.uuid4(), "name": name, "name_de": name_de}
        )


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0004_casework")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
