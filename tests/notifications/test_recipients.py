"""Who is told: the student and their guardians with an active link that allows seeing the child —
nobody else (another child's parent, a restricted or ended link, another school)."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.journal import services as jservices
from classbook.journal.models import Lesson
from classbook.notifications.models import Delivery, Kind, Notification
from classbook.timetable import services as timetable
from classbook.timetable.models import ChangeKind
from tests import factories as f
from tests.notifications.conftest import IN_TIME, run_commit_hooks


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


@time_machine.travel(IN_TIME)
def test_a_mark_tells_the_student_and_the_parent_who_may_see_and_nobody_else(world, journal, family, committed):
    with committed():
        journal_services_mark(world, journal, "10")
    assert told(Kind.MARK) == {"student", "parent"}
    n = Notification.objects.get(kind=Kind.MARK, user=world.parent)
    assert n.school_id == world.school.pk
    assert n.params["value"] == "10"
    assert n.params["subject"] == "Математика"
    assert n.params["student"] == world.student.user.full_name
    # Nobody of the other class, the other school, the restricted or the ended link.
    for user in (world.other_parent, family.restricted_parent, family.former_parent, family.foreign_parent):
        assert not Notification.objects.filter(user=user).exists()


def journal_services_mark(world, journal_fixture, text: str, version: int = 0):
    lesson = Lesson.objects.select_related("assignment", "school").get(pk=journal_fixture.lesson.pk)
    return jservices.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text=text, expected_version=version
    )


@time_machine.travel(IN_TIME)
def test_absence_and_changed_mark_each_tell_once(world, journal, family, committed):
    with committed():
        mark = journal_services_mark(world, journal, "7")
    with committed():
        journal_services_mark(world, journal, "8", mark.version)
    with committed():
        lesson = Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)
        jservices.record_attendance(  # replaces the mark: one entry per cell (issue 10)
            acting_user=world.teacher, lesson=lesson, student=world.student, text="н", expected_version=0, replace=True
        )
    assert Notification.objects.filter(kind=Kind.MARK, user=world.parent).count() == 2
    assert told(Kind.ABSENCE) == {"student", "parent"}


@time_machine.travel(IN_TIME)
def test_clearing_a_mark_tells_nobody(world, journal, family, committed):
    with committed():
        mark = journal_services_mark(world, journal, "7")
    Notification.objects.all().delete()
    with committed():
        journal_services_mark(world, journal, "", mark.version)
    assert not Notification.objects.exists()


@time_machine.travel(IN_TIME)
def test_homework_tells_the_class_and_its_parents_only(world, journal, family, committed):
    classmate = f.make_student(world.class_a, user=f.UserFactory(username="classmate"))
    f.make_parent(classmate, username="classmateparent")
    with committed():
        jservices.update_lesson(
            acting_user=world.teacher,
            lesson_id=journal.lesson.pk,
            expected_version=journal.lesson.version,
            homework="§ 12, вправи 1-5",
        )
    assert told(Kind.HOMEWORK) == {"student", "parent", "classmate", "classmateparent"}
    n = Notification.objects.get(kind=Kind.HOMEWORK, user__username="classmateparent")
    assert n.params["student"] == classmate.user.full_name
    assert n.params["text"] == "§ 12, вправи 1-5"


@time_machine.travel(IN_TIME)
def test_a_substituted_lesson_tells_the_class(world, journal, family, committed):
    with committed():
        timetable.record_lesson_change(
            acting_user=world.deputy,
            lesson=journal.lesson,
            kind=ChangeKind.SUBSTITUTED,
            substitute=world.other_teacher,
            reason="illness",
        )
    assert told(Kind.TIMETABLE) == {"student", "parent"}
    assert Notification.objects.get(user=world.parent).params["change"] == "substituted"


@time_machine.travel(IN_TIME)
def test_a_rolled_back_save_tells_nobody(world, journal, family, committed):
    lesson = Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)
    with committed(), pytest.raises(jservices.BulkRejected):
        jservices.record_lesson_bulk(
            acting_user=world.teacher,
            lesson=lesson,
            marks=[
                {"student": world.student.pk, "text": "9", "expected_version": 0},
                {"student": world.other_student.pk, "text": "9", "expected_version": 0},  # not in the class
            ],
        )
    assert not Notification.objects.exists()


@time_machine.travel(IN_TIME)
def test_a_bulk_save_is_one_event_batch(world, journal, family, committed):
    classmate = f.make_student(world.class_a, user=f.UserFactory(username="classmate"))
    lesson = Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)
    run_commit_hooks()
    with CaptureQueriesContext(connection):
        jservices.record_lesson_bulk(
            acting_user=world.teacher,
            lesson=lesson,
            marks=[
                {"student": world.student.pk, "text": "9", "expected_version": 0},
                {"student": classmate.pk, "text": "8", "expected_version": 0},
            ],
            attendance=[{"student": classmate.pk, "text": "н", "expected_version": 0, "replace": True}],
        )
    # One callback for the whole transaction, carrying the three changes.
    assert len(connection.run_on_commit) == 1
    run_commit_hooks()
    assert told(Kind.MARK) == {"student", "parent", "classmate"}
    assert told(Kind.ABSENCE) == {"classmate"}


@time_machine.travel(IN_TIME)
def test_the_fan_out_is_idempotent(world, journal, family, committed):
    from classbook.notifications import sources

    item = {
        "kind": "mark",
        "school_id": world.school.pk,
        "assignment_id": journal.assignment.pk,
        "lesson_id": journal.lesson.pk,
        "period_id": None,
        "student_id": world.student.pk,
        "object_id": 1,
        "old": "",
        "new": "12",
    }
    sources.from_journal([item])
    first = (Notification.objects.count(), Delivery.objects.count())
    sources.from_journal([item])  # a retried task
    assert (Notification.objects.count(), Delivery.objects.count()) == first
    assert first[0] == 2


def test_a_period_mark_tells_the_student_and_the_parent(world, journal, family, committed):
    from tests.journal.conftest import GRADES_DAY

    with time_machine.travel(GRADES_DAY), committed():
        jservices.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=world.student,
            period=journal.semester,
            kind="period",
            text="9",
            expected_version=0,
        )
    assert told(Kind.PERIOD_GRADE) == {"student", "parent"}
    n = Notification.objects.get(kind=Kind.PERIOD_GRADE, user=world.parent)
    assert (n.params["value"], n.params["period"]) == ("9", journal.semester.name)
