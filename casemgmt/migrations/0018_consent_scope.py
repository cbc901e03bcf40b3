"""Consents scoped per member and per data category; conferences name their agenda.

Existing consents keep what they meant when they were recorded:

- a consent a member gave (``person`` set) covers that member's data;
- a consent the legal representative gave (no ``person``) covered the household: it covers
  every member the family has when this migration runs (erased members aside);
- every consent covers every shareable data category (before, none was named).

The one reading that does not survive is the bug the change fixes: a single member's
consent no longer opens the other members' data. A planned conference with an external
agency whose agenda names nobody stands for the whole household (see
``casemgmt.services.conferences``); if only one member consented, narrow its agenda to
that member before holding it. Existing conferences get an empty agenda (the household,
every category). Reversing drops the new columns and tables.
"""

import casemgmt.models.casework
from django.db import migrations, models

ALL_CATEGORIES = [
    "identification",
    "contact",
    "date_of_birth",
    "demographic",
    "residence",
    "origin",
    "language",
    "social_benefits",
    "case_administration",
    "case_notes",
]


def scope_existing_consents(apps, schema_editor):  # type: ignore[no-untyped-def]
    Consent = apps.get_model("casemgmt", "Consent")
    Person = apps.get_model("casemgmt", "Person")
    Link = Consent.members.through
    Consent.objects.all().update(data_categories=ALL_CATEGORIES)
    links = []
    household: dict[object, list[object]] = {}
    for consent_id, family_id, person_id in Consent.objects.values_list("id", "family_id", "person_id").iterator():
        if person_id is not None:
            links.append(Link(consent_id=consent_id, person_id=person_id))
            continue
        if family_id not in household:
            household[family_id] = list(
                Person.objects.filter(family_id=family_id, anonymised_at__isnull=True).values_list("id", flat=True)
            )
        links.extend(Link(consent_id=consent_id, person_id=member) for member in household[family_id])
    Link.objects.bulk_create(links, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('casemgmt', '0017_backfill_residence_category'),
    ]

    operations = [
        migrations.AddField(
            model_name='caseconference',
            name='agenda_categories',
            field=models.JSONField(blank=True, default=list, help_text='Kinds of data on the agenda (SharedCategory values).', validators=[casemgmt.models.casework.validate_agenda_categories]),
        ),
        migrations.AddField(
            model_name='caseconference',
            name='agenda_members',
            field=models.ManyToManyField(blank=True, help_text='Members whose data is on the agenda.', related_name='agenda_conferences', to='casemgmt.person'),
        ),
        migrations.AddField(
            model_name='consent',
            name='data_categories',
            field=models.JSONField(default=list, help_text='The kinds of data it covers (SharedCategory values).', validators=[casemgmt.models.casework.validate_consent_categories]),
        ),
        migrations.AddField(
            model_name='consent',
            name='members',
            field=models.ManyToManyField(help_text='The members whose data the consent covers (of the same family).', related_name='covering_consents', to='casemgmt.person'),
        ),
        migrations.RunPython(scope_existing_consents, migrations.RunPython.noop, elidable=False),
    ]
