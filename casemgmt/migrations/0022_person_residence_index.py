"""The dashboard's residence deadlines read from an index alone (issue 17)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('casemgmt', '0021_referral_sent_at'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='person',
            index=models.Index(condition=models.Q(('residence_valid_until__isnull', False)), fields=['family'], include=('id', 'residence_valid_until'), name='person_residence_due'),
        ),
    ]
