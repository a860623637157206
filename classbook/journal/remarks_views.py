"""Control of journal keeping (R6.10, R2.2): the deputy's remarks log and changes log, the teacher's open remarks.

Thin: rows come from ``classbook.access.journal`` scopes, writes go through ``services``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from classbook.access import journal as journal_access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import classes, get_or_404
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal import services
from classbook.journal.queries import changes_log_rows

PAGE_SIZE = 100


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@school_view(rule=journal_access.may_control_journals)
def remarks_log(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Every remark in the school, open or fixed, by teacher (R6.10)."""
    status = request.GET.get("status", "open")
    teacher_id = _int(request.GET.get("teacher"))
    remarks = journal_access.remarks(ctx)
    if status == "open":
        remarks = remarks.filter(fixed_at__isnull=True)
    elif status == "fixed":
        remarks = remarks.filter(fixed_at__isnull=False)
    else:
        status = "all"
    if teacher_id:
        remarks = remarks.filter(assignment__teacher_id=teacher_id)
    page = Paginator(remarks.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "journal/control/remarks.html",
        {
            "page": page,
            "status": status,
            "teacher_id": teacher_id,
            "teachers": journal_access.teachers_with_journals(ctx),
            "can_remark": journal_access.can_remark(ctx),
            "journals": journal_access.readable_assignments(ctx).order_by("school_class__name", "subject__name"),
        },
    )


@require_POST
@school_view(rule=journal_access.can_remark)
def add_remark(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """A remark on a journal, or on one lesson or cell of it when posted from the grid (R6.10)."""
    assignment = get_or_404(journal_access.readable_assignments(ctx), pk=_int(request.POST.get("assignment")))
    lesson_id, student_id = _int(request.POST.get("lesson")), _int(request.POST.get("student"))
    lesson = get_or_404(journal_access.lessons(ctx).filter(assignment=assignment), pk=lesson_id) if lesson_id else None
    student = get_or_404(journal_access.journal_students(ctx, assignment), pk=student_id) if student_id else None
    try:
        services.add_remark(
            acting_user=ctx.user,
            assignment=assignment,
            text=request.POST.get("text", ""),
            lesson=lesson,
            student=student,
        )
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The remark was sent to the teacher."))
    if request.POST.get("back") == "grid":
        return redirect("journal:grid", school=ctx.school.slug, assignment_id=assignment.pk)
    return redirect("control:remarks", school=ctx.school.slug)


@school_view(rule=journal_access.may_open_own_remarks)
def my_remarks(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The teacher's open remarks on their own journals, each to mark fixed (R6.10)."""
    remarks = (
        journal_access.remarks(ctx)
        .filter(assignment__teacher=ctx.user, fixed_at__isnull=True)
        .order_by("created_at", "id")[:500]
    )
    return render(request, "journal/control/my_remarks.html", {"remarks": remarks})


@require_POST
@school_view(staff=True, writes=True)
def fix_remark(request: HttpRequest, ctx: SchoolContext, remark_id: int) -> HttpResponse:
    remark = get_or_404(journal_access.remarks(ctx), pk=remark_id)
    try:
        services.fix_remark(acting_user=ctx.user, remark=remark, note=request.POST.get("note", ""))
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The remark is marked fixed."))
    if request.POST.get("back") == "grid":
        return redirect("journal:grid", school=ctx.school.slug, assignment_id=remark.assignment_id)
    return redirect("control:my_remarks", school=ctx.school.slug)


@school_view(rule=journal_access.may_control_journals)
def changes_log(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Every change in the school's journals, newest first; late entries visible to control (R2.2)."""
    teacher_id = _int(request.GET.get("teacher"))
    class_id = _int(request.GET.get("class"))
    day = _date(request.GET.get("date"))
    late_only = request.GET.get("late") == "1"
    changes = journal_access.journal_changes(ctx)
    if teacher_id:
        changes = changes.filter(assignment__teacher_id=teacher_id)
    if class_id:
        changes = changes.filter(assignment__school_class_id=class_id)
    if day:
        changes = changes.filter(lesson__date=day)
    if late_only:
        changes = changes.filter(is_late=True)
    page = Paginator(changes.order_by("-at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "journal/control/changes.html",
        {
            "page": page,
            "rows": changes_log_rows(list(page.object_list), ctx.school.pk),
            "teachers": journal_access.teachers_with_journals(ctx),
            "classes": classes(ctx),
            "teacher_id": teacher_id,
            "class_id": class_id,
            "day": day,
            "late_only": late_only,
        },
    )
