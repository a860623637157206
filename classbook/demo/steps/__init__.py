"""The demo generator's steps, in order: one module per subject.

A step is a function ``step_xxx(build: SchoolBuild) -> None``: it reads what the earlier steps left on the
``SchoolBuild`` (``classbook.demo.build``), takes its randomness from ``build.rng("xxx")`` and writes its
rows. A step writes only

- through a **service** of the app that owns the rows, where one exists at a small, constant cost
  (``schools.services.create_school``, ``timetable.services.generate_lessons``), or
- through a **bulk writer** of ``classbook.demo.bulk`` where a service per row would be too slow for a
  1,000-student school; the step's module docstring then says which rules of the service it keeps the
  same way (audit rows, versions, one entry per cell, no future times ...), and ``tests/demo`` checks them.

Steps import the apps' models and services, never their private helpers (names starting with ``_``),
pages, forms or read models: ``tests/demo/test_demo_imports.py`` and the import-linter contract
"demo-on-services" check it.

Modules: ``schools`` (the school, calendar, structure), ``people`` (staff and workload, students,
families, consents, the education authority), ``timetable`` (bells, timetable, lessons, changes),
``journal`` (topics, homework, register, absences, marks, remarks), ``planning`` (calendar-thematic
plans bound to the lessons), ``messaging`` (conversations, announcements, a forum topic), ``grades``
(period grades of the closed periods derived from their marks, annual grades of an ended year), ``last_year``
(the closed year 2025/2026: its classes, students, workload and its period and annual grades), ``last_year_journal``
(that year's lessons and journal, for the region data set).
"""

from __future__ import annotations

from classbook.demo.build import Step
from classbook.demo.steps.grades import step_grades
from classbook.demo.steps.journal import step_journal
from classbook.demo.steps.last_year import step_last_year
from classbook.demo.steps.last_year_journal import step_last_year_journal
from classbook.demo.steps.messaging import step_messaging
from classbook.demo.steps.people import step_consents, step_staff, step_students
from classbook.demo.steps.planning import step_planning
from classbook.demo.steps.schools import step_calendar, step_school, step_structure
from classbook.demo.steps.timetable import step_timetable

# The generation steps, in order. Later capabilities add theirs.
STEPS: list[Step] = [
    step_school,
    step_calendar,
    step_structure,
    step_staff,
    step_students,
    step_consents,
    step_timetable,  # bells, weekly timetable, the year's lessons, substitutions
    step_journal,  # topics, homework, register, absences, marks, remarks up to today (with audit rows)
    step_planning,  # calendar-thematic plans bound to the year's lessons, a few teachers late
    step_messaging,  # a few conversations (one unanswered for 5 days), announcements, a forum topic
    step_grades,  # period grades of the closed periods from their marks (a few н/а, exempt), annual grades
    step_last_year,  # the closed year 2025/2026: classes, students, workload, period and annual grades
    step_last_year_journal,  # with --scale (or asked for): that year's timetable, lessons and journal
]
