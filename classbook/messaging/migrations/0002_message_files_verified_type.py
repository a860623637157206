"""Message attachments keep the type verified from their bytes (issue 9), not the uploader's content type.

Existing rows: the type is derived again from the stored file (``classbook.core.uploads``); a missing file or
a kind Classbook does not serve safely becomes ``application/octet-stream`` (downloaded, never shown).
"""

from collections import defaultdict

from django.db import migrations, models


def derive_types(apps, schema_editor):
    from classbook.core.uploads import kind_of_stored

    MessageAttachment = apps.get_model("messaging", "MessageAttachment")
    by_type = defaultdict(list)
    for row in MessageAttachment.objects.only("pk", "file").iterator(chunk_size=500):
        by_type[kind_of_stored(row.file)].append(row.pk)
    for mime, pks in by_type.items():
        for start in range(0, len(pks), 500):
            MessageAttachment.objects.filter(pk__in=pks[start : start + 500]).update(mime_type=mime)


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
