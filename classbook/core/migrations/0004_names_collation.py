"""The ``classbook_names`` collation for ordering people by name (classbook.core.collation): on PostgreSQL
an ICU collation, the Ukrainian alphabet with punctuation (apostrophes, hyphens) ignored. SQLite gets the
same name from Python on every connection (``register_sqlite_collation``), so nothing happens there."""

from django.db import migrations

CREATE = (
    'CREATE COLLATION IF NOT EXISTS "classbook_names" '
    "(provider = icu, locale = 'uk-u-ka-shifted', deterministic = true)"
)


def create(apps, schema_editor):
    # Not created for now: core.collation orders by the plain columns on PostgreSQL (SELECT DISTINCT), and a
    # collation created here would be created twice by a restore (pg_dump writes it too).
    return None


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP COLLATION IF EXISTS "classbook_names"')


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_subject_and_filter_indexes")]

    operations = [migrations.RunPython(create, drop)]
