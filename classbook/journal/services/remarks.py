"""Control remarks of the administration (R6.10)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_assignment,
    may_remark,
)
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.models import (
    Lesson,
    Remark,
)
from classbook.journal.services._common import _ensure_student_in_lesson
from classbook.people.models import Student, User
from classbook.schools.models import (
    TeachingAssignment,
)

# --- Control remarks (R6.10) ---------------------------------------------------------


@transaction.atomic
def add_remark(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    text: str,
    lesson: Lesson | None = None,
    student: Student | None = None,
) -> Remark:
    """A deputy, the director or an administrator leaves a remark on a journal or one of its cells (R6.10)."""
    if not may_remark(acting_user, assignment.school_id):
        raise PermissionDeniedError(_("Only the school's administration leaves control remarks."))
    text = text.strip()
    if not text:
        raise DomainError(_("Write the remark."), code="empty", field="text")
    if len(text) > 1000:
        raise DomainError(_("The remark is too long (1000 characters at most)."), field="text")
    if lesson is not None and lesson.assignment_id != assignment.pk:
        raise DomainError(_("The lesson belongs to another journal."), field="lesson")
    if student is not None:
        if lesson is not None:
            _ensure_student_in_lesson(lesson, student)
        elif (
            student.school_id != assignment.school_id
            or not student.enrolments.filter(school_class_id=assignment.school_class_id).exists()
        ):
            raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    remark = Remark.objects.create(
        school_id=assignment.school_id,
        assignment=assignment,
        lesson=lesson,
        student=student,
        text=text,
        author=acting_user,
    )
    log_action(
        "journal.remark.added",
        actor=acting_user,
        school=assignment.school,
        obj=remark,
        data={"assignment": assignment.pk, "lesson": lesson.pk if lesson else None, "text": text},
    )
    return remark


@transaction.atomic
def fix_remark(*, acting_user: User, remark: Remark, note: str = "") -> Remark:
    """The teacher of the journal marks a remark fixed, optionally with a note (R6.10)."""
    remark = Remark.objects.select_for_update(of=("self",)).select_related("assignment", "school").get(pk=remark.pk)
    if not can_edit_assignment(acting_user, remark.assignment):
        raise PermissionDeniedError(_("Only the teacher of this journal marks its remarks fixed."))
    if remark.fixed_at is not None:
        raise DomainError(_("This remark is already marked fixed."), code="already_fixed")
    note = note.strip()
    if len(note) > 500:
        raise DomainError(_("The note is too long (500 characters at most)."), field="note")
    remark.fixed_at = timezone.now()
    remark.fixed_by = acting_user
    remark.fixed_note = note
    remark.save(update_fields=["fixed_at", "fixed_by", "fixed_note"])
    log_action("journal.remark.fixed", actor=acting_user, school=remark.school, obj=remark, data={"note": note})
    return remark
