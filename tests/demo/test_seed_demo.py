"""The demo school generator: deterministic, complete, consistent, valid, and its logins work."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import models, transaction
from django.db.models import Count, F, Sum

from classbook.core.models import SchoolOwned
from classbook.demo import curriculum
from classbook.demo.build import journal_until
from classbook.demo.generator import DEMO_PASSWORD, STEPS, DemoOptions, DemoSummary, SchoolBuild, generate
from classbook.demo.logins import find_demo_logins
from classbook.demo.steps.journal import topics_for
from classbook.journal.models import Attendance, JournalChange, Lesson, Mark, PeriodGrade, Remark
from classbook.people.models import (
    AuthorityViewer,
    Consent,
    ConsentPurpose,
    Enrolment,
    GuardianLink,
    Membership,
    Role,
    Student,
    User,
)
from classbook.schools.models import (
    AcademicYear,
    School,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    TeachingAssignment,
    YearLevel,
)
from tests.conftest import shared_fixture, shared_value

pytestmark = pytest.mark.django_db

SMALL = 60  # every year level 1-11 gets a class of 5-6
# The journal step fills lessons up to "today": every test runs on a fixed day, so the data is fixed.
TODAY = dt.date(2026, 10, 15)


@pytest.fixture(autouse=True)
def fixed_today():
    with time_machine.travel(dt.datetime(2026, 10, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


def snapshot() -> dict[str, Any]:
    """What a person looking at the demo sees: names, usernames, dates, classes, workload, families."""
    return {
        "students": sorted(
            Enrolment.objects.filter(school_class__year__is_current=True).values_list(
                "student__user__username",
                "student__user__last_name",
                "student__user__first_name",
                "student__user__patronymic",
                "student__birth_date",
                "student__address",
                "student__phone",
                "school_class__name",
            )
        ),
        "staff": sorted(
            Membership.objects.exclude(role__in=[Role.STUDENT, Role.PARENT]).values_list(
                "user__username", "user__last_name", "user__first_name", "role", "position", "since"
            )
        ),
        "assignments": sorted(
            TeachingAssignment.objects.values_list(
                "teacher__username", "school_class__name", "subgroup__name", "subject__name", "hours_per_week"
            ),
            key=str,
        ),
        "guardians": sorted(
            GuardianLink.objects.values_list("guardian__username", "student__user__username", "relation", "may_see")
        ),
        "consents": sorted(Consent.objects.values_list("student__user__username", "purpose", "given_by", "given_on")),
        "class_teachers": sorted(SchoolClass.objects.values_list("name", "class_teacher__username")),
        "topics": sorted(
            Lesson.objects.exclude(topic="").values_list(
                "date", "number", "assignment__school_class__name", "topic", "homework", "homework_due"
            ),
            key=str,
        ),
        "marks": sorted(
            Mark.objects.values_list(
                "lesson__date", "lesson__number", "student__user__username", "work_type__code", "value__code", "is_late"
            ),
            key=str,
        ),
        "absences": sorted(
            Attendance.objects.values_list("lesson__date", "lesson__number", "student__user__username"), key=str
        ),
        # The closed previous year: its classes, students and grades.
        "last_year": sorted(
            PeriodGrade.objects.filter(period__year__is_current=False).values_list(
                "assignment__school_class__name",
                "assignment__subject__name",
                "assignment__teacher__username",
                "student__user__username",
                "period__name",
                "kind",
                "value__code",
            ),
            key=str,
        ),
    }


def generate_and_rollback(**kwargs: Any) -> dict[str, Any]:
    with transaction.atomic():
        generate(DemoOptions(**kwargs))
        data = snapshot()
        transaction.set_rollback(True)
    return data


# --- one seeded demo, read by many tests ---------------------------------------------------------------
# Seeding the demo takes seconds, so the tests that only read it share one seed (tests/conftest.py
# ``shared_fixture``: built once for this module inside a transaction that is rolled back, each test in a savepoint).
# They run one after another (a test between them that does not share would drop it), the journal step's
# among them; the tests that need an empty database, another day or other options seed their own below.
SEEDED_AT = dt.datetime(2026, 10, 15, 15, 0, tzinfo=dt.UTC)  # TODAY, an evening: the journal is filled up to it


def _seed_shared_demo(get: Any) -> DemoSummary:
    with time_machine.travel(SEEDED_AT, tick=False):
        return generate(DemoOptions(seed=1, students=SMALL))


shared_fixture("demo", _seed_shared_demo, __file__)


@pytest.fixture
def demo(db: None, request: pytest.FixtureRequest) -> DemoSummary:
    """The demo school seeded with seed 1 and SMALL students at SEEDED_AT (its summary); read it, do not keep
    what a test writes (each test's writes are rolled back)."""
    return shared_value(request, "demo")


def test_counts_match_the_requested_size(demo: DemoSummary) -> None:
    summary = demo
    school = School.objects.get(slug="demo")

    # The students of the school now; last year's graduates (steps.last_year) have left it.
    assert summary.students == SMALL == Student.objects.filter(school=school, left_on=None).count()
    assert Enrolment.objects.filter(school=school, school_class__year__is_current=True).count() == SMALL
    assert sorted(YearLevel.objects.filter(school=school).values_list("number", flat=True)) == list(range(1, 12))
    assert SchoolClass.objects.filter(school=school, year__is_current=True).count() == summary.classes == 11
    # Last year (steps.last_year): 1-А ... 10-А below this year's 2-А ... 11-А, and the 11-А that graduated.
    assert SchoolClass.objects.filter(school=school, year__is_current=False).count() == 11
    assert not SchoolClass.objects.filter(school=school, class_teacher=None).exists()
    year = AcademicYear.objects.get(school=school, is_current=True)
    assert (year.name, year.start, year.end, year.is_current) == (
        "2026/2027",
        dt.date(2026, 9, 1),
        dt.date(2027, 6, 30),
        True,
    )
    periods = list(
        StudyPeriod.objects.filter(school=school, year=year)
        .order_by("start", "-end")
        .values_list("kind", "start", "end")
    )
    assert periods == [
        ("year", dt.date(2026, 9, 1), dt.date(2027, 6, 30)),
        ("semester", dt.date(2026, 9, 1), dt.date(2026, 12, 26)),
        ("semester", dt.date(2027, 1, 11), dt.date(2027, 5, 30)),
    ]
    # Every subject of every class (of both years) is taught; split subjects once per subgroup.
    for school_class in SchoolClass.objects.filter(school=school).select_related("year_level"):
        level = school_class.year_level.number
        taught = list(school_class.assignments.values_list("subject__name", "subgroup__name"))
        expected = []
        for subject in curriculum.level_hours(level):
            groups = ["Група 1", "Група 2"] if curriculum.is_split(subject, level) else [None]
            expected += [(subject, g) for g in groups]
        assert sorted(taught, key=str) == sorted(expected, key=str), school_class.name
    # Each student has one or two guardians; each subgroup pair splits its class.
    per_student = GuardianLink.objects.filter(school=school).values("student").annotate(n=Count("id"))
    assert {row["n"] for row in per_student} <= {1, 2}
    assert per_student.count() == SMALL
    for school_class in SchoolClass.objects.filter(school=school, year_level__number__gte=5):
        in_groups = sorted(
            Subgroup.students.through.objects.filter(subgroup__school_class=school_class).values_list(
                "student_id", flat=True
            )
        )
        assert in_groups == sorted(school_class.enrolments.values_list("student_id", flat=True))


def test_students_fit_their_year_level_and_names_fit_their_gender(demo: DemoSummary) -> None:
    rows = Enrolment.objects.values_list(
        "school_class__year__start",
        "school_class__year_level__number",
        "student__birth_date",
        "student__gender",
        "student__user__patronymic",
    )
    for start, level, birth, gender, patronymic in rows:
        # Grade 1 in 2026/2027 was born September 2019 - August 2020 (a few a year earlier); a year before
        # (the graduates and everyone in last year's classes), a year earlier.
        year = start.year - 2026
        assert dt.date(2019 + year - level, 9, 1) <= birth <= dt.date(2021 + year - level, 8, 31)
        assert patronymic.endswith("вна") if gender == "f" else patronymic.endswith("ич")
    # Siblings share the surname form of their gender and the address.
    for guardian in User.objects.annotate(n=Count("guardian_links")).filter(n__gte=2):
        children = Student.objects.filter(guardian_links__guardian=guardian).select_related("user")
        assert len({c.address for c in children}) == 1
        assert len({c.user.patronymic[:4] for c in children}) == 1


def test_a_sample_of_every_generated_model_passes_full_clean(demo: DemoSummary) -> None:
    sampled = 0
    for model in [
        *[m for m in apps.get_models() if issubclass(m, SchoolOwned)],
        User,
        AuthorityViewer,
    ]:
        ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
        for pk in {*ids[:3], *ids[len(ids) // 2 : len(ids) // 2 + 2], *ids[-3:]}:
            model.objects.get(pk=pk).full_clean()
            sampled += 1
    assert sampled > 60


def test_demo_logins_authenticate_with_the_demo_password_and_have_their_roles(demo: DemoSummary) -> None:
    school = School.objects.get(slug="demo")
    logins = {login.key: login for login in find_demo_logins(school)}

    assert set(logins) == {"admin", "director", "deputy", "secretary", "teacher", "student", "parent", "viewer"}
    for key, login in logins.items():
        assert login.username == key
        assert login.password == DEMO_PASSWORD
        if key != "viewer":
            assert Membership.objects.filter(school=school, user__username=key, role=key).exists()
    assert AuthorityViewer.objects.filter(user__username="viewer", authority__schools=school).exists()
    # All users share one hash (hashed once), so authenticating a few proves them all (PBKDF2 is slow).
    assert User.objects.values("password").distinct().count() == 1
    for username in ("teacher", "parent", "viewer"):
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None, username
    assert authenticate(username="teacher", password="wrong-password") is None


def test_demo_parent_has_two_children_one_in_the_demo_teachers_class(demo: DemoSummary) -> None:
    parent = User.objects.get(username="parent")
    links = GuardianLink.objects.filter(guardian=parent).select_related("student__user")
    children = [link.student for link in links]

    assert len(children) == 2
    assert all(link.may_see and link.ended_on is None for link in links)
    classes = {Enrolment.objects.get(student=c, school_class__year__is_current=True).school_class for c in children}
    assert len(classes) == 2
    student = Student.objects.get(user__username="student")
    assert student in children
    homeroom = SchoolClass.objects.get(class_teacher__username="teacher", year__is_current=True)
    assert Enrolment.objects.filter(student=student, school_class=homeroom).exists()
    assert homeroom.year_level.number == 5
    taught = (
        TeachingAssignment.objects.filter(teacher__username="teacher", year__is_current=True)
        .values("school_class")
        .distinct()
    )
    assert taught.count() >= 2


def _effective_scale_ids() -> dict[int, int]:
    return {
        a.pk: a.effective_scale().pk
        for a in TeachingAssignment.objects.select_related(
            "scale", "subject__scale", "school_class__year_level__scale", "school__default_scale"
        )
    }


def test_the_journal_is_filled_up_to_today_and_not_after(demo: DemoSummary) -> None:
    past = Lesson.objects.filter(date__lte=TODAY).exclude(timetable_change__kind="cancelled")
    future = Lesson.objects.filter(date__gt=TODAY)

    assert past.count() > 300
    assert not past.filter(topic="").exists()
    assert not past.filter(register_taken_at=None).exists()
    assert not future.exclude(topic="").exists()
    assert not future.exclude(register_taken_at=None).exists()
    assert not Mark.objects.filter(lesson__date__gt=TODAY).exists()
    assert not Attendance.objects.filter(lesson__date__gt=TODAY).exists()
    assert not Mark.objects.filter(lesson__timetable_change__kind="cancelled").exists()
    # Homework on about 70% of lessons (control works have none), due at a later lesson.
    homework = past.exclude(homework="")
    assert 0.55 <= homework.count() / past.count() <= 0.8
    assert not homework.filter(homework_due=None).exists()
    assert not homework.filter(homework_due__lt=F("date")).exists()
    # Student-lessons: the class (or subgroup) on each past lesson.
    student_lessons = 0
    for lesson in past.select_related("assignment"):
        a = lesson.assignment
        student_lessons += (
            a.subgroup.students.count()
            if a.subgroup_id
            else Enrolment.objects.filter(school_class=a.school_class_id).count()
        )
    absences = Attendance.objects.count()
    marks = Mark.objects.count()
    assert 0.025 <= absences / student_lessons <= 0.055
    assert 0.17 <= marks / student_lessons <= 0.3
    assert not Mark.objects.filter(lesson__attendance__student=F("student")).exists()  # absent: no mark
    # A few late entries and a few remarks by the deputy.
    assert 0 < Mark.objects.filter(is_late=True).count() < marks * 0.06
    assert Remark.objects.filter(author__username="deputy").count() >= 5


def test_every_journal_row_has_its_audit_row_by_the_lessons_teacher(demo: DemoSummary) -> None:
    audit = {(c.kind, c.object_id, c.student_id): c for c in JournalChange.objects.select_related("lesson__assignment")}
    for mark in Mark.objects.select_related("value", "lesson__assignment"):
        change = audit[("mark", mark.pk, mark.student_id)]
        teacher = mark.lesson.conducted_by_id or mark.lesson.assignment.teacher_id
        assert (change.actor_id, change.new_value, change.is_late) == (teacher, mark.value.code, mark.is_late)
        assert change.lesson_id == mark.lesson_id and change.assignment_id == mark.lesson.assignment_id
        assert mark.created_by_id == teacher
    for row in Attendance.objects.select_related("code", "lesson__assignment"):
        change = audit[("attendance", row.pk, row.student_id)]
        assert change.new_value == row.code.code == "н"
        assert change.actor_id == (row.lesson.conducted_by_id or row.lesson.assignment.teacher_id)
    for lesson in Lesson.objects.exclude(topic=""):
        assert audit[("topic", lesson.pk, None)].new_value == lesson.topic
        assert audit[("register", lesson.pk, None)].actor_id == lesson.register_taken_by_id


def test_marks_are_on_the_assignments_scale_for_students_of_the_class_or_subgroup(demo: DemoSummary) -> None:
    scales = _effective_scale_ids()
    twelve = []
    for mark in Mark.objects.select_related("value__scale", "lesson__assignment__school_class__year_level"):
        a = mark.lesson.assignment
        assert mark.value.scale_id == scales[a.pk]
        assert Enrolment.objects.filter(
            student=mark.student_id, school_class=a.school_class_id, start__lte=mark.lesson.date
        ).exists()
        if a.subgroup_id:
            assert a.subgroup.students.filter(pk=mark.student_id).exists()
        if a.school_class.year_level.number <= 2 and mark.value.scale.kind != "pass":
            assert mark.value.scale.kind == "verbal"
        if mark.value.scale.kind == "12":
            twelve.append(int(mark.value.code))
    # 12-point marks are realistic: mostly 6-11, some 12s and a few below 4.
    assert len(twelve) > 200
    assert sum(6 <= m <= 11 for m in twelve) / len(twelve) > 0.75
    assert 12 in twelve
    work_types = Counter(Mark.objects.values_list("work_type__code", flat=True))
    assert work_types.most_common(1)[0][0] == "current"
    assert work_types["control"] > 0 and work_types["independent"] > 0


def test_the_demo_teacher_and_the_demo_parent_see_marks(demo: DemoSummary) -> None:
    homeroom = SchoolClass.objects.get(class_teacher__username="teacher", year__is_current=True)
    assert Mark.objects.filter(lesson__assignment__school_class=homeroom).count() > 20
    assert Mark.objects.filter(lesson__assignment__teacher__username="teacher").exists()
    assert Remark.objects.filter(assignment__teacher__username="teacher").exists()
    for link in GuardianLink.objects.filter(guardian__username="parent"):
        assert Mark.objects.filter(student=link.student_id).count() >= 5


def _journal_times_after(now: dt.datetime) -> dict[str, int]:
    """How many journal and audit timestamps the demo wrote after ``now`` (each should be none)."""
    from classbook.core.models import AuditEntry

    return {
        "journal changes": JournalChange.objects.filter(at__gt=now).count(),
        "audit entries": AuditEntry.objects.filter(at__gt=now).count(),
        "marks": Mark.objects.filter(created_at__gt=now).count() + Mark.objects.filter(updated_at__gt=now).count(),
        "attendance": Attendance.objects.filter(updated_at__gt=now).count(),
        "registers": Lesson.objects.filter(register_taken_at__gt=now).count(),
        "lessons": Lesson.objects.filter(updated_at__gt=now).count(),
    }


def test_the_seeded_journal_is_history_and_notifies_nobody(demo: DemoSummary) -> None:
    from classbook.journal import outbox

    assert JournalChange.objects.exists() and outbox.pending() == 0


def test_seeding_in_the_evening_writes_no_time_after_now_and_keeps_late_entries(demo: DemoSummary) -> None:
    # The shared demo was seeded at SEEDED_AT, an evening: yesterday's late entries would be tonight.
    assert JournalChange.objects.exists()
    assert _journal_times_after(SEEDED_AT) == dict.fromkeys(_journal_times_after(SEEDED_AT), 0)
    # Late entries are still there when their next evening has passed.
    assert JournalChange.objects.filter(is_late=True).exists()


def test_the_demo_school_round_trips_through_oneroster(demo: DemoSummary) -> None:
    """Issue 13: the demo school's roster exported as OneRoster 1.2, imported into an empty school and exported
    again gives the same package (the target's own ids and logins mapped back; tests/oneroster for the rules)."""
    from classbook.oneroster import csvzip, services, spec
    from classbook.oneroster.ids import Ids
    from tests import factories as f
    from tests.oneroster.independent_validator import read_package, validate
    from tests.oneroster.test_oneroster import _roster_only, _unzip

    director = User.objects.get(username="director")
    source = services.export_package(acting_user=director, school=School.objects.get(slug="demo"), gradebook=False)
    # Last year (2025/2026, closed) is not in a bulk package, nor its classes taught by teachers who have left since.
    first = _unzip(source)
    sessions = first["academicSessions"]
    assert "2026" not in {r[sessions[0].index("schoolYear")] for r in sessions[1:]}
    assert spec.check_package(csvzip.read_zip(source)) == []
    target = f.SchoolFactory(slug="empty-school", name="Порожня школа")
    importer = f.make_member(target, Role.DIRECTOR)
    result = services.import_package(acting_user=importer, school=target, data=source)
    assert result.counts["users"] == len(first["users"]) - 1 > SMALL  # students, guardians and staff
    again = _unzip(services.export_package(acting_user=importer, school=target, gradebook=False))
    own = Ids(target).sid("user", f"u{importer.pk}")  # the target's director, who ran the import
    for name in ("users", "roles"):
        again[name] = [r for r in again[name] if own not in r]
    org = (first["orgs"][1][0], again["orgs"][1][0])
    logins = {a[4]: b[4] for a, b in zip(again["users"][1:], first["users"][1:], strict=True)}
    assert _roster_only(again, logins, org) == _roster_only(first, {}, org)
    # The whole package with its gradebook: last year's period grades (of graduates, among others) are not in it
    # either, so every result names a user, line item and class of the package. Both readings of the spec agree.
    whole = services.export_package(acting_user=director, school=School.objects.get(slug="demo"))
    assert spec.check_package(csvzip.read_zip(whole)) == []
    assert validate(read_package(whole)) == []


# --- tests that seed their own demo ----------------------------------------------------------------------


@pytest.mark.engine_neutral
def test_same_seed_gives_identical_data_and_another_seed_differs() -> None:
    first = generate_and_rollback(seed=7, students=SMALL)
    again = generate_and_rollback(seed=7, students=SMALL)
    other = generate_and_rollback(seed=8, students=SMALL)

    assert first == again
    assert len(first["students"]) == SMALL
    assert len(first["last_year"]) > 1000 and first["last_year"] != other["last_year"]
    assert len(first["marks"]) > 100
    assert first["marks"] != other["marks"]
    assert first["students"] != other["students"]
    assert first["guardians"] != other["guardians"]


def test_every_school_owned_row_points_to_objects_of_its_own_school() -> None:
    generate(DemoOptions(seed=1, students=30, scale=2))
    schools = set(School.objects.filter(slug__in=["demo", "demo-2"]).values_list("id", flat=True))
    assert len(schools) == 2
    checked = 0
    for model in apps.get_models():
        if not issubclass(model, SchoolOwned) or not model.objects.exists():
            continue
        assert set(model.objects.values_list("school_id", flat=True)) <= schools
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and issubclass(f.related_model, SchoolOwned):
                foreign = model.objects.exclude(**{f"{f.name}__isnull": True}).exclude(
                    **{f"{f.name}__school": F("school")}
                )
                assert not foreign.exists(), f"{model.__name__}.{f.name}"
                checked += 1
    assert checked >= 10
    through = Subgroup.students.through.objects
    assert not through.exclude(subgroup__school=F("student__school")).exists()
    # People belong to the school they have a role in.
    assert not TeachingAssignment.objects.exclude(teacher__memberships__school=F("school")).exists()
    assert not GuardianLink.objects.exclude(guardian__memberships__school=F("school")).exists()


@pytest.mark.engine_neutral
def test_a_thousand_students_make_a_realistic_school() -> None:
    summary = generate(DemoOptions(seed=1, students=1000))
    school = School.objects.get(slug="demo")

    assert summary.students == 1000
    assert 30 <= summary.classes <= 34
    loads = TeachingAssignment.objects.filter(year__is_current=True).values("teacher").annotate(h=Sum("hours_per_week"))
    hours = [row["h"] for row in loads]
    assert 45 <= len(hours) <= 65
    assert min(hours) >= Decimal(18) and max(hours) <= Decimal(30)
    # Last year's workload: no teacher over 30 hours (teachers who have left since took the rest), taught only
    # by teachers who were at the school then.
    then = TeachingAssignment.objects.filter(year__is_current=False).values("teacher").annotate(h=Sum("hours_per_week"))
    assert then and max(row["h"] for row in then) <= Decimal(30)
    hired = dict(Membership.objects.filter(school=school, role=Role.TEACHER).values_list("user_id", "since"))
    assert all(hired[row["teacher"]] <= dt.date(2025, 9, 1) for row in then)
    # Primary grades use the verbal scale.
    assert set(YearLevel.objects.filter(school=school, number__lte=2).values_list("scale__kind", flat=True)) == {
        "verbal"
    }
    # Some families have two or three children here; some students lack a personal-data consent.
    per_parent = GuardianLink.objects.values("guardian").annotate(n=Count("id")).values_list("n", flat=True)
    assert {2, 3} <= set(per_parent)
    current = Student.objects.filter(school=school, left_on=None)  # last year's graduates gave no consents here
    without = current.exclude(consents__purpose=ConsentPurpose.PERSONAL_DATA).count()
    assert 10 <= without <= 150


@pytest.mark.engine_neutral
def test_later_capabilities_add_a_step_that_sees_the_built_school() -> None:
    seen: list[int] = []

    def step_extra(build: SchoolBuild) -> None:
        seen.append(len(build.students))

    generate(DemoOptions(seed=1, students=7), steps=[*STEPS, step_extra])
    assert seen == [7]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_command_ends_with_a_one_line_summary_and_demo_logins_lists_them() -> None:
    output = run("seed_demo", "--seed", "1", "--students", str(SMALL))
    assert f"demo: {SMALL} students, 11 classes," in output
    assert len(output.strip().splitlines()) == 1

    logins = run("demo_logins")
    for username in ("admin", "director", "deputy", "secretary", "teacher", "student", "parent", "viewer"):
        assert f" {username} " in logins
    assert DEMO_PASSWORD in logins
    assert "/s/demo/" in logins


def test_if_empty_leaves_an_existing_demo_alone_and_without_it_refuses() -> None:
    run("seed_demo", "--students", "20")
    users = User.objects.count()

    assert "already exists" in run("seed_demo", "--if-empty", "--students", "20")
    with pytest.raises(CommandError, match="already exists"):
        run("seed_demo", "--students", "20")
    assert User.objects.count() == users


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--students", "0"], "--students must be between 1 and 200000"),
        (["--students", "-5"], "--students must be between"),
        (["--students", "200001"], "--students must be between"),
        (["--students", "many"], "--students must be a whole number"),
        (["--scale", "0"], "--scale must be between"),
        (["--jobs", "0"], "--jobs must be between 1 and 16"),
        (["--jobs", "two"], "--jobs must be a whole number"),
        (["--seed", "x1"], "--seed must be a whole number"),
        (["--school", "Bad Slug!"], "not a valid school address name"),
        (["--fresh"], "never deletes data"),
    ],
)
def test_bad_arguments_give_a_clear_error_and_change_nothing(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("seed_demo", *args)
    assert not School.objects.exists()
    assert not User.objects.exists()


def test_demo_logins_without_the_demo_school_says_how_to_create_it() -> None:
    with pytest.raises(CommandError, match="seed_demo"):
        run("demo_logins")


def test_generation_makes_no_per_row_queries() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queries, rows = [], []
    for students in (60, 300):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                generate(DemoOptions(seed=1, students=students))
            queries.append(len(captured))
            # Every row the run wrote, including the lessons the timetable service generated.
            rows.append(sum(m.objects.count() for m in apps.get_models()))
            transaction.set_rollback(True)
    extra_rows, extra_queries = rows[1] - rows[0], queries[1] - queries[0]
    # Five times the students are tens of thousands more rows (lessons, marks, audit rows) but only
    # more insert batches: each extra query carries hundreds of rows on average (measured: 353 -> 379
    # queries for 39,293 -> 64,282 rows). A query per row (or per student, per lesson) would make the
    # ratio 1 or worse.
    assert extra_rows > 20_000, rows
    assert extra_queries * 100 < extra_rows, (queries, rows)
    assert queries[0] < 500, queries


@pytest.mark.engine_neutral
@pytest.mark.parametrize("students", [1, 7, 25])
def test_tiny_schools_are_generated_whole(students: int) -> None:
    summary = generate(DemoOptions(seed=2, students=students))
    assert summary.students == students == Enrolment.objects.count()
    assert not SchoolClass.objects.filter(class_teacher=None).exists()
    assert not Student.objects.filter(guardian_links=None).exists()


def test_scale_creates_numbered_schools_under_one_authority() -> None:
    output = run("seed_demo", "--students", "20", "--scale", "2")
    assert "demo, demo-2" in output
    viewer = User.objects.get(username="viewer")
    assert sorted(School.objects.filter(authorities__viewers__user=viewer).values_list("slug", flat=True)) == [
        "demo",
        "demo-2",
    ]
    # Only the first school gets the short demo logins; usernames stay unique.
    assert Membership.objects.filter(user__username="admin", school__slug="demo").exists()
    assert Membership.objects.filter(school__slug="demo-2", role=Role.ADMIN).exclude(user__username="admin").exists()
    # More than one school is the region data set: the closed year is filled lesson by lesson too
    # (steps.last_year_journal), up to its second semester's end, with the same audit rows as this year's.
    last = Lesson.objects.filter(assignment__school_class__year__name="2025/2026")
    if not TeachingAssignment.objects.filter(school_class__year__name="2025/2026").exists():
        return  # 20 students leave last year without a workload here; the bench's 1,000 fill it (performance.md)
    assert last.exists() and last.filter(date__gt=dt.date(2026, 5, 29)).count() == 0
    last_marks = Mark.objects.filter(lesson__assignment__school_class__year__name="2025/2026")
    assert (
        last_marks.exists()
        and Attendance.objects.filter(lesson__assignment__school_class__year__name="2025/2026").exists()
    )
    assert (
        JournalChange.objects.filter(kind="mark", object_id__in=last_marks.values("pk")).count() == last_marks.count()
    )
    assert not last.filter(date__in=[dt.date(2025, 12, 25), dt.date(2026, 1, 5)]).exists()  # days off
    from classbook.journal import outbox

    assert outbox.pending() == 0
    # The marks lead to the semester grades given: on the 12-point scale they average within a point of them.
    points = [int(c) for c in last_marks.values_list("value__code", flat=True) if c.isdigit()]
    grades = [
        int(c)
        for c in PeriodGrade.objects.filter(period__year__name="2025/2026", kind="period").values_list(
            "value__code", flat=True
        )
        if c.isdigit()
    ]
    assert points and grades and abs(sum(points) / len(points) - sum(grades) / len(grades)) < 1


def test_the_one_school_demo_leaves_the_closed_years_journal_empty_unless_asked() -> None:
    assert not DemoOptions().fills_last_year and DemoOptions(scale=2).fills_last_year
    assert (
        DemoOptions(last_year_journal=True).fills_last_year
        and not DemoOptions(scale=3, last_year_journal=False).fills_last_year
    )


def test_checked_at_the_end_refuses_a_dangling_reference_and_passes_a_sound_load() -> None:
    from django.db import IntegrityError, connection

    from classbook.demo.bulk import checked_at_the_end
    from classbook.schools.models import Room
    from tests.factories import SchoolFactory

    school = SchoolFactory()
    with transaction.atomic(), checked_at_the_end() as moved:
        Room.objects.bulk_create([Room(school=school, name="101")])
    assert moved == (connection.vendor == "postgresql")  # superuser in tests; SQLite checks as always
    if not moved:
        return
    with pytest.raises(IntegrityError, match="schools_room"), transaction.atomic(), checked_at_the_end():
        Room.objects.bulk_create([Room(school_id=school.pk + 10**9, name="102")])
    assert list(Room.objects.values_list("name", flat=True)) == ["101"]


# --- the journal step -----------------------------------------------------------------


def test_the_demos_today_is_clamped_into_the_academic_year() -> None:
    start, end = dt.date(2026, 9, 1), dt.date(2027, 6, 30)
    assert journal_until(start, end, dt.date(2026, 11, 23)) == dt.date(2026, 11, 23)
    assert journal_until(start, end, dt.date(2025, 5, 1)) == start
    assert journal_until(start, end, dt.date(2030, 1, 1)) == end
    assert journal_until(start, end) == TODAY


@pytest.mark.engine_neutral
@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 10, 15, 6, 0, tzinfo=dt.UTC),  # morning: today's lessons are not over yet
        dt.datetime(2026, 8, 1, 12, 0, tzinfo=dt.UTC),  # before the year: its first day is filled "now"
    ],
)
def test_seeding_writes_no_journal_or_audit_time_after_now(moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=False):
        generate(DemoOptions(seed=3, students=SMALL))
        assert JournalChange.objects.exists()
        assert _journal_times_after(moment) == dict.fromkeys(_journal_times_after(moment), 0)


@pytest.mark.engine_neutral
def test_after_the_year_every_lesson_is_filled() -> None:
    with time_machine.travel(dt.datetime(2027, 8, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        generate(DemoOptions(seed=1, students=7))
    assert Lesson.objects.count() > 100
    assert not Lesson.objects.exclude(timetable_change__kind="cancelled").filter(topic="").exists()


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Українська мова", "Словосполучення і речення"),
        ("Українська мова та читання", "Словосполучення і речення"),
        ("Фізика і астрономія", "Механічний рух. Швидкість руху"),
        ("Біологія і екологія", "Клітина — одиниця живого"),
        ("Алгебра", "Квадратні рівняння. Теорема Вієта"),
        ("Етика", "Вступ до курсу «Етика»"),
    ],
)
def test_topics_have_real_wording_per_subject(subject: str, expected: str) -> None:
    assert expected in topics_for(subject)
