"""Pages of absence reasons and flagged marks under ``/s/<school>/appeals/`` (R2.8, R2.11).

Thin: rows come from ``classbook.access.appeals`` scopes, writes go through ``appeals.services``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from classbook.access import appeals as scopes
from classbook.access import journal as journal_access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import directory, get_or_404
from classbook.appeals import queries, services
from classbook.appeals.forms import AbsenceReportForm, AnswerForm, DecisionForm, FlagForm, ReasonForm
from classbook.appeals.models import FlagStatus, ReportStatus
from classbook.core import uploads
from classbook.core.collation import name_order
from classbook.core.errors import DomainError
from classbook.journal.models import AbsenceReasonKind
from classbook.schools.models import SchoolClass, StudyPeriod

# The absences page shows at most a school year at once.
MAX_PAGE_DAYS = 400
# The lists show the newest decided rows after every open one.
DECIDED_LIMIT = 100
# A student or parent flags marks of the last weeks from the flags page.
FLAGGABLE_DAYS = 60


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _range(request: HttpRequest) -> tuple[dt.date, dt.date, str | None]:
    """The page's days: a week up to today by default; bad input falls back to it with a message."""
    today = timezone.localdate()
    default = (today - dt.timedelta(days=6), today)
    raw_start, raw_end = request.GET.get("from"), request.GET.get("to")
    start, end = _date(raw_start), _date(raw_end)
    if (raw_start and start is None) or (raw_end and end is None):
        return (*default, _("A date is not valid; the last week is shown."))
    start, end = start or default[0], end or default[1]
    if end < start:
        return (*default, _("The last day is before the first day; the last week is shown."))
    if (end - start).days > MAX_PAGE_DAYS:
        return (*default, _("Choose at most a school year; the last week is shown."))
    return start, end, None


def _absences_url(ctx: SchoolContext, class_id: int, start: dt.date, end: dt.date) -> str:
    query = urlencode({"class": class_id, "from": start.isoformat(), "to": end.isoformat()})
    return f"{reverse('appeals:absences', args=[ctx.school.slug])}?{query}"


def _form_error(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


@require_GET
@school_view(rule=scopes.may_open_absences)
def absences(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The class teacher's absences of a class over some days, with their reasons and a summary (R2.8)."""
    classes = list(scopes.absence_classes(ctx).order_by("year__start", "name"))
    if not classes:
        raise PermissionDenied
    class_id = _int(request.GET.get("class"))
    school_class = next((c for c in classes if c.pk == class_id), None)
    if class_id is not None and school_class is None:
        raise Http404
    school_class = school_class or next((c for c in classes if c.pk in ctx.homeroom_class_ids), classes[0])
    start, end, problem = _range(request)
    if problem:
        messages.error(request, problem)
    absences_qs = scopes.class_absences(ctx, school_class, start, end)
    student_id = _int(request.GET.get("student"))
    rows = queries.absence_list(absences_qs.filter(student_id=student_id) if student_id else absences_qs)
    return render(
        request,
        "appeals/absences.html",
        {
            "ctx": ctx,
            "classes": classes,
            "school_class": school_class,
            "student_id": student_id,
            "start": start,
            "end": end,
            "days": queries.absence_days(rows),
            "summary": queries.class_summary(school_class, absences_qs, start, end),
            "periods": directory(ctx, StudyPeriod).filter(year_id=school_class.year_id).order_by("start"),
            "can_edit": scopes.may_record_reasons(ctx, school_class),
            "kinds": AbsenceReasonKind.choices,
            "pending": scopes.absence_reports(ctx).filter(status=ReportStatus.PENDING).count(),
        },
    )


@require_POST
@school_view(rule=scopes.may_open_absences, writes=True)
def record_reasons(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    school_class: SchoolClass = get_or_404(scopes.absence_classes(ctx), pk=request.POST.get("class"))
    start = _date(request.POST.get("from")) or timezone.localdate()
    end = _date(request.POST.get("to")) or start
    back = _absences_url(ctx, school_class.pk, start, end)
    form = ReasonForm(request.POST)
    pairs = form.pairs() if form.is_valid() else None
    if pairs is None:
        if form.errors:
            _form_error(request, form)
        else:
            messages.error(request, _("The request is not valid."))
        return redirect(back)
    versions = dict(pairs)
    rows = {
        row.pk: row
        for row in journal_access.attendance(ctx).filter(
            pk__in=list(versions), lesson__assignment__school_class=school_class
        )
    }
    if len(rows) != len(versions):
        raise Http404
    try:
        done = services.record_absence_reasons(
            acting_user=ctx.user,
            absences=[(rows[pk], version) for pk, version in pairs],
            kind=form.cleaned_data["kind"],
            text=form.cleaned_data["reason"],
            excused=form.cleaned_data["excused"],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            ngettext(
                "The reason was recorded for %(count)s absence.",
                "The reason was recorded for %(count)s absences.",
                len(done),
            )
            % {"count": len(done)},
        )
    return redirect(back)


@require_GET
@school_view()
def reports(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Reports of absence reasons: a parent's own children's, a class teacher's class's, the school's for the
    administration; pending first (R2.11)."""
    may_report = scopes.may_report_absences(ctx)
    if not scopes.may_open_reports(ctx):
        raise PermissionDenied
    visible = scopes.absence_reports(ctx)
    pending = list(visible.filter(status=ReportStatus.PENDING).order_by("reported_at", "id"))
    decided = list(visible.exclude(status=ReportStatus.PENDING).order_by("-decided_at", "-id")[:DECIDED_LIMIT])
    # The buttons show where the user is the class teacher; the service checks the enrolment dates again.
    shown = [r.pk for r in pending] + [r.pk for r in decided]
    decidable = (
        set()
        if not scopes.may_write_appeals(ctx)
        else set(scopes.decidable_reports(ctx).filter(pk__in=shown).values_list("pk", flat=True))
    )
    return render(
        request,
        "appeals/reports.html",
        {
            "ctx": ctx,
            "pending": pending,
            "decided": decided,
            "decidable": decidable,
            "may_report": may_report,
        },
    )


@school_view(writes=True)
def new_report(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    children = list(scopes.reportable_students(ctx).order_by(*name_order("user__")))
    if not children:
        raise PermissionDenied
    choices = [(s.pk, s.user.full_name) for s in children]
    form = AbsenceReportForm(request.POST or None, request.FILES or None, students=choices)
    if request.method == "POST" and form.is_valid():
        student = next(s for s in children if s.pk == form.cleaned_data["student"])
        try:
            services.submit_absence_report(
                acting_user=ctx.user,
                student=student,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                document=form.cleaned_data.get("document"),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The report was sent to the class teacher."))
            return redirect("appeals:reports", school=ctx.school.slug)
    if request.method == "GET":
        today = timezone.localdate().isoformat()
        form.initial = {"start": today, "end": today}
    return render(request, "appeals/report_form.html", {"ctx": ctx, "form": form})


@require_POST
@school_view(writes=True)
def decide_report(request: HttpRequest, ctx: SchoolContext, report_id: int) -> HttpResponse:
    report = get_or_404(scopes.absence_reports(ctx), pk=report_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
        return redirect("appeals:reports", school=ctx.school.slug)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        report = services.decide_absence_report(
            acting_user=ctx.user,
            report=report,
            accept=accept,
            comment=form.cleaned_data["comment"],
            excused=form.cleaned_data["excused"],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        if accept:
            count = report.applied_count
            messages.success(
                request,
                ngettext(
                    "Accepted; the reason was put on %(count)s absence.",
                    "Accepted; the reason was put on %(count)s absences.",
                    count,
                )
                % {"count": count},
            )
        else:
            messages.success(request, _("Rejected; the parent will see your comment."))
    return redirect("appeals:reports", school=ctx.school.slug)


@require_POST
@school_view(writes=True)
def apply_report(request: HttpRequest, ctx: SchoolContext, report_id: int) -> HttpResponse:
    report = get_or_404(scopes.absence_reports(ctx), pk=report_id)
    try:
        count = services.apply_accepted_report(acting_user=ctx.user, report=report)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            ngettext(
                "The reason was put on %(count)s more absence.", "The reason was put on %(count)s more absences.", count
            )
            % {"count": count},
        )
    return redirect("appeals:reports", school=ctx.school.slug)


@require_GET
@school_view()
def report_document(request: HttpRequest, ctx: SchoolContext, report_id: int) -> FileResponse:
    """The document of a report, only for those who may read the report; others get 404."""
    report = get_or_404(scopes.absence_reports(ctx).exclude(document=""), pk=report_id)
    return uploads.file_response(report.document, name=report.document_name, mime=report.document_type)


@require_GET
@school_view()
def flags(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Flagged marks: the flagger's own with the outcome and the marks they may flag; the teacher's to answer."""
    if not scopes.may_open_flags(ctx):
        raise PermissionDenied
    visible = scopes.mark_flags(ctx)
    open_flags = list(visible.filter(status=FlagStatus.OPEN).order_by("flagged_at", "id"))
    answered = list(visible.exclude(status=FlagStatus.OPEN).order_by("-answered_at", "-id")[:DECIDED_LIMIT])
    marks: list[Any] = []
    if scopes.may_flag_marks(ctx):
        since = timezone.localdate() - dt.timedelta(days=FLAGGABLE_DAYS)
        marks = list(
            scopes.flaggable_marks(ctx)
            .filter(lesson__date__gte=since)
            .order_by("-lesson__date", "-lesson__number", "-pk")[:200]
        )
    open_mark_ids = {f.mark_id for f in open_flags}
    return render(
        request,
        "appeals/flags.html",
        {
            "ctx": ctx,
            "open_flags": open_flags,
            "answered": answered,
            "marks": marks,
            "open_mark_ids": open_mark_ids,
            "user_id": request.user.pk,
            "read_only": not scopes.may_write_appeals(ctx),
        },
    )


@require_POST
@school_view(writes=True)
def flag_mark(request: HttpRequest, ctx: SchoolContext, mark_id: int) -> HttpResponse:
    mark = get_or_404(scopes.flaggable_marks(ctx), pk=mark_id)
    form = FlagForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
        return redirect("appeals:flags", school=ctx.school.slug)
    try:
        services.flag_mark(acting_user=ctx.user, mark=mark, comment=form.cleaned_data["comment"])
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The teacher will answer your flag."))
    return redirect("appeals:flags", school=ctx.school.slug)


@require_POST
@school_view(staff=True, writes=True)
def answer_flag(request: HttpRequest, ctx: SchoolContext, flag_id: int) -> HttpResponse:
    flag = get_or_404(scopes.mark_flags(ctx), pk=flag_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
        return redirect("appeals:flags", school=ctx.school.slug)
    try:
        services.answer_mark_flag(
            acting_user=ctx.user,
            flag=flag,
            correct=form.cleaned_data["outcome"] == "correct",
            answer=form.cleaned_data["answer"],
            text=form.cleaned_data["text"],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Your answer was recorded."))
    return redirect("appeals:flags", school=ctx.school.slug)
