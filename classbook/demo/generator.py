"""The demo school generator behind ``manage.py seed_demo``.

It builds a realistic Ukrainian lyceum (calendar, classes, curriculum, teachers and their
workload, students, families, consents, timetable, journal, plans, messages) deterministically
from a seed: every random choice comes from a ``random.Random`` seeded with the seed, the
school's index and the step's name, and every date is fixed (the journal up to the demo's
"today"). The same seed on an empty database gives identical data; a new step added later does
not change what the earlier steps produce.

``generate`` runs the steps of ``classbook.demo.steps.STEPS`` for every school of the run in one
transaction, then records the run (one ``demo.school.seeded`` audit entry per school) and the
education authority over the schools. The steps write through services or through the
documented bulk writers of ``classbook.demo.bulk`` (why, and which rules each keeps: the
docstrings of ``classbook.demo.steps`` and of each step module).

The demo grows with every later capability: add a step module to ``classbook/demo/steps/`` and
its ``step_xxx(build)`` to ``STEPS``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.apps import apps
from django.db import connection, transaction

from classbook.core.audit import log_action
from classbook.demo.build import (
    DEFAULT_SLUG,
    DEMO_PASSWORD,
    MAX_SCALE,
    MAX_STUDENTS,
    DemoOptions,
    DemoRun,
    DemoSummary,
    SchoolBuild,
    Step,
)
from classbook.demo.bulk import checked_at_the_end
from classbook.demo.steps import STEPS
from classbook.demo.steps.people import add_authority
from classbook.journal import outbox
from classbook.people.models import Membership, Role
from classbook.schools.models import School

__all__ = [
    "DEFAULT_SLUG",
    "DEMO_PASSWORD",
    "MAX_SCALE",
    "MAX_STUDENTS",
    "STEPS",
    "DemoOptions",
    "DemoSummary",
    "SchoolBuild",
    "Step",
    "existing_slugs",
    "generate",
]


def existing_slugs(options: DemoOptions) -> list[str]:
    return list(School.objects.filter(slug__in=options.slugs()).values_list("slug", flat=True))


@transaction.atomic
def generate(options: DemoOptions, steps: Sequence[Step] | None = None) -> DemoSummary:
    """Create ``options.scale`` demo schools in one transaction and return what was created."""
    started = time.perf_counter()
    run = DemoRun(options)
    summary = DemoSummary(schools=options.slugs())
    schools = []
    # On PostgreSQL the foreign keys of the ~15 million rows of a ten-school run are checked once per
    # constraint at the end, not once per row (``classbook.demo.bulk.checked_at_the_end``).
    with checked_at_the_end():
        for index, slug in enumerate(options.slugs()):
            build = SchoolBuild(run=run, index=index, slug=slug, students_wanted=options.students)
            for step in steps if steps is not None else STEPS:
                step(build)
            assert build.school is not None
            schools.append(build.school)
            log_action(
                "demo.school.seeded",
                actor=None,
                school=build.school,
                obj=build.school,
                data={"seed": options.seed, "students": options.students},
            )
            summary.students += len(build.students)
            summary.classes += len(build.classes)
            summary.parents += len(build.parents)
        add_authority(run, schools)
        # The seeded journal is history, not news: nobody is notified of it (the task worker would otherwise work
        # out notices for every seeded mark when the demo starts: ~1.7 million changes for ten schools).
        outbox.settle([school.pk for school in schools])
    summary.staff = (
        Membership.objects.filter(
            school__in=schools,
            role__in=[Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.SECRETARY, Role.TEACHER],
            is_active=True,  # not last year's teachers who have left (steps.last_year)
        )
        .values("user")
        .distinct()
        .count()
    )
    summary.rows = run.rows
    refresh_statistics(run)
    summary.seconds = time.perf_counter() - started
    return summary


def refresh_statistics(run: DemoRun) -> None:
    """``ANALYZE`` the tables the run filled, on PostgreSQL, as its manual advises after a bulk load.

    The planner's statistics describe the tables before the run, and autovacuum refreshes them only some time
    after the commit: until then the pages read the freshly seeded school with plans made for the tables as they
    were. Tables analyzed while empty (a fresh database that has seen a few writes, a demo deleted and seeded
    again) are believed to be still empty, and the planning pages' queries (``planning.queries.plan_status``,
    ``completion``) then took minutes instead of a second (``tests/planning/test_demo_step.py``: 6.7 s alone,
    52.7 s to 280 s after the tables had been analyzed empty). Inside the run's transaction ``ANALYZE`` sees the
    run's own rows; it samples at most 30,000 rows a table (under a second for a 60-student school)."""
    if connection.vendor != "postgresql" or not run.rows:
        return
    tables = sorted({apps.get_model(label)._meta.db_table for label in run.rows})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))
