"""Message attachments keep the type verified from their bytes (issue 9), not the uploader's content type.

Existing rows: the type is derived again from the stored file (``classbook.core.uploads``); a missing file or
a kind Classbook does not serve safely becomes ``application/octet-stream`` (downloaded, never shown).
"""

from django.db import migrations, models


def derive_types(apps, schema_editor):
    from classbook.core.uploads import rederive_stored_types

    rows = apps.get_model("messaging", "MessageAttachment").objects.all()
    rederive_stored_types(rows, file_field="file", type_field="mime_type")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="messageattachment", old_name="content_type", new_name="mime_type"),
        migrations.AlterField(
            model_name="messageattachment",
            name="mime_type",
            field=models.CharField(default="application/octet-stream", max_length=100),
        ),
        migrations.RunPython(derive_types, migrations.RunPython.noop),
    ]
