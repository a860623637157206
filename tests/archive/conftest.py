"""Archive fixtures on top of the shared ``world``: a small journal of 5-А with a history (marks changed,
an absence, a period grade and its correction, topics and homework), files under a temporary MEDIA_ROOT."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection

from classbook.archive import services
from classbook.archive.models import ArchiveBuild, ArchiveKind
from classbook.journal import services as journal
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import Lesson, PeriodGrade
from classbook.people.models import Role
from classbook.schools.models import StudyPeriod, TeachingAssignment
from tests import factories as f

# The session's test certificates (a CA and a leaf it issued), the CA's CRL and a timestamp authority on 127.0.0.1.
from tests.signing.conftest import certs, crl_url, tsa_url

IN_TIME = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)
GRADES_DAY = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)
WEEK = (dt.date(2026, 10, 3), dt.date(2026, 10, 9))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(scope="session")
def pdf() -> bytes:
    """A small PDF/A-3b made once (files whose content does not matter to a test: access, the chain)."""
    from classbook.archive import files

    return files.write_pdfa("<h1>5-А</h1>", base_url="/", attachments={"data.json": (b"{}", "data")})


@dataclass
class Data:
    assignment: TeachingAssignment
    semester: StudyPeriod
    lessons: list[Lesson]
    grade: PeriodGrade


@pytest.fixture
def data(world) -> Data:
    create_journal_defaults(world.school)
    assignment = world.teacher.teaching_assignments.get()
    semester = f.PeriodFactory(year=assignment.year)
    second = f.make_student(world.class_a)
    with time_machine.travel(IN_TIME):
        lessons = [
            journal.create_lesson(
                acting_user=world.teacher, assignment=assignment, date=day, topic=f"Дроби {n}", number=1
            )
            for n, day in enumerate([dt.date(2026, 10, 5), dt.date(2026, 9, 28)], start=1)
        ]
        journal.update_lesson(
            acting_user=world.teacher,
            lesson_id=lessons[0].pk,
            expected_version=lessons[0].version,
            homework="№ 12, 14",
        )
        mark = journal.record_mark(
            acting_user=world.teacher, lesson=lessons[0], student=world.student, text="7", expected_version=0
        )
        journal.record_mark(
            acting_user=world.teacher,
            lesson=lessons[0],
            student=world.student,
            text="9",
            expected_version=mark.version,
            reason="перевірено ще раз",
        )
        journal.record_mark(acting_user=world.teacher, lesson=lessons[1], student=second, text="11", expected_version=0)
        journal.record_attendance(
            acting_user=world.teacher, lesson=lessons[0], student=second, text="н", expected_version=0
        )
    with time_machine.travel(GRADES_DAY):
        grade = journal.record_period_grade(
            acting_user=world.teacher,
            assignment=assignment,
            student=world.student,
            period=semester,
            kind="period",
            text="8",
            expected_version=0,
        )
        journal.correct_period_grade(
            acting_user=world.deputy, grade=grade, text="9", reason="апеляція", order_ref="наказ № 5"
        )
    return Data(assignment=assignment, semester=semester, lessons=lessons, grade=grade)


def new_build(world, kind: str = ArchiveKind.SEMESTER, period: StudyPeriod | None = None) -> ArchiveBuild:
    """A build row of ``world.school`` (not queued: tests make its documents themselves)."""
    year = world.class_a.year
    start, end = (period.start, period.end) if period else (year.start, year.end)
    return ArchiveBuild.objects.create(
        school=world.school, kind=kind, year=year, start=start, end=end, period=period, requested_by=world.director
    )


__all__ = ["Role", "certs", "crl_url", "services", "tsa_url"]
