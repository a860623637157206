"""Opening a school year (R4.3): promotion, held-back students, graduates, first-year classes, subgroups,
assignments, bells and the timetable copied; the old year untouched; idempotence; bad input refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.journal.models import Lesson
from classbook.people.models import Enrolment
from classbook.schools.models import (
    AcademicYear,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    TeachingAssignment,
    YearLevel,
)
from classbook.schools.opening import OpeningInput, open_year, plan_opening, promoted_name
from classbook.timetable import services as timetable
from classbook.timetable.models import TimetableEntry
from tests import factories as f
from tests.schools.opening_scene import NEW, old_year_checksum


def _input(**kw):
    return OpeningInput(**{**NEW, **kw})


def test_promoted_names():
    assert promoted_name("5-А", 5) == "6-А"
    assert promoted_name("10Б", 10) == "11Б"
    assert promoted_name("КН-21", 2) == "КН-21"  # a college group keeps its name
    assert promoted_name("5-А", 6) == "5-А"  # the number is not the level's: left as it is


def test_opening_promotes_classes_with_students_teachers_and_timetable(scene):
    w = scene.world
    result = open_year(acting_user=w.deputy, school=w.school, data=_input())
    year = result.year
    assert (year.name, year.start, year.end, year.is_current) == ("2027/2028", NEW["start"], NEW["end"], False)
    classes = {c.name: c for c in SchoolClass.objects.filter(year=year).select_related("year_level")}
    assert set(classes) == {"2-А", "6-А", "6-Б", "1-А"}  # 11-А graduated; 1-А opened empty
    assert classes["6-А"].year_level.number == 6 and classes["1-А"].year_level.number == 1
    assert classes["6-А"].class_teacher == w.class_teacher
    assert YearLevel.objects.filter(school=w.school, number__in=[2, 6]).count() == 2

    def students(name):
        return set(Enrolment.objects.filter(school_class=classes[name]).values_list("student_id", flat=True))

    assert students("6-А") == {w.student.pk}  # the leaver is not carried
    assert students("6-Б") == {w.other_student.pk}  # the student who moved out is not carried
    assert students("2-А") == {scene.first_grader.pk}
    assert students("1-А") == set()
    assert not Enrolment.objects.filter(student=scene.graduate, school_class__year=year).exists()
    assert set(Enrolment.objects.filter(school_class__year=year).values_list("start", flat=True)) == {NEW["start"]}

    group = Subgroup.objects.get(school_class=classes["6-А"])
    assert group.name == "Група 1"
    assert list(group.students.all()) == [w.student]

    new_assignments = TeachingAssignment.objects.filter(year=year)
    assert {(a.teacher_id, a.school_class.name, a.subgroup_id is not None) for a in new_assignments} == {
        (w.teacher.pk, "6-А", False),
        (w.other_teacher.pk, "6-А", True),
        (w.other_teacher.pk, "6-Б", False),
    }  # the retired teacher's assignment is not copied
    english = new_assignments.get(subgroup=group)
    assert english.hours_per_week == Decimal("1.5") and english.subject_id == scene.english.subject_id

    entries = TimetableEntry.objects.filter(year=year)
    assert sorted((e.weekday, e.number, e.parity, str(e.room or "")) for e in entries) == [
        (1, 1, "every", "101"),
        (2, 3, "odd", ""),
    ]
    assert {(e.valid_from, e.valid_until) for e in entries} == {(NEW["start"], NEW["end"])}
    assert not Lesson.objects.filter(assignment__year=year).exists()  # lessons are generated later, as usual

    assert set(scene.schedule.classes.filter(year=year).values_list("name", flat=True)) == {"6-Б", "2-А", "1-А"}

    periods = list(StudyPeriod.objects.filter(year=year).order_by("start", "-end"))
    assert [p.kind for p in periods] == ["year", "semester", "semester"]
    assert periods[1].parent == periods[0] and periods[2].end == NEW["end"]
    days = {d.name: (d.start, d.end) for d in SpecialDay.objects.filter(year=year)}
    # the vacation keeps its weekdays (Monday - Sunday); the extra working Saturday is not copied; the
    # public holidays are computed (tests/schools/test_calendar.py)
    assert days.pop("Зимові канікули") == (dt.date(2027, 12, 27), dt.date(2028, 1, 9))
    assert days.pop("Великдень") == (dt.date(2028, 4, 16), dt.date(2028, 4, 16))
    assert len(days) == 8 and "Субота" not in days

    entry = AuditEntry.objects.get(action="schools.year.opened")
    assert entry.actor == w.deputy and entry.object_id == str(year.pk)
    assert entry.data["created"]["enrolments"] == 3 and entry.data["graduating_classes"] == ["11-А"]
    assert AuditEntry.objects.filter(action="timetable.entries.copied").count() == 1
    assert result.counts["timetable_entries"] == 2


def test_generation_runs_on_the_copied_timetable(scene):
    w = scene.world
    result = open_year(acting_user=w.deputy, school=w.school, data=_input())
    generated = timetable.generate_lessons(
        acting_user=w.deputy, school=w.school, start=dt.date(2027, 9, 1), end=dt.date(2027, 9, 14)
    )
    # Math on Mondays 6 and 13 Sep; English (odd weeks) on Tuesday 14 Sep: week 1 is the week of Wed 1 Sep.
    assert generated.created == 3
    assert Lesson.objects.filter(assignment__year=result.year).count() == 3


def test_held_back_students_repeat_the_level(scene):
    w = scene.world
    held = frozenset({w.student.pk, scene.first_grader.pk})
    plan = plan_opening(acting_user=w.deputy, school=w.school, data=_input(held_back=held))
    assert {s.student_id: s.to_class for s in plan.held_back} == {w.student.pk: "5-А", scene.first_grader.pk: "1-А"}
    result = open_year(acting_user=w.deputy, school=w.school, data=_input(held_back=held))
    five_a = SchoolClass.objects.get(year=result.year, name="5-А")
    assert five_a.year_level.number == 5 and five_a.class_teacher is None
    assert list(Enrolment.objects.filter(school_class=five_a).values_list("student_id", flat=True)) == [w.student.pk]
    assert Enrolment.objects.get(school_class__year=result.year, student=scene.first_grader).school_class.name == "1-А"
    six_a = SchoolClass.objects.get(year=result.year, name="6-А")
    assert not Enrolment.objects.filter(school_class=six_a).exists()
    assert not Subgroup.objects.get(school_class=six_a).students.exists()


def test_a_held_back_graduate_stays_in_the_final_level(scene):
    w = scene.world
    ten_a = f.SchoolClassFactory(
        year=scene.year, name="10-А", year_level=f.YearLevelFactory(school=w.school, number=10)
    )
    f.make_student(ten_a)
    result = open_year(acting_user=w.deputy, school=w.school, data=_input(held_back=frozenset({scene.graduate.pk})))
    eleven = SchoolClass.objects.get(year=result.year, name="11-А")
    assert Enrolment.objects.filter(school_class=eleven).count() == 2  # promoted from 10-А, plus the repeater


def test_first_classes_by_choice_and_final_level(scene):
    w = scene.world
    result = open_year(
        acting_user=w.deputy, school=w.school, data=_input(first_classes=("1-А", "1-Б", "1-В"), final_level=5)
    )
    names = set(SchoolClass.objects.filter(year=result.year).values_list("name", flat=True))
    assert names == {"1-А", "1-Б", "1-В", "2-А"}  # level 5 is final now: 5-А, 5-Б and 11-А graduate


def test_two_classes_promoted_to_one_name_are_refused(scene):
    w = scene.world
    # "6-А" at level 7 keeps its name (it does not start with 7) and meets 5-А promoted to 6-А.
    f.SchoolClassFactory(year=scene.year, name="6-А", year_level=f.YearLevelFactory(school=w.school, number=7))
    with pytest.raises(DomainError, match="would be named “6-А”"):
        open_year(acting_user=w.deputy, school=w.school, data=_input())
    assert not AcademicYear.objects.filter(name="2027/2028").exists()


def test_the_old_year_is_untouched(scene):
    w = scene.world
    before = old_year_checksum(scene.year)
    open_year(acting_user=w.deputy, school=w.school, data=_input(held_back=frozenset({w.student.pk})))
    assert old_year_checksum(scene.year) == before
    assert AcademicYear.objects.get(pk=scene.year.pk).is_current


def test_a_second_run_says_the_year_exists_and_duplicates_nothing(scene):
    w = scene.world
    open_year(acting_user=w.deputy, school=w.school, data=_input())
    counts = {m.__name__: m.objects.count() for m in (SchoolClass, Enrolment, TeachingAssignment, TimetableEntry)}
    with pytest.raises(ConflictError) as exc:
        open_year(acting_user=w.deputy, school=w.school, data=_input())
    assert exc.value.code == "year_exists"
    assert "exists already" in str(exc.value.message)
    with pytest.raises(ConflictError):
        plan_opening(acting_user=w.deputy, school=w.school, data=_input())
    assert {
        m.__name__: m.objects.count() for m in (SchoolClass, Enrolment, TeachingAssignment, TimetableEntry)
    } == counts
    assert AuditEntry.objects.filter(action="schools.year.opened").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"start": dt.date(2027, 6, 1)}, "start", "overlaps the year 2026/2027"),
        ({"start": dt.date(2028, 6, 30), "end": dt.date(2027, 9, 1)}, "end", "after the first day"),
        ({"end": dt.date(2028, 12, 31)}, "end", "longer than 400 days"),
        ({"name": "  "}, "name", "Enter the name"),
        ({"held_back": frozenset({999999})}, "held_back", "unknown: 999999"),
        ({"first_classes": ("1-А", "1-А")}, "first_classes", "named twice"),
        ({"first_classes": ("6-А",)}, "first_classes", "name of a promoted class"),
        ({"final_level": 13}, "final_level", "between 1 and 12"),
        ({"start": dt.date(2025, 9, 1), "end": dt.date(2026, 6, 30)}, "start", "no earlier year"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(scene, changes, field, text):
    w = scene.world
    before = (old_year_checksum(scene.year), AcademicYear.objects.count(), SchoolClass.objects.count())
    with pytest.raises(DomainError) as exc:
        open_year(acting_user=w.deputy, school=w.school, data=_input(**changes))
    assert text in str(exc.value.message)
    assert exc.value.field == field
    assert (old_year_checksum(scene.year), AcademicYear.objects.count(), SchoolClass.objects.count()) == before


@pytest.mark.parametrize(
    "persona", ["teacher", "class_teacher", "secretary", "student", "parent", "foreign_admin", "viewer"]
)
def test_only_the_administration_may_open(scene, persona):
    w = scene.world
    with pytest.raises(PermissionDeniedError):
        open_year(acting_user=w.persona(persona), school=w.school, data=_input())
    assert not AcademicYear.objects.filter(name="2027/2028").exists()


@pytest.mark.parametrize("persona", ["admin", "director", "deputy"])
def test_the_administration_may_open(scene, persona):
    w = scene.world
    result = open_year(acting_user=w.persona(persona), school=w.school, data=_input())
    assert result.year.school == w.school


def test_a_russian_style_school_gets_quarters(scene):
    w = scene.world
    w.school.country = "RU"
    w.school.save()
    result = open_year(acting_user=w.deputy, school=w.school, data=_input())
    kinds = sorted(StudyPeriod.objects.filter(year=result.year).values_list("kind", flat=True))
    assert kinds == ["half", "half", "quarter", "quarter", "quarter", "quarter", "year"]


def test_the_opening_costs_a_constant_number_of_queries(scene, django_assert_max_num_queries):
    w = scene.world
    # Bulk inserts: the same ~48 queries with 3 students or with 40 more in more classes.
    for n in range(4):
        extra = f.SchoolClassFactory(
            year=scene.year, name=f"7-{n}", year_level=f.YearLevelFactory(school=w.school, number=7)
        )
        f.make_assignment(w.teacher, extra)
        for _n in range(10):
            f.make_student(extra)
    with django_assert_max_num_queries(50):
        open_year(acting_user=w.deputy, school=w.school, data=_input())
