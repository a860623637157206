"""Programme completion (R3.2) on a constructed case, against figures computed by hand."""

from __future__ import annotations

import datetime as dt

from classbook.journal.models import Lesson, LessonType
from classbook.planning import queries, services
from classbook.schools.models import TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange
from tests.planning.conftest import CSV_OK, make_lessons

# Plan (CSV_OK): Natural numbers 2h regular, Control work 1 1h control, Angles 1h laboratory,
# Measuring 2h practice, Revision 1h revision = 7 hours; control 1, laboratory 1, practice 2.
DAYS = [dt.date(2026, 9, d) for d in (1, 2, 3, 4, 7, 8, 9, 10)]


def test_completion_matches_hand_computed_figures(world, assignment):
    lessons = make_lessons(assignment, DAYS)
    # Lesson 3 (3 Sep) is cancelled: it gets no topic and does not count.
    LessonChange.objects.create(
        school=world.school,
        lesson=lessons[2],
        kind=ChangeKind.CANCELLED,
        date=DAYS[2],
        teacher=world.teacher,
        recorded_by=world.deputy,
    )
    # Lesson 4 (4 Sep) was given by a substitute and recorded as the control work.
    Lesson.objects.filter(pk=lessons[3].pk).update(conducted_by=world.other_teacher, lesson_type=LessonType.CONTROL)
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    # Bound (cancelled left out): 1,2 Sep Natural numbers; 4 Sep Control; 7 Sep Angles (lab);
    # 8, 9 Sep Measuring (practice); 10 Sep Revision.
    # Lesson of 7 Sep was recorded as ordinary (the lab work not given yet).
    (row,) = queries.completion(TeachingAssignment.objects.filter(pk=assignment.pk), as_of=dt.date(2026, 9, 8))
    assert row.planned == 7
    assert row.scheduled == 7  # 8 lessons, 1 cancelled
    assert row.conducted == 5  # 1, 2, 4, 7, 8 Sep
    assert row.by_substitute == 1
    assert row.due == 5  # planned hours bound to lessons up to 8 Sep
    assert row.behind == 0 and row.shortfall == 0
    assert row.planned_by_type == {"control": 1, "laboratory": 1, "practice": 2}
    assert row.due_by_type == {"control": 1, "laboratory": 1, "practice": 1}
    assert row.conducted_by_type == {"control": 1, "laboratory": 0, "practice": 0}
    assert row.type_gap("laboratory") == 1 and row.type_gap("practice") == 1 and row.type_gap("control") == 0
    assert row.has_gap
    assert row.percent == 71


def test_shortfall_when_the_timetable_cannot_hold_the_plan(world, assignment, other_assignment):
    make_lessons(assignment, DAYS[:4])
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    rows = queries.completion(
        TeachingAssignment.objects.filter(pk__in=[assignment.pk, other_assignment.pk]), as_of=dt.date(2026, 9, 2)
    )
    mine = next(r for r in rows if r.assignment == assignment)
    other = next(r for r in rows if r.assignment == other_assignment)
    assert (mine.planned, mine.scheduled, mine.shortfall, mine.conducted, mine.due) == (7, 4, 3, 2, 2)
    assert (other.status, other.planned, other.conducted) == ("missing", 0, 0)
    totals = queries.totals(rows)
    assert totals["planned"] == 7 and totals["shortfall"] == 3
