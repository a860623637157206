"""Absence documents keep the type verified from their bytes (issue 9).

Existing rows with a document: the type is derived again from the stored file (``classbook.core.uploads``);
a missing file or a kind Classbook does not serve safely becomes ``application/octet-stream``.
"""

from collections import defaultdict

from django.db import migrations


def derive_types(apps, schema_editor):
    from classbook.core.uploads import kind_of_stored

    AbsenceReport = apps.get_model("appeals", "AbsenceReport")
    by_type = defaultdict(list)
    for row in AbsenceReport.objects.exclude(document="").only("pk", "document").iterator(chunk_size=500):
        by_type[kind_of_stored(row.document)].append(row.pk)
    for mime, pks in by_type.items():
        for start in range(0, len(pks), 500):
            AbsenceReport.objects.filter(pk__in=pks[start : start + 500]).update(document_type=mime)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(derive_types, migrations.RunPython.noop),
    ]
