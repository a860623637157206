"""Hand-built attendance for the attendance reports, with the edge cases every figure must survive.

Two weeks, Monday 5 - Friday 16 October 2026, written through the journal's, the timetable's and the
appeals' services (so the rows are stored as the journal stores them). On top of the ``world`` personas:

- 5-А has mathematics (``world.teacher``, lesson 1), history (``hist_teacher``, lesson 2) and English in two
  subgroups at lesson 3 (``eng1`` for group 1, ``eng2`` for group 2); 5-Б has history (``world.other_teacher``).
- Tuesday 6th: 5-А's history is **cancelled** (so that day 5-А has two lessons per student).
- Wednesday 7th: 5-А's mathematics is given by a **substitute** (``hist_teacher``), who takes its register.
- Codes: "н" (absent), "хв" (absent, excused by the code), "сп" (late, not a missed lesson).

Students of 5-А: ``world.student`` and ``bondar`` (group 1), ``gnatiuk`` and ``leaver`` (group 2; ``leaver``
left on Wednesday 7th), ``mover`` (5-Б until Tuesday 6th, then 5-А, group 1). 5-Б: ``world.other_student``.

- ``world.student`` misses the whole of Monday (unexcused), Tuesday (the class teacher records illness,
  excused) and Wednesday (a parent's report of illness, accepted) — three school days in a row; on
  Thursday mathematics and history but not English (no whole day); late on Friday 9th.
- ``bondar``: Monday's mathematics by the excused code "хв"; the whole of Tuesday, with a parent's
  report that is **rejected** (stays unexcused); late twice in the second week.
- ``gnatiuk``: the whole of Monday (mathematics, history and group 2's English — group 1's lesson is not
  theirs); Tuesday's English only.
- ``leaver``: the whole of Monday, Tuesday and Wednesday, then leaves the class (no lessons after).
- ``mover``: Monday's history in 5-Б (a whole day there), then the whole of Thursday 8th in 5-А; the class
  teacher records a family reason, not excused.
- ``world.other_student``: late at 5-Б's history on Monday 12th.
- Registers: on Friday 16th only mathematics' register is taken (by marking a late arrival) and group 1's
  English is marked taken with nobody absent; history and group 2's English are not taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
import time_machine

from classbook.appeals import services as appeals
from classbook.journal import services as journal
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import Attendance, AttendanceCode, Lesson
from classbook.people.models import Enrolment, Role, Student
from classbook.schools.models import SchoolClass, StudyPeriod, TeachingAssignment
from classbook.timetable.services import record_lesson_change
from tests import factories as f

MON, TUE, WED, THU, FRI = (dt.date(2026, 10, d) for d in (5, 6, 7, 8, 9))
MON2, FRI2 = dt.date(2026, 10, 12), dt.date(2026, 10, 16)
DAYS = [MON + dt.timedelta(days=i) for i in range(12) if (MON + dt.timedelta(days=i)).isoweekday() <= 5]
NOW = dt.datetime(2026, 10, 17, 9, 0, tzinfo=dt.UTC)  # Saturday after the two weeks


@dataclass
class AttendanceWorld:
    semester: StudyPeriod
    class_a: SchoolClass
    class_b: SchoolClass
    math: TeachingAssignment
    hist: TeachingAssignment
    eng1: TeachingAssignment
    eng2: TeachingAssignment
    hist_b: TeachingAssignment
    hist_teacher: object
    students: dict[str, Student]
    lessons: dict[tuple[str, dt.date], Lesson] = field(default_factory=dict)


def _mark(lesson: Lesson, student: Student, code: str, by=None) -> Attendance:
    row = journal.record_attendance(
        acting_user=by or lesson.conducted_by or lesson.assignment.teacher,
        lesson=lesson,
        student=student,
        text=code,
        expected_version=0,
    )
    assert row is not None
    return row


@pytest.fixture(name="att")
def attendance_world(world) -> AttendanceWorld:
    """The two weeks of the module's docstring (import ``attendance_world`` to use the fixture ``att``)."""
    create_journal_defaults(world.school)
    AttendanceCode.objects.create(school=world.school, code="хв", name="Хворів", counts_as_absent=True, is_excused=True)
    AttendanceCode.objects.create(
        school=world.school, code="сп", name="Спізнився", counts_as_absent=False, is_late=True, ordinal=5
    )
    school, a, b = world.school, world.class_a, world.class_b
    semester = f.PeriodFactory(year=a.year)
    math = TeachingAssignment.objects.get(teacher=world.teacher, school_class=a)
    hist_teacher = f.make_member(school, Role.TEACHER, username="histteacher")
    eng_teacher1 = f.make_member(school, Role.TEACHER, username="engteacher1")
    eng_teacher2 = f.make_member(school, Role.TEACHER, username="engteacher2")
    hist = f.make_assignment(hist_teacher, a, f.SubjectFactory(school=school, name="Історія України"))
    english = f.SubjectFactory(school=school, name="Англійська мова")
    sub1 = f.SubgroupFactory(school_class=a, name="Група 1")
    sub2 = f.SubgroupFactory(school_class=a, name="Група 2")
    eng1 = f.make_assignment(eng_teacher1, a, english, subgroup=sub1)
    eng2 = f.make_assignment(eng_teacher2, a, english, subgroup=sub2)
    hist_b = TeachingAssignment.objects.get(teacher=world.other_teacher, school_class=b)

    s = {"student": world.student, "other": world.other_student}
    for key, name in (("bondar", "Бондар"), ("gnatiuk", "Гнатюк"), ("leaver", "Литвин")):
        s[key] = f.make_student(a, user=f.UserFactory(last_name=name, username=f"s-{key}"))
    Enrolment.objects.filter(student=s["leaver"], school_class=a).update(end=WED)
    s["mover"] = f.make_student(b, user=f.UserFactory(last_name="Ковальчук", username="mover"))
    Enrolment.objects.filter(student=s["mover"], school_class=b).update(end=TUE)
    Enrolment.objects.create(school=school, student=s["mover"], school_class=a, start=WED)
    sub1.students.set([s["student"], s["bondar"], s["mover"]])
    sub2.students.set([s["gnatiuk"], s["leaver"]])
    w = AttendanceWorld(semester, a, b, math, hist, eng1, eng2, hist_b, hist_teacher, s)

    with time_machine.travel(NOW, tick=False):
        for day in DAYS:
            for key, assignment, number in (
                ("math", math, 1),
                ("hist", hist, 2),
                ("eng1", eng1, 3),
                ("eng2", eng2, 3),
                ("hist_b", hist_b, 2),
            ):
                if (key, day) == ("hist", TUE):  # as the timetable generates it: no journal entry yet
                    w.lessons[(key, day)] = Lesson.objects.create(
                        school=school, assignment=assignment, date=day, number=number, created_by=world.deputy
                    )
                    continue
                w.lessons[(key, day)] = journal.create_lesson(
                    acting_user=assignment.teacher, assignment=assignment, date=day, number=number
                )
        record_lesson_change(acting_user=world.deputy, lesson=w.lessons[("hist", TUE)], kind="cancelled")
        record_lesson_change(
            acting_user=world.deputy, lesson=w.lessons[("math", WED)], kind="substituted", substitute=hist_teacher
        )
        for key in w.lessons:
            w.lessons[key].refresh_from_db()
        L = w.lessons

        rows: dict[str, Attendance] = {}
        # world.student: Monday, Tuesday, Wednesday whole; Thursday two of three; late on Friday
        for key in ("math", "hist", "eng1"):
            _mark(L[(key, MON)], s["student"], "н")
            _mark(L[(key, WED)], s["student"], "н")
        tue = [_mark(L[(key, TUE)], s["student"], "н") for key in ("math", "eng1")]
        _mark(L[("math", THU)], s["student"], "н")
        _mark(L[("hist", THU)], s["student"], "н")
        _mark(L[("math", FRI)], s["student"], "сп")
        appeals.record_absence_reasons(
            acting_user=world.class_teacher,
            absences=[(r, r.version) for r in tue],
            kind="illness",
            text="довідка № 5",
            excused=True,
        )
        report = appeals.submit_absence_report(
            acting_user=world.parent, student=s["student"], start=WED, end=WED, kind="illness", text="застуда"
        )
        report = appeals.decide_absence_report(acting_user=world.class_teacher, report=report, accept=True)
        assert report.applied_count == 3
        # bondar: the code "хв"; the whole of Tuesday with a rejected report; late twice
        rows["bondar_code"] = _mark(L[("math", MON)], s["bondar"], "хв")
        _mark(L[("math", TUE)], s["bondar"], "н")
        _mark(L[("eng1", TUE)], s["bondar"], "н")
        parent = f.make_parent(s["bondar"], username="bondar-parent")
        report = appeals.submit_absence_report(
            acting_user=parent, student=s["bondar"], start=TUE, end=TUE, kind="illness", text="болів"
        )
        appeals.decide_absence_report(
            acting_user=world.class_teacher, report=report, accept=False, comment="Немає довідки"
        )
        _mark(L[("hist", MON2)], s["bondar"], "сп")
        _mark(L[("eng1", MON2)], s["bondar"], "сп")
        # gnatiuk: the whole of Monday through group 2's English; Tuesday's English only
        for key in ("math", "hist", "eng2"):
            _mark(L[(key, MON)], s["gnatiuk"], "н")
        _mark(L[("eng2", TUE)], s["gnatiuk"], "н")
        # leaver: the whole of Monday - Wednesday, then leaves
        for key in ("math", "hist", "eng2"):
            _mark(L[(key, MON)], s["leaver"], "н")
            _mark(L[(key, WED)], s["leaver"], "н")
        for key in ("math", "eng2"):
            _mark(L[(key, TUE)], s["leaver"], "н")
        # mover: Monday in 5-Б, Thursday in 5-А with a family reason that does not excuse
        _mark(L[("hist_b", MON)], s["mover"], "н")
        thu = [_mark(L[(key, THU)], s["mover"], "н") for key in ("math", "hist", "eng1")]
        appeals.record_absence_reasons(
            acting_user=world.class_teacher,
            absences=[(r, r.version) for r in thu],
            kind="family",
            text="сімейні обставини",
            excused=False,
        )
        # the other class
        _mark(L[("hist_b", MON2)], s["other"], "сп")
        # Friday 16th: mathematics' register taken by a late arrival, group 1's English with nobody absent
        _mark(L[("math", FRI2)], s["bondar"], "сп")
        journal.take_register(acting_user=eng_teacher1, lesson=L[("eng1", FRI2)])
        # every other lesson of the first week had its register taken (nobody else absent)
        for (key, day), lesson in L.items():
            if day < MON2 and (key, day) != ("hist", TUE):
                lesson.refresh_from_db()
                journal.take_register(acting_user=lesson.conducted_by or lesson.assignment.teacher, lesson=lesson)
    return w
