"""The students' and parents' diary (R5.1, R5.2), the information letter for parents (R5.6) and the
diary settings. Pages under ``/s/<school>/diary/``; who may open what is ``classbook.access.diary``.

Every page names the student in its URL (a parent switches between children by link, and the choice
stays in the address); an id the user may not open answers 404, like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from classbook.access import structure
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.diary import letter_classes, may_keep_offline
from classbook.access.scopes import get_or_404
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number
from classbook.diary import cache as week_cache
from classbook.diary import pwa, queries, services
from classbook.diary.forms import DiaryPolicyForm


def _person(ctx: SchoolContext, student_id: int) -> tuple[list[queries.DiaryStudent], queries.DiaryStudent]:
    people = queries.diary_people(ctx)
    person = queries.pick(people, student_id)
    if person is None:
        raise Http404
    services.record_view(ctx, person.id)  # R9.2: who looks (one upsert a request)
    return people, person


def _page(request: HttpRequest, ctx: SchoolContext, template: str, context: dict[str, Any]) -> HttpResponse:
    """A diary page; one's own or one's child's may be kept offline by the service worker (``diary/pwa.py``)."""
    keep = may_keep_offline(ctx, context["person"].id)
    response = render(request, template, {**context, "offline_as_of": timezone.now() if keep else None})
    return pwa.mark_keepable(response, ctx.user.pk if keep else None)


def _day(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Http404 from None
    if not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
        raise Http404
    return day


def _period(request: HttpRequest, ctx: SchoolContext, required: bool = True) -> tuple[list[Any], Any]:
    """The periods of the year and the one asked for (``?period=``; default the current one); 404 for others.

    A school without study periods yet: None for a page (it says so), 404 for a PDF (``required``).
    """
    periods = queries.periods_of_year(ctx)
    raw = request.GET.get("period", "")
    if not raw:
        period = queries.current_period(periods)
        if period is None and required:
            raise Http404
        return periods, period
    if not is_whole_number(raw):
        raise Http404
    period = next((p for p in periods if p.pk == int(raw)), None)
    if period is None:
        period = queries.period_by_id(ctx, int(raw))  # an earlier year's period (an old letter)
    return periods, period


@require_GET
@school_view()
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The diary's start: straight to the week of one's only child (or oneself), else the choice."""
    people = queries.diary_people(ctx)
    classes = list(letter_classes(ctx))
    if not people and not classes:
        raise Http404
    if len(people) == 1 and not classes:
        return redirect("diary:week", school=ctx.school.slug, student_id=people[0].id, day=timezone.localdate())
    return render(request, "diary/index.html", {"people": people, "classes": classes})


@require_GET
@school_view()
def current_week(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    _person(ctx, student_id)
    return redirect("diary:week", school=ctx.school.slug, student_id=student_id, day=timezone.localdate())


@require_GET
@school_view()
def week(request: HttpRequest, ctx: SchoolContext, student_id: int, day: str) -> HttpResponse:
    """One week of a student's diary: timetable with changes, topics, homework, marks, absences (R5.1)."""
    people, person = _person(ctx, student_id)  # who may see what: decided on every request, never cached
    today = timezone.localdate()
    return _page(
        request,
        ctx,
        "diary/week.html",
        {"people": people, "person": person, "week_html": _week_html(ctx, person, _day(day), today), "tab": "week"},
    )


def _week_html(ctx: SchoolContext, person: queries.DiaryStudent, day: dt.date, today: dt.date) -> SafeString:
    """The week's data part as HTML, from the cache when nothing it shows has changed (``diary/cache.py``)."""
    start = queries.week_start(day)
    stem = ""
    gens: tuple[int, ...] = ()
    if week_cache.enabled():
        stem, keys = week_cache.week_key(
            school_id=ctx.school.pk,
            slug=ctx.school.slug,
            student_id=person.id,
            class_id=person.class_id,
            start=start,
            today=today,
            lang=translation.get_language() or "",
        )
        html, gens = week_cache.get_week(stem, keys)
        if html is not None:
            return mark_safe(html)  # noqa: S308 - our own rendered template, stored as rendered
    data = queries.build_week(ctx, person, start)
    html = render_to_string(
        "diary/_week_days.html", {"week": data, "today": today, "slug": ctx.school.slug, "student_id": person.id}
    )
    if stem:
        week_cache.set_week(stem, gens, str(html))
    return mark_safe(html)  # noqa: S308 - rendered by the template engine (autoescaped)


@require_GET
@school_view()
def marks(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """Marks by subject for a period with averages (as the school chooses), period grades, attendance (R5.2)."""
    people, person = _person(ctx, student_id)
    periods, period = _period(request, ctx, required=False)
    report = None
    if period is not None:
        report = queries.build_report(ctx, [person], period, queries.policy_or_default(ctx.school.pk))[0]
    return _page(
        request,
        ctx,
        "diary/marks.html",
        {"people": people, "person": person, "periods": periods, "period": period, "report": report, "tab": "marks"},
    )


def _letter_context(ctx: SchoolContext, reports: list[Any], period: Any) -> dict[str, Any]:
    return {"school": ctx.school, "reports": reports, "period": period, "printed_on": timezone.localdate()}


def _pdf(request: HttpRequest, html: str, filename: str) -> HttpResponse:
    from weasyprint import HTML  # imported here: slow to import, needed only for printing

    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@school_view()
def letter(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """The information letter for parents of one student and one period, as a page (R5.6)."""
    people, person = _person(ctx, student_id)
    periods, period = _period(request, ctx, required=False)
    reports = []
    if period is not None:
        reports = queries.build_report(ctx, [person], period, queries.policy_or_default(ctx.school.pk))
    return _page(
        request,
        ctx,
        "diary/letter.html",
        {
            "people": people,
            "person": person,
            "periods": periods,
            "tab": "letter",
            **_letter_context(ctx, reports, period),
        },
    )


@require_GET
@school_view()
def letter_pdf(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """The same letter as a PDF to print or send (R5.6)."""
    _, person = _person(ctx, student_id)
    _, period = _period(request, ctx)
    reports = queries.build_report(ctx, [person], period, queries.policy_or_default(ctx.school.pk))
    html = render_to_string("diary/letter_pdf.html", _letter_context(ctx, reports, period), request=request)
    return _pdf(request, html, f"letter-{ctx.school.slug}-{person.id}-{period.pk}.pdf")


def _class_reports(
    request: HttpRequest, ctx: SchoolContext, class_id: int, *, pdf: bool = False
) -> tuple[Any, list[Any], Any, list[Any]]:
    school_class = get_or_404(letter_classes(ctx), pk=class_id)
    periods, period = _period(request, ctx, required=pdf)
    if period is None:
        return school_class, periods, period, []
    people = queries.class_people(queries.diary_people(ctx), school_class.pk)
    reports = queries.build_report(ctx, people, period, queries.policy_or_default(ctx.school.pk))
    return school_class, periods, period, reports


@require_GET
@school_view()
def class_letters(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """The class teacher's page of the information letters of the whole class (R5.6)."""
    school_class, periods, period, reports = _class_reports(request, ctx, class_id)
    return render(
        request,
        "diary/class_letters.html",
        {"school_class": school_class, "periods": periods, "period": period, "reports": reports},
    )


@require_GET
@school_view()
def class_letters_pdf(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """The letters of every student of the class in one PDF, one page per student (R5.6)."""
    school_class, _periods, period, reports = _class_reports(request, ctx, class_id, pdf=True)
    html = render_to_string("diary/letter_pdf.html", _letter_context(ctx, reports, period), request=request)
    return _pdf(request, html, f"letters-{ctx.school.slug}-{school_class.pk}-{period.pk}.pdf")


@school_view()
def settings_page(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The diary settings: whether students and parents see averages (weighted or not is the journal rules').

    Read by everybody who opens the administration area; changed by holders of the school-settings permission.
    """
    if not structure.may_read_area(ctx):
        raise PermissionDenied
    can_write = structure.may_manage_school_settings(ctx)
    if request.method == "POST" and not can_write:
        raise PermissionDenied
    form = DiaryPolicyForm(request.POST or None, instance=queries.policy_or_default(ctx.school.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_diary_policy(
                acting_user=ctx.user,
                ctx=ctx,
                show_average=form.cleaned_data["show_average"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Saved."))
            return redirect("diary:settings", school=ctx.school.slug)
    if not can_write:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "diary/settings.html", {"form": form, "can_write": can_write})
