"""Absence documents keep the type verified from their bytes (issue 9).

Existing rows with a document: the type is derived again from the stored file (``classbook.core.uploads``);
a missing file or a kind Classbook does not serve safely becomes ``application/octet-stream``.
"""

from django.db import migrations


def derive_types(apps, schema_editor):
    from classbook.core.uploads import rederive_stored_types

    rows = apps.get_model("appeals", "AbsenceReport").objects.exclude(document="")
    rederive_stored_types(rows, file_field="document", type_field="document_type")


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(derive_types, migrations.RunPython.noop),
    ]
