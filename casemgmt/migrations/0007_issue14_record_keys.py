"""Record keys for the cell key method: a random key per counted record, backfilled here."""

import secrets

from django.db import migrations, models

import privacy.perturbation

MODELS = ("family", "goal", "referral", "contact", "caseconference")
BATCH = 2000


def backfill(apps, schema_editor):
    """Every existing record gets its own random key (a column default would give all the same)."""
    for name in MODELS:
        model = apps.get_model("casemgmt", name)
        batch = []
        for pk in model.objects.filter(record_key__isnull=True).values_list("pk", flat=True).iterator():
            batch.append(model(pk=pk, record_key=secrets.randbelow(privacy.perturbation.RECORD_KEY_MODULUS)))
            if len(batch) >= BATCH:
                model.objects.bulk_update(batch, ["record_key"])
                batch = []
        if batch:
            model.objects.bulk_update(batch, ["record_key"])


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0006_rights")]

    operations = [
        *[
            migrations.AddField(model_name=name, name="record_key", field=models.IntegerField(null=True, editable=False))
            for name in MODELS
        ],
        migrations.RunPython(backfill, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=name,
                name="record_key",
                field=models.IntegerField(default=privacy.perturbation.new_record_key, editable=False),
            )
            for name in MODELS
        ],
    ]
