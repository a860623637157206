"""The journal pages: the index of journals, the grid and its endpoints (R1.4, R2.1-R2.3, R2.8).

Thin: check access through ``classbook.access``, read through ``queries``, write through ``services``.
The JSON endpoints answer with the API's error shape ``{"error": {"code", "message", ...}}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access.context import SchoolContext, resolve_school
from classbook.access.journal import (
    can_remark,
    may_correct_with,
    may_edit_journal,
    may_edit_lesson,
    may_keep_journal_offline,
    may_open_journals,
    may_read_assignment,
)
from classbook.access.journal import period_grades as journal_period_grades
from classbook.access.scopes import get_or_404
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.offline import mark_keepable, offline_key
from classbook.core.params import is_whole_number
from classbook.journal import queries, services
from classbook.journal.grid import Grid, read_grid
from classbook.journal.models import GradeKind, Lesson
from classbook.journal.rules import feedback_data, policy_or_default
from classbook.people.models import Student
from classbook.schools.models import TeachingAssignment


def error_json(status: int, code: str, message: Any, **extra: Any) -> JsonResponse:
    """The API's error body (classbook.api.errors.error_body) without importing the API layer."""
    body: dict[str, Any] = {"code": code, "message": str(message)}
    body.update(extra)
    return JsonResponse({"error": body}, status=status)


def _may_open_journals(ctx: SchoolContext) -> bool:
    """Staff and control roles open journals; students and parents have the diary instead (R1.3, R1.4)."""
    return may_open_journals(ctx)


def journal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages under ``/s/<school>/journal/``: login, school role, journal roles (403 for students/parents)."""

    @wraps(view)
    def wrapper(request: HttpRequest, school: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        ctx = resolve_school(request.user, school)
        if not _may_open_journals(ctx):
            raise PermissionDenied
        request.school_ctx = ctx  # type: ignore[attr-defined]
        return view(request, ctx, *args, **kwargs)

    return wrapper


def json_journal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like ``journal_view`` for endpoints the grid's script calls: errors come back as JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, school: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return error_json(401, "unauthorized", _("Your session has ended. Log in again."))
        try:
            ctx = resolve_school(request.user, school)
            if not _may_open_journals(ctx):
                return error_json(403, "forbidden", _("You may not do this."))
            request.school_ctx = ctx  # type: ignore[attr-defined]
            return view(request, ctx, *args, **kwargs)
        except Http404:
            return error_json(404, "not_found", _("Not found."))
        except PermissionDenied:
            return error_json(403, "forbidden", _("You may not do this."))

    return wrapper


def _assignment(ctx: SchoolContext, assignment_id: int) -> TeachingAssignment:
    assignment = queries.readable_assignment(ctx, assignment_id)
    if assignment is None:
        raise Http404
    return assignment


# --- Index ----------------------------------------------------------------


@require_GET
@journal_view
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The journals the user may open, their own first (R1.4)."""
    entries = queries.journal_index(ctx)
    classes = sorted({(e.class_id, e.group.split(" / ")[0]) for e in entries}, key=lambda c: queries.alphabet_key(c[1]))
    teachers = sorted({(e.teacher_id, e.teacher) for e in entries}, key=lambda t: queries.alphabet_key(t[1]))
    subjects = sorted({(e.subject_id, e.subject) for e in entries}, key=lambda s: queries.alphabet_key(s[1]))
    chosen = {k: request.GET.get(k, "") for k in ("class", "teacher", "subject")}
    shown = [
        e
        for e in entries
        if (not chosen["class"] or str(e.class_id) == chosen["class"])
        and (not chosen["teacher"] or str(e.teacher_id) == chosen["teacher"])
        and (not chosen["subject"] or str(e.subject_id) == chosen["subject"])
    ]
    return render(
        request,
        "journal/index.html",
        {
            "entries": shown,
            "filters": {"classes": classes, "teachers": teachers, "subjects": subjects},
            "chosen": chosen,
            "show_filters": len(entries) > 8 or any(chosen.values()),
        },
    )


# --- Grid -----------------------------------------------------------------


@require_GET
@journal_view
def grid(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    """Students × dated lessons of one study period, period grades, accumulation, lesson part (R2.1-R2.8)."""
    assignment = _assignment(ctx, assignment_id)
    # Work columns asked for with "Add a column" (a lesson and a work type), kept in the address.
    added = list(zip(request.GET.getlist("add_lesson"), request.GET.getlist("add_wt"), strict=False))
    data = read_grid(
        ctx,
        assignment,
        period_id=request.GET.get("period"),
        all_lessons=request.GET.get("lessons") == "all",
        add_columns=added,
        new_theme=request.GET.get("theme", ""),
    )
    all_lessons_url = f"?period={data.period.id or ''}&lessons=all"
    # Control: remarks and corrected grades, for the administration only (teachers pay no query).
    may_control = can_remark(ctx)
    correctable: list[tuple[int, str, str]] = []
    corrects = may_control and data.period.id is not None
    if corrects and may_correct_with(ctx, policy_or_default(ctx.school.pk).correction_roles()):
        col = next(i for i, c in enumerate(data.period_columns) if c.kind == GradeKind.PERIOD)
        correctable = [(r.id, r.name, r.period_cells[col].value) for r in data.rows if r.period_cells[col].value]
    strings = {
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "error": _("Not saved"),
        "conflict": _("Changed by somebody else"),
        "network": _("No connection to the server. The value was not saved."),
        "session": _("Your session has ended. Log in again, then re-enter the value."),
        "readonly": _("This cell cannot be changed."),
        "late": _("Entered after the deadline"),
        "left": _("Left the class"),
        "editor": _("Mark or attendance code"),
        # Period grades lock on save (R2.7): the grid asks before the first save of one.
        "lockPeriod": _("After this it can be changed only by a recorded correction. Save?"),
        "lockFinal": _("After this it cannot be changed. Save?"),
        "kept": _("Not replaced: the cell keeps what it held."),
    }
    keep = may_keep_journal_offline(ctx, assignment)
    response = render(
        request,
        "journal/grid.html",
        {
            "assignment": assignment,
            "grid": data,
            "remarks": queries.open_remarks(assignment),
            "today": timezone.localdate(),
            # One reverse() for the hundred lesson forms: the lesson id is appended in the template.
            "all_lessons_url": all_lessons_url,
            "can_remark": may_control and can_remark(ctx),
            "can_fix_remarks": may_edit_journal(ctx, assignment),
            "correctable": correctable,
            "added_columns": added,
            "addable_lessons": [lesson for lesson in data.lessons if lesson.editable and not lesson.cancelled],
            "lesson_url_base": reverse("journal:save_lesson", args=[ctx.school.slug, assignment.pk, 0])[:-2],
            "config": {
                "saveUrl": reverse("journal:save_cell", args=[ctx.school.slug, assignment.pk]),
                "periodId": data.period.id,
                "historyUrl": reverse("journal:history", args=[ctx.school.slug, assignment.pk]),
                "allLessonsUrl": all_lessons_url,
                "attendanceCodes": [c.code for c in data.attendance_codes],
                "required": data.required,
                # After "Add a column" the keyboard starts in the new column.
                "focus": _focus_column(data, added, request.GET.get("theme", "")),
                "strings": strings,
                "offline": _offline_config(ctx, assignment) if keep else None,
            },
            "offline_as_of": timezone.now() if keep else None,
        },
    )
    if keep:  # the teacher's own journal: the service worker may keep it for offline work (issue 17)
        return mark_keepable(response, ctx.user.pk, ctx.school.offline_window_hours)
    return response


def _offline_config(ctx: SchoolContext, assignment: TeachingAssignment) -> dict[str, Any]:
    """What the grid's offline queue needs (docs/offline.md): where to send it, whose it is, its texts."""
    return {
        "syncUrl": reverse("api-v1:offline_sync", args=[ctx.school.slug]),
        "key": offline_key(ctx.user.pk),
        "assignment": assignment.pk,
        "windowHours": ctx.school.offline_window_hours,
        "strings": {
            "offline": _("Offline. Entries are kept on this device and sent when the connection returns."),
            "pending": _("Entered offline, not sent yet"),
            "sending": _("Sending the entries made offline…"),
            "sent": _("The entries made offline are saved."),
            "conflicts": _("Changed by somebody else while you were offline: choose what stays."),
            "refused": _("Not accepted by the journal: print the list and enter them again or give it to the office."),
            "yours": _("Yours"),
            "current": _("Now in the journal"),
            "keepMine": _("Keep mine"),
            "keepCurrent": _("Keep the current one"),
            "exportTitle": _("Journal entries made offline and not saved"),
            "student": _("Student"),
            "lesson": _("Lesson"),
            "entry": _("Entry"),
            "enteredAt": _("Entered at"),
            "reason": _("Reason"),
            "session": _("Your session has ended. Log in again: the entries made offline stay on this device."),
        },
    }


def _focus_column(data: Grid, added: list[tuple[str, str]], theme: str) -> dict[str, Any] | None:
    """The column just added, if the grid shows it (ids as the grid knows them, never raw input)."""
    if theme.strip() and data.period_editable:
        ordinals = [c.ordinal for c in data.period_columns if c.kind == GradeKind.THEMATIC]
        if ordinals:
            return {"k": GradeKind.THEMATIC.value, "o": max(ordinals)}
    shown = {(c.lesson.id, c.work_type_id) for c in data.columns if c.work_type_id is not None}
    for lesson_id, wt_id in reversed(added):
        if (is_whole_number(lesson_id) and is_whole_number(wt_id)) and (int(lesson_id), int(wt_id)) in shown:
            return {"l": int(lesson_id), "w": int(wt_id)}
    return None


@require_GET
@journal_view
def history(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    """The audit trail of one cell as an HTML fragment (loaded into the grid with htmx)."""
    assignment = _assignment(ctx, assignment_id)
    lesson = queries.assignment_lesson(assignment, request.GET.get("lesson"))
    student = queries.assignment_student(assignment, request.GET.get("student"))
    if lesson is None or student is None:
        raise Http404
    return render(
        request,
        "journal/_history.html",
        {
            "changes": queries.cell_history(assignment, lesson.pk, student.pk),
            "lesson": lesson,
            "student": student,
        },
    )


# --- Cell save ------------------------------------------------------------


def _parse_version(token: str) -> tuple[int, int]:
    try:
        mark, _sep, att = (token or "0.0").partition(".")
        return max(int(mark or 0), 0), max(int(att or 0), 0)
    except ValueError:
        raise DomainError(_("The page is out of date. Reload it."), code="bad_version") from None


def _wants_replace(request: HttpRequest) -> bool:
    """The teacher confirmed that the typed entry replaces the other one in the cell (issue 10)."""
    return request.POST.get("replace", "") in {"1", "true", "on"}


def _cell_error(exc: DomainError) -> JsonResponse:
    """A refused cell save as the API's error body: 403, or 422 with the field and what the cell holds."""
    if isinstance(exc, PermissionDeniedError):
        return error_json(403, "forbidden", exc.message)
    return error_json(422, exc.code, exc.message, fields={"value": [str(exc.message)]}, **getattr(exc, "extra", {}))


class _Refused(Exception):
    """The answer refusing a save before the service checks the cell (no such lesson, not the user's to edit)."""

    def __init__(self, response: JsonResponse) -> None:
        super().__init__()
        self.response = response


def _save_lesson_cell(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> JsonResponse:
    """A lesson cell typed in the grid: an attendance code, a mark or nothing, through ``write_grid_lesson_cell``.

    The service owns every rule (one entry per cell, cancelled and future lessons, the period lock, …);
    it reads the lesson with the cell in one query, and this view decides on what it read: 404 if the user
    may not read the journal (``may_read_assignment``, as ``queries.readable_lesson``) or the lesson is not
    of it, 403 if not theirs to edit. The answer is what the cell holds after the write, not read again.
    """
    student_id = request.POST.get("student", "")
    try:
        lesson_id = int(request.POST.get("lesson") or "")
    except ValueError:
        lesson_id = None
    ids = (lesson_id, assignment_id, int(student_id) if is_whole_number(student_id) else None)
    if lesson_id is None or any(pk is None or not 0 < pk < 2**63 for pk in ids):  # no such row, no overflow
        return error_json(404, "not_found", _("Not found."))
    student = Student(pk=int(student_id), school_id=ctx.school.pk)
    try:
        mark_version, att_version = _parse_version(request.POST.get("version", ""))
        bad_version = None
    except DomainError as exc:
        mark_version = att_version = 0
        bad_version = exc
    read: list[Lesson] = []

    def admit(lesson: Lesson | None) -> None:
        if lesson is None or not may_read_assignment(ctx, lesson.assignment):
            raise _Refused(error_json(404, "not_found", _("Not found.")))
        read.append(lesson)
        if not may_edit_lesson(ctx, lesson):
            raise _Refused(error_json(403, "forbidden", _("Only the teacher of this lesson may change it.")))
        if bad_version is not None:
            raise bad_version

    try:
        lesson, cell = services.write_grid_lesson_cell(
            acting_user=ctx.user,
            school=ctx.school,
            assignment_id=assignment_id,
            lesson_id=lesson_id,
            student=student,
            text=request.POST.get("value") or "",
            mark_version=mark_version,
            attendance_version=att_version,
            replace=_wants_replace(request),
            admit=admit,
        )
    except _Refused as refused:
        return refused.response
    except ConflictError as exc:
        lesson = read[0]
        state = queries.cell_state(lesson, student.pk, getattr(lesson.assignment, "default_work_type_id", None))
        return error_json(
            409, "conflict", exc.message, current={"value": state.value, "version": state.version, "late": state.late}
        )
    except DomainError as exc:
        return _cell_error(exc)
    return JsonResponse(
        {
            "value": cell.value,
            "version": cell.version,
            "late": cell.late,
            "row": queries.student_period_stats(lesson.assignment, student.pk, lesson.date, ctx.school),
        }
    )


def _save_period_cell(request: HttpRequest, ctx: SchoolContext, assignment: TeachingAssignment) -> JsonResponse:
    """A thematic, period, annual or exam grade typed in the grid (R2.5); locked once set (R2.7)."""
    student = queries.assignment_student(assignment, request.POST.get("student"))
    period = queries.assignment_period(assignment, request.POST.get("period"))
    if student is None or period is None:
        return error_json(404, "not_found", _("Not found."))
    if not may_edit_journal(ctx, assignment):
        return error_json(403, "forbidden", _("Only the teacher of this class and subject may set its grades."))
    try:
        ordinal = int(request.POST.get("ordinal") or 0)
        version = int(request.POST.get("version") or 0)
    except ValueError:
        return error_json(422, "bad_version", _("The page is out of date. Reload it."))
    try:
        grade = services.record_period_grade(
            acting_user=ctx.user,
            assignment=assignment,
            student=student,
            period=period,
            kind=request.POST.get("grade_kind", ""),
            text=(request.POST.get("value") or "").strip(),
            expected_version=version,
            ordinal=ordinal,
            title=(request.POST.get("title") or "").strip(),
        )
    except ConflictError as exc:
        return error_json(409, "conflict", exc.message, **getattr(exc, "extra", {}))
    except DomainError as exc:
        return _cell_error(exc)
    # The school's rules on the grade (issue 10): "warnings" (saved anyway) and an annual grade's "basis".
    return JsonResponse({"value": grade.value.code, "version": grade.version, "late": False, **feedback_data(grade)})


def _save_work_cell(request: HttpRequest, ctx: SchoolContext, lesson: Lesson) -> JsonResponse:
    """The mark of another work type at a lesson (a control work …), typed into its work column (R2.1).

    The scale, the work type's weight and every cell rule apply as for every mark (``record_mark``);
    only the school's active work types are written, and one mark per work type and lesson (slot 0).
    """
    assignment = lesson.assignment
    student_id = request.POST.get("student", "")
    work_type = queries.active_work_type(assignment.school_id, request.POST.get("work_type"))
    if not is_whole_number(student_id):
        return error_json(404, "not_found", _("Not found."))
    if not may_edit_lesson(ctx, lesson):
        return error_json(403, "forbidden", _("Only the teacher of this lesson may change it."))
    if work_type is None:
        return error_json(422, "invalid_work_type", _("This work type is not in use."))
    student = Student(pk=int(student_id), school_id=assignment.school_id)
    try:
        version = int(request.POST.get("version") or 0)
    except ValueError:
        return error_json(422, "bad_version", _("The page is out of date. Reload it."))
    text = (request.POST.get("value") or "").strip()
    state = {"value": "", "version": 0, "late": False}
    try:
        if text or version:
            mark = services.record_mark(
                acting_user=ctx.user,
                lesson=lesson,
                student=student,
                text=text,
                expected_version=version,
                work_type=work_type,
                replace=_wants_replace(request),
            )
            state = {"value": mark.value.code if mark.value else "", "version": mark.version, "late": mark.is_late}
    except ConflictError as exc:
        current = getattr(exc, "current", None)
        return error_json(
            409,
            "conflict",
            exc.message,
            current={"value": current.value, "version": current.version, "late": False} if current else None,
        )
    except DomainError as exc:
        return _cell_error(exc)
    return JsonResponse({**state, "row": queries.student_period_stats(assignment, student.pk, lesson.date, ctx.school)})


# Which cells the grid saves through this endpoint. Corrected grades are not typed in the grid:
# they are recorded with a reason and an order (``correct_grade``).
LESSON_CELL_KINDS: dict[str, Callable[[HttpRequest, SchoolContext, Lesson], JsonResponse]] = {
    "work": _save_work_cell,
}
CELL_KINDS: dict[str, Callable[[HttpRequest, SchoolContext, TeachingAssignment], JsonResponse]] = {
    "period": _save_period_cell,
}


@require_POST
@json_journal_view
def save_cell(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    """Save one grid cell as typed; JSON ``{value, version, late}``, 409 on a stale version, 422 on bad input.

    A lesson's cell reads its lesson and journal with the cell (``_save_lesson_cell``), a work column's in one
    query of their own (``readable_lesson``): 404 if the user may not read the journal or the lesson is not of it.
    """
    kind = request.POST.get("kind") or "lesson"
    if kind == "lesson":  # the lesson is read with the cell, in the cell's query
        return _save_lesson_cell(request, ctx, assignment_id)
    if kind in LESSON_CELL_KINDS:
        lesson = queries.readable_lesson(ctx, assignment_id, request.POST.get("lesson"))
        if lesson is None:
            return error_json(404, "not_found", _("Not found."))
        return LESSON_CELL_KINDS[kind](request, ctx, lesson)
    handler = CELL_KINDS.get(kind)
    if handler is None:
        _assignment(ctx, assignment_id)
        return error_json(422, "invalid", _("This cell cannot be changed."))
    return handler(request, ctx, _assignment(ctx, assignment_id))


# --- Lesson part ----------------------------------------------------------


def _lesson_changes(post: Any) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("topic", "homework", "lesson_type"):
        if name in post:
            changes[name] = post.get(name, "").strip()
    if "homework_due" in post:
        raw = post.get("homework_due", "").strip()
        try:
            due = parse_date(raw) if raw else None
        except ValueError:
            due = None
        if raw and due is None:
            raise DomainError(_("Enter a valid date."), field="homework_due")
        changes["homework_due"] = due
    if "number" in post:
        raw = post.get("number", "").strip()
        if raw and not is_whole_number(raw):
            raise DomainError(_("Enter a whole number."), field="number")
        changes["number"] = int(raw) if raw else None
    if "homework" in changes and not changes["homework"] and changes.get("homework_due"):
        # The lesson form always carries a due date (the next lesson's, issue 14): without homework it means
        # nothing, so it is not stored; the homework's own due date is kept until the homework is cleared.
        del changes["homework_due"]
    return changes


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@json_journal_view
def save_lesson(request: HttpRequest, ctx: SchoolContext, assignment_id: int, lesson_id: int) -> HttpResponse:
    """Change a lesson's topic, type, homework and due date (R2.1, R2.3) with the version the page saw."""
    assignment = _assignment(ctx, assignment_id)
    lesson = queries.assignment_lesson(assignment, lesson_id)
    if lesson is None:
        return error_json(404, "not_found", _("Not found."))
    if not may_edit_lesson(ctx, lesson):
        return error_json(403, "forbidden", _("Only the teacher of this lesson may change it."))
    grid_url = reverse("journal:grid", args=[ctx.school.slug, assignment.pk])
    back = f"{grid_url}?period={queries.period_of(assignment, lesson.date) or ''}#lesson-{lesson.pk}"
    try:
        version = int(request.POST.get("version", ""))
        updated = services.update_lesson(
            acting_user=ctx.user, lesson_id=lesson.pk, expected_version=version, **_lesson_changes(request.POST)
        )
    except ValueError:
        failure: tuple[int, str, Any, dict[str, Any]] = (
            422,
            "bad_version",
            _("The page is out of date. Reload it."),
            {},
        )
    except ConflictError as exc:
        failure = (409, "conflict", exc.message, {"current": _lesson_json(queries.lesson_state(lesson.pk))})
    except PermissionDeniedError as exc:
        failure = (403, "forbidden", exc.message, {})
    except DomainError as exc:
        failure = (422, exc.code, exc.message, {"fields": {exc.field or "__all__": [str(exc.message)]}})
    else:
        if _wants_json(request):
            return JsonResponse(_lesson_json(queries.lesson_state(updated.pk)))
        messages.success(request, _("The lesson is saved."))
        return redirect(back)
    status, code, message, extra = failure
    if _wants_json(request):
        return error_json(status, code, message, **extra)
    messages.error(request, str(message))
    return redirect(back)


@require_POST
@json_journal_view
def take_register(request: HttpRequest, ctx: SchoolContext, assignment_id: int, lesson_id: int) -> HttpResponse:
    """Record that attendance was taken, so "nobody absent" differs from "not taken" (R2.8)."""
    assignment = _assignment(ctx, assignment_id)
    lesson = queries.assignment_lesson(assignment, lesson_id)
    if lesson is None:
        return error_json(404, "not_found", _("Not found."))
    if not may_edit_lesson(ctx, lesson):
        return error_json(403, "forbidden", _("Only the teacher of this lesson may change it."))
    grid_url = reverse("journal:grid", args=[ctx.school.slug, assignment.pk])
    back = f"{grid_url}?period={queries.period_of(assignment, lesson.date) or ''}#lesson-{lesson.pk}"
    try:
        services.take_register(acting_user=ctx.user, lesson=lesson)
    except DomainError as exc:
        status = 403 if isinstance(exc, PermissionDeniedError) else 422
        if _wants_json(request):
            return error_json(status, exc.code, exc.message)
        messages.error(request, str(exc.message))
        return redirect(back)
    if _wants_json(request):
        return JsonResponse({"register_taken": True, "message": _("Register taken")})
    messages.success(request, _("Register taken"))
    return redirect(back)


def _lesson_json(state: Mapping[str, Any] | None) -> dict[str, Any]:
    if state is None:
        return {}
    due = state["homework_due"]
    return {**state, "homework_due": due.isoformat() if due else "", "number": state["number"] or ""}


@require_POST
@journal_view
def add_lesson(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    """Add a lesson by hand (R2.1): only the assignment's teacher."""
    assignment = _assignment(ctx, assignment_id)
    if not may_edit_journal(ctx, assignment):
        raise PermissionDenied
    grid_url = reverse("journal:grid", args=[ctx.school.slug, assignment.pk])
    try:
        date = parse_date(request.POST.get("date", "").strip())
    except ValueError:
        date = None
    if date is None:
        messages.error(request, _("Enter the date of the lesson."))
        return redirect(grid_url)
    number_raw = request.POST.get("number", "").strip()
    try:
        lesson = services.create_lesson(
            acting_user=ctx.user,
            assignment=assignment,
            date=date,
            number=int(number_raw) if is_whole_number(number_raw) else None,
            topic=request.POST.get("topic", "").strip(),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(grid_url)
    messages.success(request, _("The lesson of %(date)s is added.") % {"date": date.strftime("%d.%m.%Y")})
    return redirect(f"{grid_url}?period={queries.period_of(assignment, lesson.date) or ''}#lesson-{lesson.pk}")


# --- Grade correction -----------------------------------------------------


@require_POST
@journal_view
def correct_grade(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    """Record a corrected period grade with its reason and order (R2.7); the service checks role and window."""
    assignment = _assignment(ctx, assignment_id)
    period = queries.assignment_period(assignment, request.POST.get("period"))
    student = queries.assignment_student(assignment, request.POST.get("student"))
    if period is None or student is None:
        raise Http404
    grade = get_or_404(
        journal_period_grades(ctx).filter(assignment=assignment, period=period, kind=GradeKind.PERIOD),
        student_id=student.pk,
        ordinal=0,
    )
    back = f"{reverse('journal:grid', args=[ctx.school.slug, assignment.pk])}?period={period.pk}"
    if not may_correct_with(ctx, policy_or_default(ctx.school.pk).correction_roles()):
        raise PermissionDenied
    try:
        services.correct_period_grade(
            acting_user=ctx.user,
            grade=grade,
            text=(request.POST.get("value") or "").strip(),
            reason=request.POST.get("reason", ""),
            order_ref=request.POST.get("order_ref", ""),
        )
    except PermissionDeniedError:
        raise PermissionDenied from None
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The corrected grade is recorded."))
    return redirect(back)
