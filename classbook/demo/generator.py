"""The demo school generator behind ``manage.py seed_demo``.

It builds a realistic Ukrainian lyceum (calendar, classes, curriculum, teachers and their
workload, students, families, consents, timetable, journal, plans, messages) deterministically
from a seed: every random choice comes from a ``random.Random`` seeded with the seed, the
school's index and the step's name, and every date is fixed (the journal up to the demo's
"today"). The same seed on an empty database gives identical data; a new step added later does
not change what the earlier steps produce.

``generate`` runs the steps of ``classbook.demo.steps.STEPS`` for every school of the run in one
transaction, then records the run (one ``demo.school.seeded`` audit entry per school) and the
education authority over the schools. With ``jobs`` above 1 on PostgreSQL the schools are built by that
many processes, one transaction each, committed together (``generate_in_processes``); the data are the same.
The steps write through services or through the
documented bulk writers of ``classbook.demo.bulk`` (why, and which rules each keeps: the
docstrings of ``classbook.demo.steps`` and of each step module).

The demo grows with every later capability: add a step module to ``classbook/demo/steps/`` and
its ``step_xxx(build)`` to ``STEPS``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Iterable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from django.apps import apps
from django.db import connection, connections, transaction

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
from classbook.people.models import Membership, Role, User
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


def generate(options: DemoOptions, steps: Sequence[Step] | None = None, jobs: int = 1) -> DemoSummary:
    """Create ``options.scale`` demo schools and return what was created.

    With ``jobs`` above 1, on PostgreSQL, outside a transaction and with more than one school, the schools are
    built by that many processes side by side (``generate_in_processes``: the second core); the data is the same
    as with one process. Otherwise all in this process, in one transaction."""
    jobs = min(jobs, options.scale)
    if jobs > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        return generate_in_processes(options, steps, jobs)
    return _generate_here(options, steps)


@transaction.atomic
def _generate_here(options: DemoOptions, steps: Sequence[Step] | None) -> DemoSummary:
    started = time.perf_counter()
    run = DemoRun(options)
    summary = DemoSummary(schools=options.slugs())
    # On PostgreSQL the foreign keys of the ~15 million rows of a ten-school run are checked once per
    # constraint at the end, not once per row (``classbook.demo.bulk.checked_at_the_end``).
    with checked_at_the_end():
        schools = _build_schools(run, range(options.scale), steps, summary)
        _finish(run, schools)
    return _summarise(run, schools, summary, started)


def _build_schools(
    run: DemoRun, indexes: Iterable[int], steps: Sequence[Step] | None, summary: DemoSummary
) -> list[School]:
    """Run the steps for the schools of these indexes, each recorded in the audit log; their seeded journal
    settled (history, not news: nobody is notified of it; the task worker would otherwise work out notices for
    every seeded mark when the demo starts, ~1.7 million changes for ten schools)."""
    slugs = run.options.slugs()
    schools = []
    for index in indexes:
        run.school_index = index
        build = SchoolBuild(run=run, index=index, slug=slugs[index], students_wanted=run.options.students)
        for step in steps if steps is not None else STEPS:
            step(build)
        assert build.school is not None
        schools.append(build.school)
        log_action(
            "demo.school.seeded",
            actor=None,
            school=build.school,
            obj=build.school,
            data={"seed": run.options.seed, "students": run.options.students},
        )
        summary.students += len(build.students)
        summary.classes += len(build.classes)
        summary.parents += len(build.parents)
    run.school_index = 0
    outbox.settle([school.pk for school in schools])
    return schools


def _finish(run: DemoRun, schools: list[School]) -> None:
    """What spans the run's schools: the education authority over them all."""
    add_authority(run, schools)


def _summarise(run: DemoRun, schools: list[School], summary: DemoSummary, started: float) -> DemoSummary:
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


def generate_in_processes(options: DemoOptions, steps: Sequence[Step] | None, jobs: int) -> DemoSummary:
    """Build the schools in ``jobs`` forked processes (school ``i`` in process ``i % jobs``), each in its own
    transaction on its own connection; PostgreSQL only, Unix only (``fork``).

    The processes write at once and commit together: each builds its schools, checks its foreign keys
    (``checked_at_the_end``) and settles its journal, then reports ready and waits; only when every process is
    ready are they all told to commit (if one fails, all roll back and the error is raised here; only a failure
    of a ``COMMIT`` itself, after every process has checked its rows, would leave the others' schools). Then this
    process adds the authority over all the schools in a transaction of its own and ``ANALYZE``s. The data are
    those of a one-process run: every school's randomness depends only on the seed and its index, and its
    usernames on its index (``DemoRun.username``); only the primary keys interleave differently.
    """
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    run = DemoRun(options)  # the password hashed once, the usernames taken before the run
    # The children must not share this process's connection: closed here, each opens its own.
    connections.close_all()
    pipes, processes = [], []
    for job in range(jobs):
        parent_end, child_end = context.Pipe()
        process = context.Process(
            target=_job, args=(run, list(range(job, options.scale, jobs)), steps, child_end), daemon=True
        )
        process.start()
        child_end.close()
        pipes.append(parent_end)
        processes.append(process)
    summary = DemoSummary(schools=options.slugs())
    school_ids: list[int] = []
    failure = ""
    try:
        replies = [_reply(pipe) for pipe in pipes]
        failure = next((r[1] for r in replies if r[0] != "ready"), "")
        for pipe, reply in zip(pipes, replies, strict=True):
            if reply[0] == "ready":
                pipe.send("rollback" if failure else "commit")
        for reply in replies:
            if reply[0] == "ready":
                ids, part, rows = reply[1]
                school_ids += ids
                summary.students += part.students
                summary.classes += part.classes
                summary.parents += part.parents
                run.rows.update(rows)
        if not failure:
            done = [_reply(pipe) for pipe in pipes]
            failure = next((r[1] for r in done if r[0] != "committed"), "")
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            process.join()
    if failure:
        raise RuntimeError(f"A demo process failed; the run was rolled back:\n{failure}")
    with transaction.atomic():
        by_pk = School.objects.in_bulk(school_ids)
        schools = sorted(by_pk.values(), key=lambda school: options.slugs().index(school.slug))
        run.usernames |= set(User.objects.values_list("username", flat=True))
        _finish(run, schools)
        return _summarise(run, schools, summary, started)


def _reply(pipe: Connection) -> tuple[str, Any]:
    try:
        return pipe.recv()
    except EOFError:
        return ("failed", "the process ended without a word")


def _job(run: DemoRun, indexes: list[int], steps: Sequence[Step] | None, pipe: Connection) -> None:
    """One process of ``generate_in_processes``: build these schools, report, commit or roll back as told."""
    try:
        with transaction.atomic():
            part = DemoSummary(schools=[])
            with checked_at_the_end():
                schools = _build_schools(run, indexes, steps, part)
            pipe.send(("ready", ([s.pk for s in schools], part, dict(run.rows))))
            if pipe.recv() != "commit":
                transaction.set_rollback(True)
                return
        pipe.send(("committed", None))
    except BaseException:  # reported to the parent, which raises it
        with contextlib.suppress(OSError):
            pipe.send(("failed", traceback.format_exc()))
    finally:
        connections.close_all()
        pipe.close()


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
