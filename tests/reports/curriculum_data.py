"""Hand-built lessons, plans and control works for the curriculum reports (R6.4), on top of ``built``.

``built`` (tests/reports/conftest.py) gives 5-А and 5-Б, their teachers, English in two subgroups, a student
who left 5-А on 15 November (``leaver``), one who moved from 5-Б to 5-А on 1 November (``mover``), period and
annual grades with corrections. Here, in the first semester (1 September - 26 December 2026; "today" is
3 December), plus one lesson in the second semester:

- mathematics 5-А (``math_a``): lessons on 1, 2, 3, 4, 7, 8, 9, 10, 11, 14 September and 15 January. 3 September
  is cancelled before the plan is imported; the plan (8 hours: numbers 2 regular, control 1, laboratory 1,
  practice 1, revision 1, final control 2) binds to 1, 2, 4, 7, 8, 9, 10, 11 September; 14 September and
  15 January have no planned hour (lessons without a plan binding). Then 9 September is cancelled (the plan
  is not bound again: an hour behind). Types recorded: 4 and 10 September control, 8 practice (given by a
  substitute), 14 combined, the rest ordinary (the laboratory work and one control work not given).
- history 5-А (``hist_a``): no plan; lessons 1 (control) and 3 September.
- English, subgroup 1 (``eng1``): plan of 2 hours (ordinary, control) on 2 and 5 September (5 September a
  control work); subgroup 2 (``eng2``): no plan, one control lesson on 2 September.
- mathematics 5-Б (``math_b``): plan of 1 control hour, the control lesson on 2 September.

Marks (stored as data to read; the period grades of ``built`` close the period to the journal's services):
control works, laboratory/practical marks (also control work types), current marks that do not count, two marks
of one student at one lesson (slots), a corrected mark (its value changed), a cleared mark, the leaver's marks
(out of the semester unless counted) and the mover's mark in 5-Б from before the transfer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import Lesson, LessonType, Mark, WorkType
from classbook.planning import services as planning
from classbook.planning.files import TopicRow
from classbook.schools.models import ScaleValue, TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange

TODAY = dt.date(2026, 12, 3)
SEP = {d: dt.date(2026, 9, d) for d in range(1, 31)}
JAN15 = dt.date(2027, 1, 15)

MATH_PLAN = [
    ("Числа", 2, LessonType.REGULAR),
    ("Контрольна робота 1", 1, LessonType.CONTROL),
    ("Лабораторна", 1, LessonType.LABORATORY),
    ("Практична", 1, LessonType.PRACTICE),
    ("Повторення", 1, LessonType.REVISION),
    ("Підсумкова контрольна", 2, LessonType.CONTROL),
]


@dataclass
class Curriculum:
    built: object
    lessons: dict[tuple[str, dt.date], Lesson] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)


def _lesson(assignment: TeachingAssignment, day: dt.date, number: int = 1) -> Lesson:
    return Lesson.objects.create(
        school=assignment.school, assignment=assignment, date=day, number=number, created_by=assignment.teacher
    )


def _cancel(lesson: Lesson, by) -> None:
    LessonChange.objects.create(
        school=lesson.school,
        lesson=lesson,
        kind=ChangeKind.CANCELLED,
        date=lesson.date,
        teacher=lesson.assignment.teacher,
        recorded_by=by,
    )


def _plan(assignment: TeachingAssignment, topics: list[tuple[str, int, str]]) -> None:
    planning.import_topics(
        acting_user=assignment.teacher,
        assignment=assignment,
        rows=[TopicRow(section="", title=t, hours=h, lesson_type=k, homework="") for t, h, k in topics],
    )


@pytest.fixture(name="cur")
def curriculum_world(world, built) -> Curriculum:
    create_journal_defaults(world.school)
    school = world.school
    b = built
    c = Curriculum(built=b)
    L = c.lessons
    for day in (1, 2, 3, 4, 7, 8, 9, 10, 11, 14):
        L[("math", SEP[day])] = _lesson(b.math_a, SEP[day])
    L[("math", JAN15)] = _lesson(b.math_a, JAN15)
    _cancel(L[("math", SEP[3])], world.deputy)
    _plan(b.math_a, MATH_PLAN)
    _cancel(L[("math", SEP[9])], world.deputy)  # after the binding: the revision hour stays on it
    types = {4: LessonType.CONTROL, 10: LessonType.CONTROL, 8: LessonType.PRACTICE, 14: LessonType.COMBINED}
    for day, kind in types.items():
        Lesson.objects.filter(pk=L[("math", SEP[day])].pk).update(lesson_type=kind)
    Lesson.objects.filter(pk=L[("math", SEP[8])].pk).update(conducted_by=world.other_teacher)

    for day in (1, 3):
        L[("hist", SEP[day])] = _lesson(b.hist_a, SEP[day], 2)
    Lesson.objects.filter(pk=L[("hist", SEP[1])].pk).update(lesson_type=LessonType.CONTROL)
    L[("eng1", SEP[2])] = _lesson(b.eng1, SEP[2], 3)
    L[("eng1", SEP[5])] = _lesson(b.eng1, SEP[5], 3)
    _plan(b.eng1, [("Present Simple", 1, LessonType.REGULAR), ("Test 1", 1, LessonType.CONTROL)])
    Lesson.objects.filter(pk=L[("eng1", SEP[5])].pk).update(lesson_type=LessonType.CONTROL)
    L[("eng2", SEP[2])] = _lesson(b.eng2, SEP[2], 3)
    Lesson.objects.filter(pk=L[("eng2", SEP[2])].pk).update(lesson_type=LessonType.CONTROL)
    L[("math_b", SEP[2])] = _lesson(b.math_b, SEP[2], 2)
    _plan(b.math_b, [("Контрольна", 1, LessonType.CONTROL)])
    Lesson.objects.filter(pk=L[("math_b", SEP[2])].pk).update(lesson_type=LessonType.CONTROL)

    wt = {w.code: w for w in WorkType.objects.filter(school=school)}
    s = b.students

    def mark(key: str, day: dt.date, student_key: str, code: str, work: str = "control", slot: int = 0) -> Mark:
        lesson = L[(key, day)]
        scale = lesson.assignment.effective_scale()
        value = ScaleValue.objects.get(scale=scale, code=code) if code else None
        student = s[student_key] if student_key in s else getattr(world, student_key)
        row = Mark.objects.create(
            school=school,
            lesson=lesson,
            student=student,
            work_type=wt[work],
            slot=slot,
            value=value,
            created_by=lesson.assignment.teacher,
            updated_by=lesson.assignment.teacher,
        )
        c.marks.append(row)
        return row

    # Mathematics 5-А, control work of 4 September.
    for key, code in (("student", "12"), ("Андрієнко", "10"), ("Бойко", "7"), ("Дорошенко", "5"), ("Євтушенко", "2")):
        mark("math", SEP[4], key, code)
    corrected = mark("math", SEP[4], "Гнатюк", "3")
    corrected.value = ScaleValue.objects.get(scale=corrected.value.scale, code="4")  # the teacher corrected 3 → 4
    corrected.version = 2
    corrected.save()
    cleared = c.marks[3]  # Дорошенко's 5, cleared: the row stays without a value
    Mark.objects.filter(pk=cleared.pk).update(value=None, version=2)
    mark("math", SEP[4], "student", "6", work="current")  # a current mark at the control lesson: not a control work
    # The final control work of 10 September: two marks of one student (two variants, slots 0 and 1).
    mark("math", SEP[10], "student", "11", slot=0)
    mark("math", SEP[10], "student", "9", slot=1)
    mark("math", SEP[10], "Андрієнко", "9")
    mark("math", SEP[10], "Бойко", "1")
    mark("math", SEP[10], "Гнатюк", "12", work="current", slot=1)
    # The practical work of 8 September (the substitute's lesson), marked as a practical work (a control type).
    mark("math", SEP[8], "student", "8", work="practical")
    mark("math", SEP[8], "Євтушенко", "10", work="practical")
    # A control work mark at a cancelled lesson does not count.
    mark("math", SEP[9], "Андрієнко", "1")
    # History: a control work with two control-type marks for one student (control and laboratory).
    mark("hist", SEP[1], "Бойко", "9")
    mark("hist", SEP[1], "Бойко", "4", work="laboratory")
    mark("hist", SEP[1], "Гнатюк", "6")
    # English, two subgroups.
    mark("eng1", SEP[5], "student", "10")
    mark("eng1", SEP[5], "Андрієнко", "8")
    mark("eng2", SEP[2], "Гнатюк", "1")
    mark("eng2", SEP[2], "Євтушенко", "7")
    # 5-Б: the mover, before the transfer (departed from 5-Б by the semester's end), and the other student.
    mark("math_b", SEP[2], "mover", "6")
    mark("math_b", SEP[2], "other_student", "9")
    return c
