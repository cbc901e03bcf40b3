"""Fill the clear coarse residence category of persons recorded before it existed.

The category is derived from the encrypted residence status (``services.persons._derive``
keeps them in step on every write); rows written before migration 0013 still say
"unknown". Decrypting needs the field keys, which ``migrate`` has like the app. The
statement writes only the coarse category, which the registry declares in clear.
"""

import logging

from django.db import migrations

BATCH = 2000

logger = logging.getLogger(__name__)

#: The mapping as it stood when this migration was written (``RESIDENCE_CATEGORY_OF``),
#: copied so that a later change of the model module cannot change what it did.
CATEGORY_OF = {
    "german_citizen": "secure",
    "eu_citizen": "secure",
    "settlement_permit": "secure",
    "residence_permit": "temporary",
    "temporary_protection": "temporary",
    "asylum_pending": "precarious",
    "tolerated": "precarious",
}


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Rows whose status cannot be decrypted (a moved value, a retired key) keep "unknown" and
    are counted in the log by id, rather than stopping the deployment's migration."""
    from privacy.cipher.crypto import DecryptionError

    Person = apps.get_model("casemgmt", "Person")
    unreadable = []
    pending = Person.objects.filter(residence_category="unknown", residence_status__isnull=False).order_by("pk")
    last = None
    while True:
        batch = pending.filter(pk__gt=last) if last is not None else pending
        rows = list(batch.only("pk", "residence_status")[:BATCH])
        if not rows:
            if unreadable:
                logger.warning("Residence category left unknown for %d unreadable rows: %s", len(unreadable), unreadable)
            return
        by_category: dict[str, list[object]] = {}
        for person in rows:
            try:
                status = person.residence_status or ""
            except DecryptionError:
                unreadable.append(str(person.pk))
                continue
            category = CATEGORY_OF.get(status)
            if category and category != "unknown":
                by_category.setdefault(category, []).append(person.pk)
        for category, ids in by_category.items():
            Person.objects.filter(pk__in=ids).update(residence_category=category)
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0016_updated_by_and_contact_person")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
