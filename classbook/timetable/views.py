"""Timetable pages (R4.1, R4.2): class, teacher, room and own timetables by day and week, the deputy's
editing grid and lesson generation, lesson changes and their monthly journal with CSV export, bells,
and the private iCalendar feed."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from classbook.access import timetable as scopes
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import directory, get_or_404
from classbook.core.collation import name_order
from classbook.core.errors import DomainError
from classbook.core.exports import safe_cell
from classbook.core.params import is_whole_number
from classbook.schools.models import StudyPeriod
from classbook.timetable import ical, queries, services
from classbook.timetable.forms import (
    BellForm,
    ChangeEntryForm,
    EntryForm,
    GenerateForm,
    LessonChangeForm,
    RemoveForm,
    ScheduleForm,
)
from classbook.timetable.models import Weekday

FEED_WEEKS = 6


def _day_param(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


def _week(
    request: HttpRequest,
    ctx: SchoolContext,
    *,
    title: str,
    entry_filter: Q,
    extra: Q | None = None,
    manual_lessons: bool = True,
) -> HttpResponse:
    day = _day_param(request)
    mode = "day" if request.GET.get("view") == "day" else "week"
    if mode == "day":
        start = end = day
        prev_day, next_day = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    else:
        start = queries.week_start(day)
        end = start + dt.timedelta(days=5)
        prev_day, next_day = start - dt.timedelta(days=7), start + dt.timedelta(days=7)
    days = queries.timetable(
        ctx, start=start, end=end, entry_filter=entry_filter, extra_changes=extra, manual_lessons=manual_lessons
    )
    return render(
        request,
        "timetable/week.html",
        {
            "ctx": ctx,
            "title": title,
            "days": days,
            "mode": mode,
            "day": day,
            "prev_day": prev_day,
            "next_day": next_day,
            "can_manage": scopes.can_manage(ctx),
        },
    )


@school_view()
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The user's own timetable when they have exactly one; otherwise the list of timetables they may open."""
    mine = queries.my_views(ctx)
    if len(mine) == 1 and not scopes.reads_whole_school(ctx):
        label, entry_filter, extra = mine[0]
        return _week(
            request, ctx, title=_("Timetable: %(name)s") % {"name": label}, entry_filter=entry_filter, extra=extra
        )
    return render(
        request,
        "timetable/index.html",
        {
            "ctx": ctx,
            "children": scopes.timetable_students(ctx).filter(
                pk__in={*ctx.child_student_ids, *([ctx.own_student_id] if ctx.own_student_id else [])}
            ),
            "classes": scopes.timetable_classes(ctx).filter(year__is_current=True),
            "teachers": scopes.timetable_teachers(ctx).order_by(*name_order()),
            "rooms": scopes.timetable_rooms(ctx),
            "is_teacher": scopes.reads_own_teaching(ctx),
            "can_manage": scopes.can_manage(ctx),
        },
    )


@school_view()
def my_timetable(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    mine = queries.my_views(ctx)
    if not mine:
        raise Http404
    label, entry_filter, extra = mine[0]
    return _week(request, ctx, title=_("Timetable: %(name)s") % {"name": label}, entry_filter=entry_filter, extra=extra)


@school_view()
def class_timetable(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    school_class = get_or_404(scopes.timetable_classes(ctx), pk=class_id)
    return _week(
        request,
        ctx,
        title=_("Timetable of %(name)s") % {"name": school_class},
        entry_filter=Q(assignment__school_class=school_class),
    )


@school_view()
def teacher_timetable(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    teacher = get_or_404(scopes.timetable_teachers(ctx), pk=user_id)
    return _week(
        request,
        ctx,
        title=_("Timetable: %(name)s") % {"name": teacher.short_name},
        entry_filter=Q(assignment__teacher=teacher),
        extra=Q(substitute=teacher),
    )


@school_view()
def room_timetable(request: HttpRequest, ctx: SchoolContext, room_id: int) -> HttpResponse:
    room = get_or_404(scopes.timetable_rooms(ctx), pk=room_id)
    # Lessons added by hand have no room, so the room view shows the timetable's lessons only.
    return _week(
        request, ctx, title=_("Room %(name)s") % {"name": room}, entry_filter=Q(room=room), manual_lessons=False
    )


@school_view()
def student_timetable(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    student = get_or_404(scopes.timetable_students(ctx), pk=student_id)
    return _week(
        request,
        ctx,
        title=_("Timetable: %(name)s") % {"name": student.user.short_name},
        entry_filter=queries.student_filter(student.pk),
    )


# --- Editing (deputy) -----------------------------------------------------------------


def _grid_context(
    ctx: SchoolContext, school_class: Any, form: EntryForm | None = None, error: str = "", notice: str = ""
) -> dict[str, Any]:
    today = timezone.localdate()
    grid = queries.entries_grid(ctx, class_id=school_class.pk, on=today)
    numbers = queries.bell_numbers(ctx)
    assignments = scopes.editable_assignments(ctx).filter(school_class=school_class)
    rows = [
        (number, [(weekday, grid.get((weekday, number), [])) for weekday, _label in Weekday.choices])
        for number in numbers
    ]
    return {
        "ctx": ctx,
        "school_class": school_class,
        "weekdays": Weekday.choices,
        "rows": rows,
        "form": form or EntryForm(assignments=assignments, rooms=scopes.timetable_rooms(ctx)),
        "error": error,
        "notice": notice,
    }


@school_view(rule=scopes.may_manage_timetable)
def edit_class(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    school_class = get_or_404(scopes.timetable_classes(ctx), pk=class_id)
    return render(request, "timetable/edit.html", _grid_context(ctx, school_class))


def _grid_response(request: HttpRequest, ctx: SchoolContext, school_class: Any, **extra: Any) -> HttpResponse:
    template = "timetable/_grid.html" if request.headers.get("HX-Request") else "timetable/edit.html"
    status = 422 if extra.get("error") and not request.headers.get("HX-Request") else 200
    return render(request, template, _grid_context(ctx, school_class, **extra), status=status)


@require_POST
@school_view(rule=scopes.may_manage_timetable)
def add_entry(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    school_class = get_or_404(scopes.timetable_classes(ctx), pk=class_id)
    assignments = scopes.editable_assignments(ctx).filter(school_class=school_class)
    rooms = scopes.timetable_rooms(ctx)
    form = EntryForm(request.POST, assignments=assignments, rooms=rooms)
    if not form.is_valid():
        return _grid_response(request, ctx, school_class, form=form, error=_("Check the fields of the entry."))
    data = form.cleaned_data
    try:
        services.add_entry(
            acting_user=ctx.user,
            assignment=get_or_404(assignments, pk=data["assignment"]),
            weekday=data["weekday"],
            number=data["number"],
            room=get_or_404(rooms, pk=data["room"]) if data["room"] else None,
            parity=data["parity"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
        )
    except DomainError as exc:
        return _grid_response(request, ctx, school_class, form=form, error=str(exc.message))
    return _grid_response(request, ctx, school_class)


@require_POST
@school_view(rule=scopes.may_manage_timetable)
def remove_entry(request: HttpRequest, ctx: SchoolContext, entry_id: int) -> HttpResponse:
    entry = get_or_404(scopes.editable_entries(ctx).select_related("assignment__school_class"), pk=entry_id)
    form = RemoveForm(request.POST)
    # From today unless told otherwise: lessons already past stay in the journal as they were.
    from_date = (form.cleaned_data["from_date"] if form.is_valid() else None) or timezone.localdate()
    result = services.remove_entry(acting_user=ctx.user, entry=entry, from_date=from_date)
    return _grid_response(request, ctx, entry.assignment.school_class, notice=_regeneration_notice(result))


def _regeneration_notice(result: services.RegenerationResult) -> str:
    notice = _("Lessons created: %(created)s; removed: %(removed)s.") % {
        "created": result.created,
        "removed": result.removed,
    }
    if result.kept:
        kept = ", ".join(f"{lesson.date:%d.%m} ({lesson.number})" for lesson in result.kept[:20])
        notice += " " + _("%(count)s lessons were kept because they have data: %(lessons)s.") % {
            "count": len(result.kept),
            "lessons": kept,
        }
    return notice


@school_view(rule=scopes.may_manage_timetable)
def change_entry(request: HttpRequest, ctx: SchoolContext, entry_id: int) -> HttpResponse:
    """GET: the inline form to change an entry from a date; POST: apply it and show the grid again."""
    entry = get_or_404(
        scopes.editable_entries(ctx).select_related("assignment__school_class", "assignment__subject"), pk=entry_id
    )
    rooms = scopes.timetable_rooms(ctx)
    initial = {
        "from_date": max(timezone.localdate(), entry.valid_from),
        "weekday": entry.weekday,
        "number": entry.number,
        "room": entry.room_id,
        "parity": entry.parity,
    }
    form = ChangeEntryForm(request.POST or None, initial=initial, rooms=rooms)
    if request.method == "POST":
        if not form.is_valid():
            return _grid_response(
                request, ctx, entry.assignment.school_class, error=_("Check the fields of the change.")
            )
        data = form.cleaned_data
        try:
            result = services.change_entry(
                acting_user=ctx.user,
                entry=entry,
                from_date=data["from_date"],
                weekday=data["weekday"],
                number=data["number"],
                room=get_or_404(rooms, pk=data["room"]) if data["room"] else None,
                parity=data["parity"],
            )
        except DomainError as exc:
            return _grid_response(request, ctx, entry.assignment.school_class, error=str(exc.message))
        return _grid_response(request, ctx, entry.assignment.school_class, notice=_regeneration_notice(result))
    return render(request, "timetable/_change_entry.html", {"ctx": ctx, "entry": entry, "form": form})


@school_view(rule=scopes.may_manage_timetable)
def generate(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Generate the lessons of a period from the timetable and show what was created, kept and skipped."""
    form = GenerateForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.generate_lessons(
                acting_user=ctx.user,
                school=ctx.school,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
    periods = directory(ctx, StudyPeriod).filter(year__is_current=True).order_by("start", "-end")
    return render(
        request,
        "timetable/generate.html",
        {"ctx": ctx, "form": form, "result": result, "periods": periods},
        status=422 if form.errors else 200,
    )


@school_view(rule=scopes.may_manage_timetable)
def bells(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    schedules = list(scopes.bell_schedules(ctx))
    bell_form = BellForm(request.POST if "number" in request.POST else None)
    bell_form.fields["schedule"].choices = [(s.pk, s.name) for s in schedules]  # type: ignore[attr-defined]
    schedule_form = ScheduleForm(request.POST if "name" in request.POST else None)
    if request.method == "POST":
        try:
            if "number" in request.POST and bell_form.is_valid():
                data = bell_form.cleaned_data
                schedule = next(s for s in schedules if s.pk == data["schedule"])
                services.set_bell(
                    acting_user=ctx.user,
                    schedule=schedule,
                    number=data["number"],
                    start=data["start"],
                    end=data["end"],
                )
                return redirect("timetable:bells", school=ctx.school.slug)
            if "name" in request.POST and schedule_form.is_valid():
                services.create_bell_schedule(
                    acting_user=ctx.user,
                    school=ctx.school,
                    name=schedule_form.cleaned_data["name"],
                    is_default=schedule_form.cleaned_data["is_default"],
                )
                return redirect("timetable:bells", school=ctx.school.slug)
        except DomainError as exc:
            (bell_form if "number" in request.POST else schedule_form).add_error(None, str(exc.message))
    return render(
        request,
        "timetable/bells.html",
        {"ctx": ctx, "schedules": schedules, "bell_form": bell_form, "schedule_form": schedule_form},
        status=422 if request.method == "POST" else 200,
    )


# --- Lesson changes (R4.2) ---------------------------------------------------------------


@school_view(rule=scopes.may_manage_timetable)
def lesson_change(request: HttpRequest, ctx: SchoolContext, lesson_id: int) -> HttpResponse:
    lesson = get_or_404(
        scopes.lessons(ctx).select_related("assignment__subject", "assignment__school_class", "assignment__teacher"),
        pk=lesson_id,
    )
    same_time = (
        scopes.lessons(ctx)
        .filter(date=lesson.date, number=lesson.number)
        .exclude(assignment__school_class_id=lesson.assignment.school_class_id)
        .select_related("assignment__subject", "assignment__school_class")
    )
    merge_choices = [(m.pk, f"{m.assignment.school_class} — {m.assignment.subject}") for m in same_time]
    teachers = scopes.substitute_candidates(ctx).exclude(pk=lesson.assignment.teacher_id)
    form = LessonChangeForm(request.POST or None, teachers=teachers, merge_choices=merge_choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_lesson_change(
                acting_user=ctx.user,
                lesson=lesson,
                kind=data["kind"],
                reason=data["reason"],
                substitute=get_or_404(teachers, pk=data["substitute"]) if data["substitute"] else None,
                merged_with=get_or_404(same_time, pk=data["merged_with"]) if data["merged_with"] else None,
                new_date=data["new_date"],
                new_number=data["new_number"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The change of the lesson is recorded."))
            return redirect(
                reverse(
                    "timetable:class", kwargs={"school": ctx.school.slug, "class_id": lesson.assignment.school_class_id}
                )
                + f"?date={lesson.date.isoformat()}"
            )
    return render(
        request,
        "timetable/change_form.html",
        {"ctx": ctx, "lesson": lesson, "form": form},
        status=422 if form.errors else 200,
    )


def _month_param(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        return timezone.localdate().replace(day=1)


def _teacher_param(request: HttpRequest, ctx: SchoolContext) -> int | None:
    raw = request.GET.get("teacher", "")
    if not is_whole_number(raw):
        return None
    if not scopes.may_see_changes_of(ctx, int(raw)):
        raise Http404
    return int(raw)


@school_view(rule=scopes.may_open_lesson_changes)
def changes(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The journal of missed and substituted lessons for a month, with per-teacher counts (R4.2)."""
    month = _month_param(request)
    teacher_id = _teacher_param(request, ctx)
    rows, counts = queries.missed_and_substituted(ctx, month=month, teacher_id=teacher_id)
    return render(
        request,
        "timetable/changes.html",
        {
            "ctx": ctx,
            "rows": rows,
            "counts": counts,
            "month": month,
            "teacher_id": teacher_id,
            "teachers": scopes.timetable_teachers(ctx).order_by(*name_order())
            if scopes.reads_all_lesson_changes(ctx)
            else [],
        },
    )


@school_view(rule=scopes.may_open_lesson_changes)
def changes_csv(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    month = _month_param(request)
    rows, counts = queries.missed_and_substituted(ctx, month=month, teacher_id=_teacher_param(request, ctx))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="lesson-changes-{month:%Y-%m}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [_("Date"), _("Lesson"), _("Class"), _("Subject"), _("Teacher"), _("Change"), _("Substitute"), _("Reason")]
    )
    for row in rows:
        a = row.lesson.assignment
        writer.writerow(
            safe_cell(c)
            for c in [
                row.date.isoformat(),
                row.number or "",
                str(a.subgroup or a.school_class),
                str(a.subject),
                row.teacher.full_name,
                row.get_kind_display(),
                row.substitute.full_name if row.substitute else "",
                row.reason,
            ]
        )
    writer.writerow([])
    writer.writerow([_("Teacher"), _("Substituted for others"), _("Missed")])
    for count in counts:
        writer.writerow([safe_cell(count.name), count.substituted_for_others, count.missed])
    return response


# --- Calendar feed -------------------------------------------------------------------------


@school_view()
def calendar_feed_page(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Show how to subscribe; POST issues a new private URL (the old one stops working)."""
    url = ""
    if request.method == "POST":
        token = services.issue_calendar_token(acting_user=ctx.user)
        url = request.build_absolute_uri(reverse("timetable-ical", kwargs={"token": token}))
    return render(
        request,
        "timetable/calendar.html",
        {"ctx": ctx, "url": url, "has_feed": hasattr(request.user, "calendar_feed")},
    )


def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private iCalendar feed: the owner's lessons for the coming weeks; unknown token → 404."""
    user = queries.feed_owner(token)
    if user is None:
        raise Http404
    today = timezone.localdate()
    start = queries.week_start(today)
    events = queries.feed_events(user, start=start, end=start + dt.timedelta(weeks=FEED_WEEKS) - dt.timedelta(days=1))
    body = ical.calendar(events, name=_("Timetable"), now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=900"
    return response
