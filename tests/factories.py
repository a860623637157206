"""Factories for test data: one place, no fixture files that drift."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.hashers import make_password

from classbook.people.models import Enrolment, GuardianLink, Membership, Role, Student, User
from classbook.schools.models import (
    AcademicYear,
    Room,
    School,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)
from classbook.schools.scales import create_standard_scales

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH: list[str] = []


def password_hash() -> str:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(make_password(PASSWORD))
    return _PASSWORD_HASH[0]


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"school-{n}")
    name = factory.Sequence(lambda n: f"Ліцей № {n}")
    country = "UA"

    @factory.post_generation
    def scales(obj: School, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not False:
            create_standard_scales(obj)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Ім'я{n}")
    last_name = factory.Sequence(lambda n: f"Прізвище{n}")
    patronymic = "Іванович"
    password = factory.LazyFunction(password_hash)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    school = factory.SubFactory(SchoolFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.TEACHER


class YearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AcademicYear

    school = factory.SubFactory(SchoolFactory)
    name = "2026/2027"
    start = dt.date(2026, 9, 1)
    end = dt.date(2027, 6, 30)
    is_current = True


class PeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StudyPeriod

    school = factory.SelfAttribute("year.school")
    year = factory.SubFactory(YearFactory)
    kind = "semester"
    name = "I семестр"
    ordinal = 1
    start = dt.date(2026, 9, 1)
    end = dt.date(2026, 12, 26)


class YearLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = YearLevel
        django_get_or_create = ("school", "number")

    school = factory.SubFactory(SchoolFactory)
    number = 5


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass

    school = factory.SelfAttribute("year.school")
    year = factory.SubFactory(YearFactory)
    year_level = factory.SubFactory(YearLevelFactory, school=factory.SelfAttribute("..school"))
    name = factory.Sequence(lambda n: f"5-{n}")


class SubgroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subgroup

    school = factory.SelfAttribute("school_class.school")
    school_class = factory.SubFactory(SchoolClassFactory)
    name = factory.Sequence(lambda n: f"Група {n}")


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"Предмет {n}")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    school = factory.SubFactory(SchoolFactory)
    name = factory.Sequence(lambda n: f"{100 + n}")


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    school = factory.SubFactory(SchoolFactory)
    user = factory.SubFactory(UserFactory)
    birth_date = dt.date(2015, 5, 1)


def make_student(school_class: SchoolClass, **kwargs: Any) -> Student:
    """A student enrolled in ``school_class`` with a student role in its school."""
    student = StudentFactory(school=school_class.school, **kwargs)
    Membership.objects.create(school=school_class.school, user=student.user, role=Role.STUDENT)
    Enrolment.objects.create(
        school=school_class.school, student=student, school_class=school_class, start=school_class.year.start
    )
    return student


def make_member(school: School, role: str, **user_kwargs: Any) -> User:
    user = UserFactory(**user_kwargs)
    Membership.objects.create(school=school, user=user, role=role)
    return user


def make_parent(student: Student, *, may_see: bool = True, **user_kwargs: Any) -> User:
    parent = UserFactory(**user_kwargs)
    Membership.objects.get_or_create(school=student.school, user=parent, role=Role.PARENT)
    GuardianLink.objects.create(school=student.school, guardian=parent, student=student, may_see=may_see)
    return parent


def make_assignment(
    teacher: User, school_class: SchoolClass, subject: Subject | None = None, **kwargs: Any
) -> TeachingAssignment:
    return TeachingAssignment.objects.create(
        school=school_class.school,
        year=school_class.year,
        teacher=teacher,
        school_class=school_class,
        subject=subject or SubjectFactory(school=school_class.school),
        hours_per_week=kwargs.pop("hours_per_week", Decimal("2")),
        **kwargs,
    )


def make_grid(
    assignment: TeachingAssignment,
    *,
    students: int = 10,
    lessons: int = 10,
    fill: float = 0.6,
    start: dt.date = dt.date(2026, 9, 1),
    seed: int = 1,
) -> dict[str, Any]:
    """A journal with ``students`` × ``lessons`` and about ``fill`` of the cells filled (grid tests, bench).

    Bulk-created (no audit rows): this is data to read, not a recorded history.
    """
    import random

    from classbook.journal.defaults import create_journal_defaults
    from classbook.journal.models import Attendance, AttendanceCode, Lesson, Mark, WorkType

    school = assignment.school
    if not WorkType.objects.filter(school=school).exists():
        create_journal_defaults(school)
    work_type = WorkType.objects.filter(school=school, is_active=True).order_by("ordinal", "id").first()
    absent = AttendanceCode.objects.filter(school=school).order_by("ordinal").first()
    scale = assignment.effective_scale()
    values = [v for v in scale.values.all() if not v.period_only]
    year = assignment.year
    if not StudyPeriod.objects.filter(year=year).exists():
        StudyPeriod.objects.create(
            school=school,
            year=year,
            kind="semester",
            name="I семестр",
            ordinal=1,
            start=year.start,
            end=dt.date(2026, 12, 26),
        )
        StudyPeriod.objects.create(
            school=school,
            year=year,
            kind="semester",
            name="II семестр",
            ordinal=2,
            start=dt.date(2027, 1, 12),
            end=year.end,
        )
    created_students = [make_student(assignment.school_class) for _ in range(students)]
    all_students = list(Student.objects.filter(enrolments__school_class=assignment.school_class))
    made = Lesson.objects.bulk_create(
        Lesson(
            school=school,
            assignment=assignment,
            date=start + dt.timedelta(days=i),
            number=1,
            topic=f"Тема {i + 1}",
            created_by=assignment.teacher,
        )
        for i in range(lessons)
    )
    made = list(Lesson.objects.filter(assignment=assignment).order_by("date", "id"))
    rng = random.Random(seed)
    marks = []
    absences = []
    for lesson in made:
        for student in all_students:
            roll = rng.random()
            if roll < fill * 0.85:
                marks.append(
                    Mark(
                        school=school,
                        lesson=lesson,
                        student=student,
                        work_type=work_type,
                        value=rng.choice(values),
                        created_by=assignment.teacher,
                        updated_by=assignment.teacher,
                    )
                )
            elif roll < fill:
                absences.append(
                    Attendance(
                        school=school, lesson=lesson, student=student, code=absent, recorded_by=assignment.teacher
                    )
                )
    Mark.objects.bulk_create(marks, batch_size=500)
    Attendance.objects.bulk_create(absences, batch_size=500)
    return {"students": created_students, "lessons": made, "marks": len(marks), "absences": len(absences)}
