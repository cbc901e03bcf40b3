"""Encrypted columns become binary (issue 17: the envelope within 2x bare AES-GCM).

Re-packs every value of the earlier text form (``e2:<key id>:<base64url>``) into the binary
form of ``privacy.cipher.crypto``; no key is needed, the associated data did not change.
"""

from django.db import migrations

from privacy.cipher.text_form import convert_columns


class Migration(migrations.Migration):
    dependencies = [
        ("casemgmt", "0022_person_residence_index"),
    ]

    operations = [
        migrations.RunPython(
            convert_columns("casemgmt"), convert_columns("casemgmt", to_text=True), elidable=False
        ),
    ]
