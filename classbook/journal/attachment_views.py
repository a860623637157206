"""Homework files of a lesson: the list fragment, upload, removal and download (R2.3, R5.7)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.journal import homework_files, may_edit_lesson, readable_assignments
from classbook.access.scopes import get_or_404
from classbook.core import uploads
from classbook.core.errors import DomainError
from classbook.journal import attachments, queries
from classbook.journal.models import Lesson


def _lesson(ctx: SchoolContext, assignment_id: int, lesson_id: int) -> Lesson:
    assignment = get_or_404(readable_assignments(ctx), pk=assignment_id)
    lesson = queries.assignment_lesson(assignment, lesson_id)
    if lesson is None:
        raise Http404
    return lesson


@require_GET
@school_view(staff=True)
def lesson_files(request: HttpRequest, ctx: SchoolContext, assignment_id: int, lesson_id: int) -> HttpResponse:
    lesson = _lesson(ctx, assignment_id, lesson_id)
    files = homework_files(ctx).filter(lesson=lesson)
    return render(
        request,
        "journal/_homework_files.html",
        {
            "lesson": lesson,
            "files": files,
            "editable": may_edit_lesson(ctx, lesson),
            "assignment_id": assignment_id,
            "policy": attachments.POLICY,
        },
    )


@require_POST
@school_view(staff=True, writes=True)
def upload(request: HttpRequest, ctx: SchoolContext, assignment_id: int, lesson_id: int) -> HttpResponse:
    lesson = _lesson(ctx, assignment_id, lesson_id)
    back = reverse("journal:grid", args=[ctx.school.slug, assignment_id]) + f"#lesson-{lesson.pk}"
    upload_file = request.FILES.get("file")
    try:
        if upload_file is None:
            raise DomainError(_("Choose a file."))
        attachments.attach_homework_file(acting_user=ctx.user, lesson=lesson, upload=upload_file)
    except DomainError as exc:  # PermissionDeniedError included
        messages.error(request, str(exc.message))
    return redirect(back)


@require_POST
@school_view(staff=True, writes=True)
def remove(request: HttpRequest, ctx: SchoolContext, assignment_id: int, file_id: int) -> HttpResponse:
    attachment = get_or_404(homework_files(ctx).filter(lesson__assignment_id=assignment_id), pk=file_id)
    try:
        attachments.remove_homework_file(acting_user=ctx.user, attachment=attachment)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect(reverse("journal:grid", args=[ctx.school.slug, assignment_id]) + f"#lesson-{attachment.lesson_id}")


@require_GET
@school_view()
def download(request: HttpRequest, ctx: SchoolContext, file_id: int) -> FileResponse:
    """Students and parents of the class download too (the diary links here); others get 404."""
    attachment = get_or_404(homework_files(ctx), pk=file_id)
    return uploads.file_response(attachment.file, name=attachment.original_name, mime=attachment.mime_type)
