"""Homework files (R2.3, R5.7): attached by the lesson's teacher, read by the class, never silently lost.

A removal hides the file from the class but keeps it and records who removed it when (legal record).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import can_edit_lesson
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.models import ChangeKind, HomeworkAttachment, JournalChange, Lesson

MAX_SIZE = 10 * 1024 * 1024
MAX_FILES_PER_LESSON = 10
ALLOWED_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".odt",
        ".rtf",
        ".txt",
        ".xls",
        ".xlsx",
        ".ods",
        ".ppt",
        ".pptx",
        ".odp",
        ".jpg",
        ".jpeg",
        ".png",
        ".gif",
        ".webp",
        ".mp3",
        ".m4a",
        ".zip",
    }
)


def _log(*, acting_user: Any, lesson: Lesson, attachment: HomeworkAttachment, old: str, new: str) -> None:
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
def attach_homework_file(*, acting_user: Any, lesson: Lesson, upload: UploadedFile) -> HomeworkAttachment:
    """Attach a file to the lesson's homework: the lesson's teacher only; size and type limited."""
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this lesson may attach files."))
    name = PurePath((upload.name or "").replace("\\", "/")).name.strip()[:200]
    if not name:
        raise DomainError(_("Choose a file."), field="file")
    if PurePath(name).suffix.lower() not in ALLOWED_EXTENSIONS:
        raise DomainError(
            _("Files of this type cannot be attached. Allowed: %(types)s.")
            % {"types": ", ".join(sorted(ALLOWED_EXTENSIONS))},
            field="file",
        )
    if not upload.size or upload.size > MAX_SIZE:
        raise DomainError(_("A file must be between 1 byte and 10 MB."), field="file")
    if lesson.attachments.filter(removed_at__isnull=True).count() >= MAX_FILES_PER_LESSON:
        raise DomainError(_("A lesson may have at most 10 homework files."), field="file")
    attachment = HomeworkAttachment(
        school_id=lesson.school_id,
        lesson=lesson,
        original_name=name,
        size=upload.size,
        content_type=(upload.content_type or "")[:100],
        uploaded_by=acting_user,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    _log(acting_user=acting_user, lesson=lesson, attachment=attachment, old="", new=f"+ {name}")
    return attachment


@transaction.atomic
def remove_homework_file(*, acting_user: Any, attachment: HomeworkAttachment) -> HomeworkAttachment:
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
