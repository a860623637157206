"""Keep the diary's cached weeks fresh: bump the generations a committed change touches (see ``cache.py``)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from classbook.core.events import send_on_commit
from classbook.core.models import AuditEntry
from classbook.diary import cache
from classbook.journal.freshness import QUIET_ACTIONS as JOURNAL_QUIET_ACTIONS
from classbook.journal.models import JournalChange
from classbook.schools.models import TeachingAssignment
from classbook.timetable.events import lesson_changed

# Audit actions that change nothing a diary week shows (prefixes). Everything else audited in a school
# bumps the school's generation: a new audited action is covered without a change here.
# The journal's quiet actions (``journal.freshness``), and two the diary's own receivers already follow.
QUIET_ACTIONS = (*JOURNAL_QUIET_ACTIONS, "appeals.", "diary.policy.")

# Journal changes of one transaction, sent once after it commits (a bulk save of 30 marks: one batch).
journal_written = Signal()


@receiver(post_save, sender=JournalChange)
def on_journal_change(sender: Any, instance: JournalChange, created: bool, **kwargs: Any) -> None:
    if not created or not cache.enabled():
        return
    item = {"school": instance.school_id, "assignment": instance.assignment_id, "student": instance.student_id}
    send_on_commit(journal_written, JournalChange, item)


@receiver(journal_written)
def on_journal_written(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    """A mark, an absence, a grade: the student's weeks; a lesson, topic, homework or file: the class's."""
    cache.bump_students(i["student"] for i in items if i["student"])
    lesson_level = {i["assignment"] for i in items if not i["student"]}
    if lesson_level:
        classes = set(TeachingAssignment.objects.filter(pk__in=lesson_level).values_list("school_class_id", flat=True))
        cache.bump_classes(classes)


@receiver(lesson_changed)
def on_lesson_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    """A substitution, cancellation, merge or move: the school's weeks (a merge or move spans classes)."""
    if cache.enabled():
        cache.bump_schools({i["school_id"] for i in items})


@receiver(post_save, sender=AuditEntry)
def on_audit(sender: Any, instance: AuditEntry, created: bool, **kwargs: Any) -> None:
    if not created or not cache.enabled() or instance.action.startswith(QUIET_ACTIONS):
        return
    school_id = instance.school_id
    if school_id:
        transaction.on_commit(lambda: cache.bump_schools([school_id]))
    else:
        transaction.on_commit(cache.bump_all)


@receiver(post_save, sender=LogEntry)
def on_admin_edit(sender: Any, instance: LogEntry, created: bool, **kwargs: Any) -> None:
    if created and cache.enabled():
        transaction.on_commit(cache.bump_all)
