"""A family's newest contact date, kept on the family for the dormant-case deadline (issue 19)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """One UPDATE: each family's newest contact (what ``casemgmt.signals`` keeps from now on)."""
    Contact = apps.get_model("casemgmt", "Contact")
    Family = apps.get_model("casemgmt", "Family")
    newest = Contact.objects.filter(family=OuterRef("pk")).order_by("-occurred_on").values("occurred_on")[:1]
    Family.objects.using(schema_editor.connection.alias).update(last_contact_on=Subquery(newest))


class Migration(migrations.Migration):
    dependencies = [
        ("casemgmt", "0019_dashboard_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="family",
            name="last_contact_on",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
