"""This app's encrypted columns become binary: the conversion of ``casemgmt.0023``."""

from django.db import migrations

from privacy.cipher.text_form import convert_columns


class Migration(migrations.Migration):
    dependencies = [("privacy", "0012_retention_periods_and_reports")]

    operations = [migrations.RunPython(convert_columns("privacy"), convert_columns("privacy", to_text=True))]
