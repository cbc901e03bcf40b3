"""When a referral was sent, kept on the referral for the dashboard's response deadline (issue 17)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    """One UPDATE: each sent referral's transition to "sent" (what ``referral_transition`` sets from now on)."""
    Referral = apps.get_model("casemgmt", "Referral")
    ReferralTransition = apps.get_model("casemgmt", "ReferralTransition")
    sent = (
        ReferralTransition.objects.filter(referral=OuterRef("pk"), to_status="sent")
        .order_by("-at")
        .values("at")[:1]
    )
    Referral.objects.using(schema_editor.connection.alias).update(sent_at=Subquery(sent))


class Migration(migrations.Migration):
    dependencies = [
        ("casemgmt", "0020_family_last_contact"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        # The dashboard no longer asks the transitions when a referral was sent.
        migrations.RemoveIndex(model_name="referraltransition", name="referral_transition_to_at"),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(
                condition=models.Q(("status", "sent")),
                fields=["family", "sent_at"],
                include=("id", "person"),
                name="referral_sent_due",
            ),
        ),
    ]
