"""Homework files (R2.3, R5.7): attached by the lesson's teacher, read by the class, never silently lost.

A removal hides the file from the class but keeps it and records who removed it when (legal record).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import can_edit_lesson
from classbook.core import uploads
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.models import ChangeKind, HomeworkAttachment, JournalChange, Lesson

if TYPE_CHECKING:
    from classbook.people.models import User

POLICY = uploads.POLICIES["homework"]
MAX_FILES_PER_LESSON = 10


def _log(*, acting_user: User, lesson: Lesson, attachment: HomeworkAttachment, old: str, new: str) -> None:
    JournalChange.objects.create(
        school_id=lesson.school_id,
        actor=acting_user,
        kind=ChangeKind.HOMEWORK,
        assignment_id=lesson.assignment_id,
        lesson=lesson,
        object_id=attachment.pk,
        old_value=old,
        new_value=new,
    )


@transaction.atomic
def attach_homework_file(*, acting_user: User, lesson: Lesson, upload: UploadedFile) -> HomeworkAttachment:
    """Attach a file to the lesson's homework: the lesson's teacher only; the kind checked by the file's content
    against ``POLICY`` (``classbook.core.uploads``, docs/journal.md) and stored with the verified type."""
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this lesson may attach files."))
    checked = uploads.check_upload(upload, POLICY)
    if lesson.attachments.filter(removed_at__isnull=True).count() >= MAX_FILES_PER_LESSON:
        raise DomainError(_("A lesson may have at most 10 homework files."), field="file")
    name = checked.name
    attachment = HomeworkAttachment(
        school_id=lesson.school_id,
        lesson=lesson,
        original_name=name,
        size=checked.size,
        mime_type=checked.kind.mime,
        uploaded_by=acting_user,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    _log(acting_user=acting_user, lesson=lesson, attachment=attachment, old="", new=f"+ {name}")
    return attachment


@transaction.atomic
def remove_homework_file(*, acting_user: User, attachment: HomeworkAttachment) -> HomeworkAttachment:
    """Hide a file from the class; the file and the record stay (nothing is lost)."""
    lesson = attachment.lesson
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this lesson may remove its files."))
    if attachment.removed_at is None:
        attachment.removed_at = timezone.now()
        attachment.removed_by = acting_user
        attachment.save(update_fields=["removed_at", "removed_by"])
        _log(acting_user=acting_user, lesson=lesson, attachment=attachment, old=attachment.original_name, new="")
    return attachment
