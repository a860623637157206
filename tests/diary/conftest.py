"""A diary world: the shared personas plus a timetable, a generated week of lessons and journal data.

The week of Monday 9 November 2026 (semester I, 1 Sep - 26 Dec 2026) for class_a:
Mon 1 maths (topic, homework due Wed with a file, a mark with comment), Tue 3 English group 1 (the
student's group) cancelled, Tue 4 English group 2 (not the student's), Wed 2 maths substituted by the
class teacher (the student absent, "н"), Thu 2 maths moved to Fri 5. class_b has history Mon 1.
"""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from classbook.journal import attachments
from classbook.journal import services as journal
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import AttendanceCode, Lesson
from classbook.schools.models import StudyPeriod, TeachingAssignment
from classbook.timetable import services as timetable
from tests import factories as f
from tests.conftest import shared_fixture, shared_value

MONDAY = dt.date(2026, 11, 9)


@dataclass
class Diary:
    period: StudyPeriod
    period2: StudyPeriod
    math: TeachingAssignment
    english1: TeachingAssignment
    english2: TeachingAssignment
    history: TeachingAssignment
    mon_math: Lesson
    wed_math: Lesson
    thu_math: Lesson
    tue_english: Lesson
    other_lesson: Lesson  # class_b's history lesson
    file_id: int
    other_file_id: int  # a file of class_b's lesson
    media_root: Path  # where the homework files are


def _lesson(assignment: TeachingAssignment, day: dt.date) -> Lesson:
    return Lesson.objects.get(assignment=assignment, date=day)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _build_diary(get: Any) -> Diary:
    """Built once per test module (tests/conftest.py ``shared_fixture``; ~0.3 s of services per build), with its
    homework files in a directory of its own that lives as long as the test run."""
    media_root = Path(tempfile.mkdtemp(prefix="classbook-diary-media-"))
    atexit.register(shutil.rmtree, media_root, ignore_errors=True)
    with override_settings(MEDIA_ROOT=media_root):
        return _make_diary(get("world"), media_root)


shared_fixture("diary", _build_diary, __file__)


@pytest.fixture
def diary(world, media, settings, request) -> Diary:
    built = shared_value(request, "diary")
    settings.MEDIA_ROOT = built.media_root
    return built


def _make_diary(world: Any, media_root: Path) -> Diary:
    school, deputy = world.school, world.deputy
    create_journal_defaults(school)
    year = world.class_a.year
    period = StudyPeriod.objects.create(
        school=school,
        year=year,
        kind="semester",
        name="I семестр",
        ordinal=1,
        start=year.start,
        end=dt.date(2026, 12, 26),
    )
    period2 = StudyPeriod.objects.create(
        school=school,
        year=year,
        kind="semester",
        name="II семестр",
        ordinal=2,
        start=dt.date(2027, 1, 12),
        end=year.end,
    )
    schedule = timetable.create_bell_schedule(acting_user=deputy, school=school, name="Перша зміна")
    for n in range(1, 8):
        timetable.set_bell(
            acting_user=deputy, schedule=schedule, number=n, start=dt.time(7 + n, 0), end=dt.time(7 + n, 45)
        )
    group1 = f.SubgroupFactory(school_class=world.class_a, name="Група 1")
    group2 = f.SubgroupFactory(school_class=world.class_a, name="Група 2")
    group1.students.add(world.student)
    english = f.SubjectFactory(school=school, name="Англійська мова")
    math = TeachingAssignment.objects.get(teacher=world.teacher)
    history = TeachingAssignment.objects.get(teacher=world.other_teacher)
    english1 = f.make_assignment(world.other_teacher, world.class_a, english, subgroup=group1)
    english2 = f.make_assignment(world.class_teacher, world.class_a, english, subgroup=group2)
    room = f.RoomFactory(school=school, name="101")
    for assignment, weekday, number in [
        (math, 1, 1),
        (math, 3, 2),
        (math, 4, 2),
        (english1, 2, 3),
        (english2, 2, 4),
        (history, 1, 1),
    ]:
        timetable.add_entry(
            acting_user=deputy,
            assignment=assignment,
            weekday=weekday,
            number=number,
            room=room if assignment != history else None,
            valid_from=year.start,
            valid_until=year.end,
        )
    timetable.generate_lessons(acting_user=deputy, school=school, start=MONDAY, end=MONDAY + dt.timedelta(days=5))
    mon = _lesson(math, MONDAY)
    wed = _lesson(math, MONDAY + dt.timedelta(days=2))
    thu = _lesson(math, MONDAY + dt.timedelta(days=3))
    tue_en = _lesson(english1, MONDAY + dt.timedelta(days=1))
    other = _lesson(history, MONDAY)
    mon = journal.update_lesson(
        acting_user=world.teacher,
        lesson_id=mon.pk,
        expected_version=mon.version,
        topic="Дроби",
        homework="№ 12, 14",
        homework_due=MONDAY + dt.timedelta(days=2),
    )
    file_id = attachments.attach_homework_file(
        acting_user=world.teacher, lesson=mon, upload=SimpleUploadedFile("task.pdf", b"%PDF-1.4 task")
    ).pk
    other_file_id = attachments.attach_homework_file(
        acting_user=world.other_teacher, lesson=other, upload=SimpleUploadedFile("other.pdf", b"%PDF-1.4 x")
    ).pk
    journal.record_mark(
        acting_user=world.teacher, lesson=mon, student=world.student, text="10", expected_version=0, comment="Молодець"
    )
    journal.record_mark(
        acting_user=world.other_teacher, lesson=other, student=world.other_student, text="3", expected_version=0
    )
    timetable.record_lesson_change(acting_user=deputy, lesson=tue_en, kind="cancelled")
    timetable.record_lesson_change(acting_user=deputy, lesson=wed, kind="substituted", substitute=world.class_teacher)
    wed.refresh_from_db()
    journal.record_attendance(
        acting_user=world.class_teacher, lesson=wed, student=world.student, text="н", expected_version=0
    )
    timetable.record_lesson_change(
        acting_user=deputy, lesson=thu, kind="moved", new_date=MONDAY + dt.timedelta(days=4), new_number=5
    )
    thu.refresh_from_db()
    AttendanceCode.objects.create(school=school, code="хв", name="Хворів", counts_as_absent=True, is_excused=True)
    return Diary(
        period=period,
        period2=period2,
        math=math,
        english1=english1,
        english2=english2,
        history=history,
        mon_math=mon,
        wed_math=wed,
        thu_math=thu,
        tue_english=tue_en,
        other_lesson=other,
        file_id=file_id,
        other_file_id=other_file_id,
        media_root=media_root,
    )
