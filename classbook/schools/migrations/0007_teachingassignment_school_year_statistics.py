"""PostgreSQL's planner told that a teaching assignment's year decides its school (and a class's year too).

Every scoped query filters ``school_id`` and, for a report, the year: without this the planner multiplies the two
selectivities as if independent and, with ten schools, expects a tenth of a school's assignments of the year (47
rows for 468). The progress report then looked each grade's enrolment up by index, one grade at a time (12,793
lookups, ~2.5x the time of one school's plan); docs/performance.md, "One school against ten". ``ANALYZE`` fills the
statistics (the demo and the bench run it; autovacuum does on a live database).
"""

from django.db import migrations

STATISTICS = {
    "schools_teachingassignment_school_year": "schools_teachingassignment",
    "schools_schoolclass_school_year": "schools_schoolclass",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table in STATISTICS.items():
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name} (dependencies) ON school_id, year_id FROM {table}"
        )
        schema_editor.execute(f"ANALYZE {table}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("schools", "0006_school_offline_window_hours")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
