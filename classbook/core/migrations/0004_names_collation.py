"""Once the ``classbook_names`` ICU collation for ordering people by name on PostgreSQL; now nothing:
classbook.core.collation uses PostgreSQL's built-in ``"uk-UA-x-icu"`` (a created collation was created twice
by a restore). SQLite gets ``classbook_names`` from Python on every connection (``register_sqlite_collation``).
The reverse drops a collation an older version created."""

from django.db import migrations

CREATE = (
    'CREATE COLLATION IF NOT EXISTS "classbook_names" '
    "(provider = icu, locale = 'uk-u-ka-shifted', deterministic = true)"
)


def create(apps, schema_editor):
    # Nothing is created: core.collation orders by PostgreSQL's built-in "uk-UA-x-icu" (pg_catalog), and a
    # collation created here would be created twice by a restore (pg_dump writes it too).
    return None


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP COLLATION IF EXISTS "classbook_names"')


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_subject_and_filter_indexes")]

    operations = [migrations.RunPython(create, drop)]
