"""Fill the clear coarse residence category of persons recorded before it existed.

The category is derived from the encrypted residence status (``services.persons._derive``
keeps them in step on every write); rows written before migration 0013 still say
"unknown". Decrypting needs the field keys, which ``migrate`` has like the app. The
statement writes only the coarse category, which the registry declares in clear.
"""

from django.db import migrations

BATCH = 2000


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    from casemgmt.models.families import RESIDENCE_CATEGORY_OF

    Person = apps.get_model("casemgmt", "Person")
    pending = Person.objects.filter(residence_category="unknown", residence_status__isnull=False).order_by("pk")
    last = None
    while True:
        batch = pending.filter(pk__gt=last) if last is not None else pending
        rows = list(batch.only("pk", "residence_status")[:BATCH])
        if not rows:
            return
        by_category: dict[str, list[object]] = {}
        for person in rows:
            category = RESIDENCE_CATEGORY_OF.get(person.residence_status or "")
            if category and category != "unknown":
                by_category.setdefault(category, []).append(person.pk)
        for category, ids in by_category.items():
            Person.objects.filter(pk__in=ids).update(residence_category=category)
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0016_updated_by_and_contact_person")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
