"""Hand-built grades for the reports, with every edge case the figures must survive.

On top of the ``world`` personas (``class_a`` 5-А, ``class_b`` 5-Б in ``world.school``, 12-point scale):

- 5-А: mathematics (``world.teacher``), history (``hist_teacher``), English in two subgroups (two teachers),
  physical education on the pass/fail scale (``hist_teacher``);
- 5-Б: history (``world.other_teacher``, from the world) and mathematics (``world.teacher`` again, so a
  teacher's line spans two classes);
- students of 5-А: ``world.student`` and five more; ``leaver`` left 5-А on 15 November (departed);
  ``mover`` was in 5-Б until 31 October and in 5-А since 1 November (counted in 5-А, departed from 5-Б);
- grades of the first semester through the journal's services (so they are stored as the journal stores
  them): all levels, "н/а", "звільн.", two corrections (3 → 5 and 9 → 10 by a deputy);
- annual grades (kind ``annual``, stored in the second semester) for the year's report.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

import pytest

from classbook.journal.models import GradeKind, PeriodGrade
from classbook.journal.services import correct_period_grade, record_period_grade
from classbook.people.models import Enrolment, Role, Student
from classbook.schools.models import MarkingScale, ScaleKind, SchoolClass, StudyPeriod, TeachingAssignment
from tests import factories as f
from tests.conftest import shared_fixture, shared_value


@dataclass
class Built:
    semester: StudyPeriod
    semester2: StudyPeriod
    math_a: TeachingAssignment
    hist_a: TeachingAssignment
    eng1: TeachingAssignment
    eng2: TeachingAssignment
    pe_a: TeachingAssignment
    hist_b: TeachingAssignment
    math_b: TeachingAssignment
    students: dict[str, Student]
    leaver: Student
    mover: Student
    class_a: SchoolClass
    class_b: SchoolClass


def give(
    assignment: TeachingAssignment, student: Student, period: StudyPeriod, text: str, kind: str = "period"
) -> PeriodGrade:
    return record_period_grade(
        acting_user=assignment.teacher,
        assignment=assignment,
        student=student,
        period=period,
        kind=kind,
        text=text,
        expected_version=0,
    )


@pytest.fixture
def built(world, request: pytest.FixtureRequest) -> Built:
    """The grades above: built once per test module (tests/conftest.py ``shared_fixture``), a copy per test."""
    return shared_value(request, "built")


def _build(get) -> Built:
    world = copy.deepcopy(get("world"))
    school, year = world.school, world.class_a.year
    semester = f.PeriodFactory(
        year=year, name="I семестр", ordinal=1, start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 26)
    )
    semester2 = f.PeriodFactory(
        year=year, name="II семестр", ordinal=2, start=dt.date(2027, 1, 11), end=dt.date(2027, 6, 30)
    )
    a, b = world.class_a, world.class_b
    math_a = TeachingAssignment.objects.get(teacher=world.teacher, school_class=a)
    hist_teacher = f.make_member(school, Role.TEACHER, username="histteacher")
    eng_teacher1 = f.make_member(school, Role.TEACHER, username="engteacher1")
    eng_teacher2 = f.make_member(school, Role.TEACHER, username="engteacher2")
    history = f.SubjectFactory(school=school, name="Історія України")
    english = f.SubjectFactory(school=school, name="Англійська мова")
    pe = f.SubjectFactory(school=school, name="Фізична культура")
    pass_fail = MarkingScale.objects.get(school=school, kind=ScaleKind.PASS_FAIL)
    hist_a = f.make_assignment(hist_teacher, a, history)
    pe_a = f.make_assignment(hist_teacher, a, pe, scale=pass_fail)
    sub1 = f.SubgroupFactory(school_class=a, name="Група 1")
    sub2 = f.SubgroupFactory(school_class=a, name="Група 2")
    eng1 = f.make_assignment(eng_teacher1, a, english, subgroup=sub1)
    eng2 = f.make_assignment(eng_teacher2, a, english, subgroup=sub2)
    hist_b = TeachingAssignment.objects.get(teacher=world.other_teacher, school_class=b)
    math_b = f.make_assignment(world.teacher, b, world.subject)

    names = ["Андрієнко", "Бойко", "Гнатюк", "Дорошенко", "Євтушенко"]
    students = {"student": world.student}
    for name in names:
        students[name] = f.make_student(a, user=f.UserFactory(last_name=name, username=f"s-{name}"))
    leaver = students["Євтушенко"]
    Enrolment.objects.filter(student=leaver, school_class=a).update(end=dt.date(2026, 11, 15))
    mover = f.make_student(b, user=f.UserFactory(last_name="Ковальчук", username="mover"))
    Enrolment.objects.filter(student=mover, school_class=b).update(end=dt.date(2026, 10, 31))
    Enrolment.objects.create(school=school, student=mover, school_class=a, start=dt.date(2026, 11, 1))
    students["mover"] = mover
    group1 = [world.student, students["Андрієнко"], students["Бойко"], mover]
    group2 = [students["Гнатюк"], students["Дорошенко"], leaver]
    sub1.students.set(group1)
    sub2.students.set(group2)

    s = students
    # First semester, 5-А.
    math = {
        "student": "12",
        "Андрієнко": "10",
        "Бойко": "7",
        "Гнатюк": "3",
        "Дорошенко": "н/а",
        "Євтушенко": "2",
        "mover": "9",
    }
    hist = {
        "student": "11",
        "Андрієнко": "8",
        "Бойко": "5",
        "Гнатюк": "6",
        "Дорошенко": "4",
        "Євтушенко": "9",
        "mover": "7",
    }
    eng = {
        "student": "10",
        "Андрієнко": "9",
        "Бойко": "звільн.",
        "mover": "10",
        "Гнатюк": "1",
        "Дорошенко": "7",
        "Євтушенко": "8",
    }
    pe_grades = {
        "student": "зар.",
        "Андрієнко": "зар.",
        "Бойко": "звільн.",
        "Гнатюк": "не зар.",
        "Дорошенко": "зар.",
        "mover": "зар.",
    }
    grades = {}
    for key, text in math.items():
        grades[("math", key)] = give(math_a, s[key], semester, text)
    for key, text in hist.items():
        grades[("hist", key)] = give(hist_a, s[key], semester, text)
    for key, text in eng.items():
        grades[("eng", key)] = give(eng1 if s[key] in group1 else eng2, s[key], semester, text)
    for key, text in pe_grades.items():
        give(pe_a, s[key], semester, text)
    # 5-Б: the world's other student, and the mover's grades from before the transfer.
    give(hist_b, world.other_student, semester, "8")
    give(hist_b, mover, semester, "5")
    give(math_b, world.other_student, semester, "6")
    give(math_b, mover, semester, "4")
    # Corrections by the deputy (a commission's decision): 3 → 5 in mathematics, 9 → 10 in English.
    for key in (("math", "Гнатюк", "5"), ("eng", "Андрієнко", "10")):
        correct_period_grade(
            acting_user=world.deputy, grade=grades[key[:2]], text=key[2], reason="Рішення комісії", order_ref="№ 12"
        )
    # Annual grades (stored in the second semester, as the journal's last period holds them).
    annual = {"student": "12", "Андрієнко": "9", "Бойко": "6", "Гнатюк": "н/а", "Дорошенко": "4", "mover": "8"}
    for key, text in annual.items():
        give(math_a, s[key], semester2, text, kind=GradeKind.ANNUAL)
    give(math_b, world.other_student, semester2, "7", kind=GradeKind.ANNUAL)
    return Built(
        semester=semester,
        semester2=semester2,
        math_a=math_a,
        hist_a=hist_a,
        eng1=eng1,
        eng2=eng2,
        pe_a=pe_a,
        hist_b=hist_b,
        math_b=math_b,
        students=students,
        leaver=leaver,
        mover=mover,
        class_a=a,
        class_b=b,
    )


shared_fixture("built", _build, __file__)
