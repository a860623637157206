"""Printing pages (issue 12, R6.6): choose what to print, download the PDF, verify a printed copy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classbook.access import printing as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.printing import printer, queries
from classbook.printing.forms import PrintForm, VerifyForm
from classbook.printing.services import normalise_code
from classbook.schools.models import SchoolClass


@require_GET
@school_view(rule=access.may_print)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The classes whose journal pages the user may print."""
    classes = list(access.printable_classes(ctx).order_by("-year__start", "year_level__number", "name"))
    return render(request, "printing/index.html", {"ctx": ctx, "classes": classes})


def _form(request: HttpRequest, ctx: SchoolContext, school_class: SchoolClass, data: Any = None) -> PrintForm:
    journals = [
        (a.pk, f"{a.subject.name}{f' ({a.subgroup.name})' if a.subgroup else ''} · {a.teacher.short_name}")
        for a in access.printable_assignments(ctx, school_class)
        .select_related("subject", "subgroup", "teacher")
        .order_by("subject__name", "subgroup__name", "pk")
    ]
    whole = access.may_print_whole_class(ctx, school_class)
    labels = queries.section_labels()
    sections = [(s, labels[s]) for s in (queries.SECTIONS if whole else queries.SUBJECT_SECTIONS)]
    return PrintForm(
        data,
        journals=journals,
        periods=queries.period_choices(school_class),
        sections=sections,
        default=queries.default_range(school_class),
        may_certify=access.may_certify(ctx),
    )


def _class(ctx: SchoolContext, class_id: int) -> SchoolClass:
    return get_or_404(access.printable_classes(ctx).select_related("school", "class_teacher"), pk=class_id)


@require_GET
@school_view(rule=access.may_print)
def class_print(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """The choices of one class: subjects, days or a period, sections, a certified copy; and the summary sheet."""
    school_class = _class(ctx, class_id)
    context = {
        "ctx": ctx,
        "school_class": school_class,
        "form": _form(request, ctx, school_class),
        "may_print_summary": access.may_print_whole_class(ctx, school_class),
    }
    return render(request, "printing/class.html", context)


def _pdf(printed: printer.Printed) -> HttpResponse:
    response = HttpResponse(printed.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{printed.filename}"'
    response["X-Verification-Code"] = printed.copy.code
    return response


def _invalid(request: HttpRequest, ctx: SchoolContext, school_class: SchoolClass, form: PrintForm) -> HttpResponse:
    context = {
        "ctx": ctx,
        "school_class": school_class,
        "form": form,
        "may_print_summary": access.may_print_whole_class(ctx, school_class),
    }
    return render(request, "printing/class.html", context, status=422)


@require_POST
@school_view(rule=access.may_print)
def journal_pdf(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """Print the chosen journal pages: the PDF, recorded with its verification code."""
    school_class = _class(ctx, class_id)
    form = _form(request, ctx, school_class, request.POST)
    if not form.is_valid():
        return _invalid(request, ctx, school_class, form)
    data = form.cleaned_data
    printed = printer.print_journal(
        ctx,
        school_class,
        start=data["start"],
        end=data["end"],
        assignment_ids=data["journals"],
        sections=tuple(data["sections"]),
        certify=bool(data.get("certify")),
        base_url=request.build_absolute_uri("/"),
    )
    return _pdf(printed)


@require_POST
@school_view(rule=access.may_print)
def summary_pdf(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """Print the class's summary sheets of the periods ending in the chosen days (the reports' sheets)."""
    school_class = _class(ctx, class_id)
    if not access.may_print_whole_class(ctx, school_class):
        raise PermissionDenied
    form = _form(request, ctx, school_class, request.POST)
    if not form.is_valid():
        return _invalid(request, ctx, school_class, form)
    data = form.cleaned_data
    printed = printer.print_summary(
        ctx,
        school_class,
        start=data["start"],
        end=data["end"],
        certify=bool(data.get("certify")),
        base_url=request.build_absolute_uri("/"),
    )
    return _pdf(printed)


@require_http_methods(["GET"])
@school_view(rule=access.may_verify)
def verify(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Someone holding a printed copy enters its code: what was printed, when and by whom (school staff)."""
    form = VerifyForm(request.GET or None)
    copy = None
    searched = False
    if form.is_valid():
        searched = True
        copy = access.verifiable_copies(ctx).filter(code=normalise_code(form.cleaned_data["code"])).first()
    status = 404 if searched and copy is None else 200
    return render(
        request, "printing/verify.html", {"ctx": ctx, "form": form, "copy": copy, "searched": searched}, status=status
    )
