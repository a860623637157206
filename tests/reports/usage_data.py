"""Hand-built logins and diary views for the usage report (R9.2), with the edge cases its figures must survive.

Three weeks of November 2026 (W1 = 2–8, W2 = 9–15, W3 = 16–22) on top of the ``world`` personas:

- 5-А: ``class_teacher`` (homeroom), ``teacher`` (mathematics), ``retired`` (history, account deactivated: no
  account); students ``world.student``, ``idle`` (imported, activation code never used: no account), and
  ``mover`` (in 5-Б until 10 November, in 5-А from 11 November: both classes in W2);
- 5-Б: ``other_teacher``; ``world.other_student``;
- parents: ``world.parent`` (of student), ``twin_parent`` (of student and of other_student: one person in
  both classes, once in the total), ``idle_parent`` (of idle: has an account), ``ended_parent`` (link to
  student ended on 9 November: W1 only), ``hidden_parent`` (link "may not see": never), ``world.other_parent``;
- logins (``people.login``) on both sides of a week's boundary (Sunday 23:30 and Monday 00:10, Kyiv time),
  twice in a week, a ``people.login.new_device`` entry (not a login of its own), another school's teacher;
- diary views, including a parent's look at the child in the other class and another school's row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.diary.models import DiaryView
from classbook.people.models import Enrolment, GuardianLink, Student, User
from tests import factories as f

W1, W2, W3 = dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)


@dataclass
class Usage:
    retired: User
    idle: Student
    mover: Student
    twin_parent: User
    idle_parent: User
    ended_parent: User
    hidden_parent: User


def login(user: User, when: dt.datetime, action: str = "people.login") -> None:
    entry = AuditEntry.objects.create(school=None, actor=user, subject=user, action=action, data={})
    AuditEntry.objects.filter(pk=entry.pk).update(at=when)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def view(school, viewer: User, student: Student, day: dt.date, *, as_parent: bool) -> None:
    DiaryView.objects.create(school=school, viewer=viewer, student=student, day=day, as_parent=as_parent)


@pytest.fixture
def usage_world(world) -> Usage:
    w = world
    retired = f.make_member(w.school, "teacher", username="retired", is_active=False)
    f.make_assignment(retired, w.class_a)
    idle = f.make_student(w.class_a, user=f.UserFactory(username="idle", password="!unusable"))
    mover = f.make_student(w.class_b, user=f.UserFactory(username="mover"))
    Enrolment.objects.filter(student=mover).update(end=dt.date(2026, 11, 10))
    Enrolment.objects.create(school=w.school, student=mover, school_class=w.class_a, start=dt.date(2026, 11, 11))
    twin_parent = f.make_parent(w.student, username="twin")
    GuardianLink.objects.create(school=w.school, guardian=twin_parent, student=w.other_student, may_see=True)
    idle_parent = f.make_parent(idle, username="idleparent")
    ended_parent = f.make_parent(w.student, username="endedparent")
    GuardianLink.objects.filter(guardian=ended_parent).update(ended_on=dt.date(2026, 11, 9))
    hidden_parent = f.make_parent(w.student, may_see=False, username="hiddenparent")

    login(w.class_teacher, at(W1))
    login(w.class_teacher, at(W1 + dt.timedelta(days=2)))
    login(w.student.user, at(W1 + dt.timedelta(days=6), 23, 30))  # Sunday night: W1
    login(w.student.user, at(W2, 0, 10))  # Monday just after midnight: W2
    login(w.parent, at(W2 + dt.timedelta(days=3)))
    login(w.parent, at(W2 + dt.timedelta(days=3)), action="people.login.new_device")
    login(twin_parent, at(W1 + dt.timedelta(days=1)))
    login(ended_parent, at(W2 + dt.timedelta(days=1)))  # after the link ended: not a parent of the class then
    login(hidden_parent, at(W1))
    login(idle.user, at(W1))  # cannot have happened with an unusable password; never counted
    login(w.other_student.user, at(W3))
    login(mover.user, at(W2 + dt.timedelta(days=4)))  # Friday of W2: counted in 5-А and in 5-Б that week
    login(w.director, at(W1))
    login(w.foreign_teacher, at(W1))
    login(w.teacher, at(W3, 9))

    view(w.school, w.student.user, w.student, W1, as_parent=False)
    view(w.school, w.student.user, w.student, W1 + dt.timedelta(days=1), as_parent=False)
    view(w.school, w.parent, w.student, W2 + dt.timedelta(days=3), as_parent=True)
    view(w.school, twin_parent, w.other_student, W1 + dt.timedelta(days=1), as_parent=True)  # 5-Б, not 5-А
    view(w.school, mover.user, mover, W2 + dt.timedelta(days=1), as_parent=False)
    view(w.school, idle_parent, idle, W3, as_parent=True)
    view(w.other_school, w.foreign_student.user, w.foreign_student, W1, as_parent=False)
    return Usage(retired, idle, mover, twin_parent, idle_parent, ended_parent, hidden_parent)
