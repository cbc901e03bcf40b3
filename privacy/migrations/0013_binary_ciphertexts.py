"""Encrypted columns become binary (issue 17: the envelope within 2x bare AES-GCM).

Re-packs every value of the earlier text form (``e2:<key id>:<base64url>``) into the binary
form of ``privacy.cipher.crypto``; no key is needed, the associated data did not change.
"""

from django.db import migrations

from privacy.cipher.text_form import convert_columns


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0012_retention_periods_and_reports"),
    ]

    operations = [
        migrations.RunPython(
            convert_columns("privacy"), convert_columns("privacy", to_text=True), elidable=False
        ),
    ]
