"""Hand-built journals for the journal filling reports, with the edge cases every figure must survive.

Written through the journal's, the timetable's and the core's services at the times given (``time_machine``),
so late flags, registers and audit rows are stored as the journal stores them. School's deadline 16:00 (Kyiv).
On top of the ``world`` personas (5-А: ``world.student``, ``bondar``, ``gnatiuk``; 5-Б: ``world.other_student``):

- mathematics 5-А (``world.teacher``, 1 hour a week → 3 marks per semester):
  - Mon 5 Oct: topic and homework, register taken; ``student`` 10, ``bondar`` 8 and 9 (two marks at one lesson);
  - Tue 6 Oct: topic, **no homework**; register **partially taken** (one absence recorded, nobody else marked);
    ``student`` 7 entered the next morning (**late**: a later day);
  - Wed 7 Oct: given by a **substitute** (``hist_teacher``): no topic, no homework, no register; the
    substitute's mark ``bondar`` 6 on time;
  - Thu 8 Oct: **cancelled** by the timetable (no topic: not a lesson given);
  - Fri 9 Oct: topic and homework, no register; ``gnatiuk`` 5 at 17:30 (**late**: after the deadline the same
    day); ``student`` 4 entered and **cleared** (not a mark);
  - Tue 3 Nov: topic and homework, register taken; ``student`` 11;
  - Fri 20 Nov: a lesson **in the future** (after today, 10 Nov), no topic: not given yet.
- history 5-А (``hist_teacher``, 2 hours a week → 5 marks): Mon 5 Oct: topic, no homework, no register;
  ``gnatiuk`` 9 entered on the 6th (late).
- history 5-Б (``world.other_teacher``): Mon 5 Oct: topic, homework, register taken; ``other_student`` 8.
- Remarks by the deputy: mathematics — 2 Sep, fixed on 1 Oct (outside October, inside the semester), and
  10 Oct, open; history 5-Б — 12 Oct, fixed on the 13th; history 5-А — 12 Oct, open.
- Logins on Mon 5 Oct: ``world.teacher`` twice, the deputy once, ``world.parent`` once; ``foreign_teacher``
  (another school) once; ``world.teacher`` once on Tue 6 Oct.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
import time_machine

from classbook.core.audit import log_action
from classbook.journal import services as journal
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import Lesson, Remark
from classbook.people.models import Role, Student
from classbook.schools.models import SchoolClass, StudyPeriod, TeachingAssignment
from classbook.timetable.services import record_lesson_change
from tests import factories as f

KYIV = ZoneInfo("Europe/Kyiv")
NOW = dt.datetime(2026, 11, 10, 12, 0, tzinfo=KYIV)


def at(day: dt.date, hour: int, minute: int = 0) -> time_machine.travel:
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=KYIV), tick=False)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


@dataclass
class FillingWorld:
    semester: StudyPeriod
    class_a: SchoolClass
    class_b: SchoolClass
    math: TeachingAssignment
    hist: TeachingAssignment
    hist_b: TeachingAssignment
    hist_teacher: object
    students: dict[str, Student]
    lessons: dict[str, Lesson] = field(default_factory=dict)
    remarks: list[Remark] = field(default_factory=list)


def _lesson(assignment: TeachingAssignment, day: dt.date, number: int = 1, **changes: str) -> Lesson:
    with at(day, 8, 30):
        lesson = journal.create_lesson(acting_user=assignment.teacher, assignment=assignment, date=day, number=number)
    if changes:
        with at(day, 10):
            lesson = journal.update_lesson(
                acting_user=assignment.teacher, lesson_id=lesson.pk, expected_version=lesson.version, **changes
            )
    return lesson


def _mark(lesson: Lesson, student: Student, text: str, when: dt.datetime, by=None, slot: int = 0, version: int = 0):
    lesson.refresh_from_db()
    with time_machine.travel(when, tick=False):
        return journal.record_mark(
            acting_user=by or lesson.assignment.teacher,
            lesson=lesson,
            student=student,
            text=text,
            expected_version=version,
            slot=slot,
        )


def _when(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=KYIV)


@pytest.fixture(name="fw")
def filling_world(world) -> FillingWorld:
    """The journals of the module's docstring (import ``filling_world`` to use the fixture ``fw``)."""
    create_journal_defaults(world.school)
    school, a, b = world.school, world.class_a, world.class_b
    semester = f.PeriodFactory(year=a.year)
    TeachingAssignment.objects.filter(teacher=world.teacher, school_class=a).update(hours_per_week=1)
    math = TeachingAssignment.objects.get(teacher=world.teacher, school_class=a)
    hist_teacher = f.make_member(school, Role.TEACHER, username="histteacher")
    hist = f.make_assignment(hist_teacher, a, f.SubjectFactory(school=school, name="Історія України"))
    hist_b = TeachingAssignment.objects.get(teacher=world.other_teacher, school_class=b)
    s = {"student": world.student, "other": world.other_student}
    for key, name in (("bondar", "Бондар"), ("gnatiuk", "Гнатюк")):
        s[key] = f.make_student(a, user=f.UserFactory(last_name=name, username=f"s-{key}"))
    w = FillingWorld(semester, a, b, math, hist, hist_b, hist_teacher, s)
    L = w.lessons

    # Mathematics 5-А
    L["m1"] = _lesson(math, d(10, 5), topic="Дроби", homework="§ 1, № 3")
    with at(d(10, 5), 9, 5):
        journal.take_register(acting_user=world.teacher, lesson=L["m1"])
    _mark(L["m1"], s["student"], "10", _when(d(10, 5), 10))
    _mark(L["m1"], s["bondar"], "8", _when(d(10, 5), 10))
    _mark(L["m1"], s["bondar"], "9", _when(d(10, 5), 15, 59), slot=1)
    L["m2"] = _lesson(math, d(10, 6), topic="Дроби, додавання")
    with at(d(10, 6), 9, 10):
        journal.record_attendance(
            acting_user=world.teacher, lesson=L["m2"], student=s["gnatiuk"], text="н", expected_version=0
        )
    _mark(L["m2"], s["student"], "7", _when(d(10, 7), 9))
    L["m3"] = _lesson(math, d(10, 7))
    with at(d(10, 6), 18):
        record_lesson_change(acting_user=world.deputy, lesson=L["m3"], kind="substituted", substitute=hist_teacher)
    _mark(L["m3"], s["bondar"], "6", _when(d(10, 7), 11), by=hist_teacher)
    # as the timetable generates it: no journal entry yet, so it can be cancelled
    L["m4"] = Lesson.objects.create(school=school, assignment=math, date=d(10, 8), number=1, created_by=world.deputy)
    with at(d(10, 7), 18):
        record_lesson_change(acting_user=world.deputy, lesson=L["m4"], kind="cancelled")
    L["m5"] = _lesson(math, d(10, 9), topic="Дроби, віднімання", homework="§ 2")
    _mark(L["m5"], s["gnatiuk"], "5", _when(d(10, 9), 17, 30))
    cleared = _mark(L["m5"], s["student"], "4", _when(d(10, 9), 10))
    _mark(L["m5"], s["student"], "", _when(d(10, 9), 10, 5), version=cleared.version)
    L["m6"] = _lesson(math, d(11, 3), topic="Десяткові дроби", homework="§ 3")
    with at(d(11, 3), 9, 5):
        journal.take_register(acting_user=world.teacher, lesson=L["m6"])
    _mark(L["m6"], s["student"], "11", _when(d(11, 3), 12))
    with time_machine.travel(NOW, tick=False):
        L["m7"] = journal.create_lesson(acting_user=world.teacher, assignment=math, date=d(11, 20), number=1)

    # History 5-А, history 5-Б
    L["h1"] = _lesson(hist, d(10, 5), number=2, topic="Київська Русь")
    _mark(L["h1"], s["gnatiuk"], "9", _when(d(10, 6), 9))
    L["b1"] = _lesson(hist_b, d(10, 5), number=2, topic="Давні слов'яни", homework="§ 4")
    with at(d(10, 5), 9, 5):
        journal.take_register(acting_user=world.other_teacher, lesson=L["b1"])
    _mark(L["b1"], s["other"], "8", _when(d(10, 5), 12))

    # Remarks
    for assignment, written, fixed in (
        (math, d(9, 2), d(10, 1)),
        (math, d(10, 10), None),
        (hist_b, d(10, 12), d(10, 13)),
        (hist, d(10, 12), None),
    ):
        with at(written, 12):
            remark = journal.add_remark(acting_user=world.deputy, assignment=assignment, text="Заповніть теми")
        if fixed is not None:
            with at(fixed, 12):
                remark = journal.fix_remark(acting_user=assignment.teacher, remark=remark, note="Виправлено")
        w.remarks.append(remark)

    # Logins
    for user, day in (
        (world.teacher, d(10, 5)),
        (world.teacher, d(10, 5)),
        (world.deputy, d(10, 5)),
        (world.parent, d(10, 5)),
        (world.foreign_teacher, d(10, 5)),
        (world.teacher, d(10, 6)),
    ):
        with at(day, 8):
            log_action("people.login", actor=user, obj=user)
    for lesson in L.values():
        lesson.refresh_from_db()
    return w
