"""School pages: the list of the user's schools, a school's dashboard, and the administration area
of its calendar and structure (R1.7, R4.3, R4.4, R2.5).

The administration area is one small list/create/edit/delete machinery driven by ``SECTIONS`` (a
table: model form, scoped queryset, columns, permission), plus a few pages of their own (settings,
scales, workload, subgroup students). Rows come from ``classbook.access``; writes go through
``classbook.schools.services``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from classbook.access import journal as access_journal
from classbook.access import scopes, structure
from classbook.access import surveys as access_surveys
from classbook.access.context import SchoolContext, start_url, user_schools
from classbook.access.decorators import school_view
from classbook.access.rules import Perm
from classbook.core.collation import name_order
from classbook.core.errors import DomainError
from classbook.schools import forms, opening, queries, services
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    Room,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    Subject,
    YearLevel,
)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    schools = user_schools(request.user)
    if len(schools) == 1:
        return redirect(start_url(schools))
    return render(request, "schools/home.html", {"schools": schools})


@school_view()
def dashboard(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The start page: what this person works with, by role (own journals, own class, children, control)."""
    own_journals = (
        list(access_journal.readable_assignments(ctx).filter(teacher=ctx.user).order_by("school_class__name"))
        if access_journal.may_open_journals(ctx)
        else []
    )
    homeroom = list(scopes.classes(ctx).filter(pk__in=ctx.homeroom_class_ids))
    family_ids = set(ctx.child_student_ids) | ({ctx.own_student_id} if ctx.own_student_id else set())
    family = list(scopes.students(ctx).filter(pk__in=family_ids).order_by(*name_order("user__")))
    return render(
        request,
        "schools/dashboard.html",
        {
            "own_journals": own_journals,
            "homeroom": homeroom,
            "family": family,
            "may_control": access_journal.may_control_journals(ctx),
            "may_open_administration": structure.may_read_area(ctx),
            "may_view_roster": scopes.may_view_roster(ctx),
            "waiting_surveys": list(access_surveys.waiting_surveys(ctx)[:5]),
        },
    )


# --- the sections table ------------------------------------------------------------------------------


def _date(value: Any) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


Cell = Callable[[Any], str]


@dataclass(frozen=True)
class Section:
    """One kind of row in the administration area and how its pages show and edit it."""

    key: str
    title: Any  # lazy translated
    perm: Perm
    form: type[forms.ScopedForm]
    rows: Callable[[SchoolContext], QuerySet[Any]]
    columns: tuple[tuple[Any, Cell], ...]
    hint: Any = ""
    year_field: str | None = None  # the lookup that filters the list by academic year
    row_actions: tuple[str, ...] = field(default=())  # names of extra templates' actions


def _subgroup_rows(ctx: SchoolContext) -> QuerySet[Subgroup]:
    return scopes.subgroups(ctx).select_related("school_class__year").annotate(n_students=Count("students"))


def _assignment_rows(ctx: SchoolContext) -> QuerySet[Any]:
    return scopes.assignments(ctx).select_related("scale", "school_class__year")


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section(
            "years",
            gettext_lazy("Academic years"),
            Perm.MANAGE_CALENDAR,
            forms.YearForm,
            lambda ctx: scopes.directory(ctx, AcademicYear).annotate(n_periods=Count("periods")),
            (
                (gettext_lazy("name"), lambda y: y.name),
                (gettext_lazy("first day"), lambda y: _date(y.start)),
                (gettext_lazy("last day"), lambda y: _date(y.end)),
                (gettext_lazy("current year"), lambda y: _("yes") if y.is_current else ""),
            ),
            row_actions=("make_current", "generate_periods"),
        ),
        Section(
            "periods",
            gettext_lazy("Study periods"),
            Perm.MANAGE_CALENDAR,
            forms.PeriodForm,
            lambda ctx: scopes.directory(ctx, StudyPeriod).select_related("year", "parent"),
            (
                (gettext_lazy("name"), lambda p: p.name),
                (gettext_lazy("kind"), lambda p: p.get_kind_display()),
                (gettext_lazy("academic year"), lambda p: p.year.name),
                (gettext_lazy("inside period"), lambda p: p.parent.name if p.parent else ""),
                (gettext_lazy("first day"), lambda p: _date(p.start)),
                (gettext_lazy("last day"), lambda p: _date(p.end)),
            ),
            hint=gettext_lazy(
                "Semesters, or quarters inside half-years inside the year. "
                "Use “Generate standard periods” on the years page to start."
            ),
            year_field="year",
        ),
        Section(
            "special-days",
            gettext_lazy("Holidays and special days"),
            Perm.MANAGE_CALENDAR,
            forms.SpecialDayForm,
            lambda ctx: scopes.directory(ctx, SpecialDay).select_related("year"),
            (
                (gettext_lazy("name"), lambda d: d.name),
                (gettext_lazy("kind"), lambda d: d.get_kind_display()),
                (gettext_lazy("first day"), lambda d: _date(d.start)),
                (gettext_lazy("last day"), lambda d: _date(d.end)),
                (gettext_lazy("academic year"), lambda d: d.year.name),
            ),
            year_field="year",
        ),
        Section(
            "year-levels",
            gettext_lazy("Year levels"),
            Perm.MANAGE_STRUCTURE,
            forms.YearLevelForm,
            lambda ctx: scopes.directory(ctx, YearLevel).select_related("scale"),
            (
                (gettext_lazy("number"), lambda y: str(y.number)),
                (gettext_lazy("name"), lambda y: y.name),
                (gettext_lazy("marking scale"), lambda y: _text(y.scale)),
            ),
        ),
        Section(
            "classes",
            gettext_lazy("Classes and groups"),
            Perm.MANAGE_STRUCTURE,
            forms.ClassForm,
            scopes.classes,
            (
                (gettext_lazy("name"), lambda c: c.name),
                (gettext_lazy("academic year"), lambda c: c.year.name),
                (gettext_lazy("year level"), lambda c: str(c.year_level)),
                (gettext_lazy("kind"), lambda c: c.get_kind_display()),
                (gettext_lazy("class teacher"), lambda c: c.class_teacher.full_name if c.class_teacher else ""),
            ),
            year_field="year",
        ),
        Section(
            "subgroups",
            gettext_lazy("Subgroups"),
            Perm.MANAGE_STRUCTURE,
            forms.SubgroupForm,
            _subgroup_rows,
            (
                (gettext_lazy("class"), lambda g: f"{g.school_class.name} ({g.school_class.year.name})"),
                (gettext_lazy("name"), lambda g: g.name),
                (gettext_lazy("students"), lambda g: str(g.n_students)),
            ),
            year_field="school_class__year",
            row_actions=("subgroup_students",),
        ),
        Section(
            "subjects",
            gettext_lazy("Subjects"),
            Perm.MANAGE_STRUCTURE,
            forms.SubjectForm,
            lambda ctx: scopes.directory(ctx, Subject).select_related("scale"),
            (
                (gettext_lazy("name"), lambda s: s.name),
                (gettext_lazy("short name"), lambda s: s.short_name),
                (gettext_lazy("kind"), lambda s: s.get_kind_display()),
                (gettext_lazy("marking scale"), lambda s: _text(s.scale)),
            ),
        ),
        Section(
            "rooms",
            gettext_lazy("Rooms"),
            Perm.MANAGE_STRUCTURE,
            forms.RoomForm,
            lambda ctx: scopes.directory(ctx, Room),
            ((gettext_lazy("name"), lambda r: r.name), (gettext_lazy("seats"), lambda r: _text(r.capacity))),
        ),
        Section(
            "assignments",
            gettext_lazy("Teaching assignments"),
            Perm.MANAGE_STRUCTURE,
            forms.AssignmentForm,
            _assignment_rows,
            (
                (gettext_lazy("teacher"), lambda a: a.teacher.full_name),
                (gettext_lazy("class"), lambda a: str(a.subgroup or a.school_class)),
                (gettext_lazy("subject"), lambda a: a.subject.name),
                (gettext_lazy("hours per week"), lambda a: floatformat(a.hours_per_week, -1)),
                (gettext_lazy("marking scale"), lambda a: _text(a.scale)),
            ),
            year_field="year",
        ),
    )
}

# The area's home: every section (the generic ones and the pages of their own) with its permission.
HOME_ORDER: tuple[str, ...] = (
    "settings",
    "years",
    "periods",
    "special-days",
    "year-levels",
    "classes",
    "subgroups",
    "subjects",
    "rooms",
    "scales",
    "assignments",
)


# --- helpers -----------------------------------------------------------------------------------------


def area_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponseBase]:
    """A read page of the area: directors, deputies, administrators and authority viewers (else 403)."""

    @school_view()
    @wraps(view)
    def wrapper(request: HttpRequest, ctx: SchoolContext, *args: Any, **kwargs: Any) -> HttpResponse:
        if not structure.may_read_area(ctx):
            raise PermissionDenied
        return view(request, ctx, *args, **kwargs)

    return wrapper


def _section(key: str) -> Section:
    try:
        return SECTIONS[key]
    except KeyError:
        raise Http404 from None


def _require_write(ctx: SchoolContext, perm: Perm) -> None:
    if not structure.may_write(ctx, perm):
        raise PermissionDenied


def _apply_errors(form: BaseForm, exc: ValidationError) -> None:
    """Show a service's refusal on the form: next to the field when the form has it, else on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _run(request: HttpRequest, form: BaseForm | None, action: Callable[[], Any], success: str) -> bool:
    """Call a service; a refused rule becomes a message or form error (never a 500)."""
    try:
        action()
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
        else:
            _apply_errors(form, exc)
        return False
    except DomainError as exc:
        if form is None:
            messages.error(request, str(exc.message))
        else:
            form.add_error(None, str(exc.message))
        return False
    messages.success(request, success)
    return True


def _to_list(ctx: SchoolContext, key: str) -> HttpResponse:
    return redirect("schools:manage_list", school=ctx.school.slug, section=key)


# --- the area's home ---------------------------------------------------------------------------------


@area_view
def manage_home(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    cards: list[dict[str, Any]] = []
    for key in HOME_ORDER:
        if key == "settings":
            cards.append({"key": key, "title": _("School settings"), "count": None, "url": "schools:settings"})
        elif key == "scales":
            count = scopes.directory(ctx, MarkingScale).count()
            cards.append({"key": key, "title": _("Marking scales"), "count": count, "url": "schools:scales"})
        else:
            section = SECTIONS[key]
            cards.append({"key": key, "title": section.title, "count": section.rows(ctx).count(), "url": None})
    may_open_year = structure.may_open_year(ctx)
    return render(request, "schools/manage/home.html", {"cards": cards, "may_open_year": may_open_year})


# --- generic list / create / edit / delete -----------------------------------------------------------


def _filtered(request: HttpRequest, ctx: SchoolContext, section: Section) -> tuple[QuerySet[Any], BaseForm | None]:
    """The section's rows, narrowed by the filters under the title (year; teacher and class for assignments)."""
    rows = section.rows(ctx)
    if section.key == "assignments":
        filters: forms.YearChoiceForm = forms.AssignmentFilterForm(request.GET or None, ctx=ctx)
    elif section.year_field:
        filters = forms.YearChoiceForm(request.GET or None, ctx=ctx)
    else:
        return rows, None
    if not filters.is_valid():
        return rows, filters
    data = filters.cleaned_data
    if data.get("year") and section.year_field:
        rows = rows.filter(**{section.year_field: data["year"]})
    if data.get("teacher"):
        rows = rows.filter(teacher=data["teacher"])
    if data.get("school_class"):
        rows = rows.filter(school_class=data["school_class"])
    return rows, filters


@area_view
def manage_list(request: HttpRequest, ctx: SchoolContext, section: str) -> HttpResponse:
    sec = _section(section)
    rows, filters = _filtered(request, ctx, sec)
    objects = queries.periods_with_depth(rows) if sec.key == "periods" else list(rows)
    table = [(obj, [cell(obj) for _label, cell in sec.columns]) for obj in objects]
    for obj, cells in table:
        # Nested periods are indented under the period that encloses them.
        cells[0] = "— " * getattr(obj, "depth", 0) + cells[0]
    return render(
        request,
        "schools/manage/list.html",
        {
            "section": sec,
            "table": table,
            "filters": filters,
            "can_write": structure.may_write(ctx, sec.perm),
        },
    )


@school_view(writes=True)
def manage_create(request: HttpRequest, ctx: SchoolContext, section: str) -> HttpResponse:
    sec = _section(section)
    _require_write(ctx, sec.perm)
    form = sec.form(request.POST or None, ctx=ctx, instance=sec.form._meta.model(school=ctx.school))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}  # type: ignore[union-attr]
        created = _run(
            request,
            form,
            lambda: services.create_row(
                acting_user=ctx.user, school=ctx.school, model=sec.form._meta.model, fields=fields
            ),
            _("Saved."),
        )
        if created:
            return _to_list(ctx, sec.key)
    return render(request, "schools/manage/form.html", {"section": sec, "form": form, "obj": None})


@school_view(writes=True)
def manage_edit(request: HttpRequest, ctx: SchoolContext, section: str, pk: int) -> HttpResponse:
    sec = _section(section)
    _require_write(ctx, sec.perm)
    obj = scopes.get_or_404(sec.rows(ctx), pk=pk)
    form = sec.form(request.POST or None, ctx=ctx, instance=obj)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}  # type: ignore[union-attr]
        if _run(request, form, lambda: services.update_row(acting_user=ctx.user, obj=obj, fields=fields), _("Saved.")):
            return _to_list(ctx, sec.key)
    return render(request, "schools/manage/form.html", {"section": sec, "form": form, "obj": obj})


@school_view(writes=True)
def manage_delete(request: HttpRequest, ctx: SchoolContext, section: str, pk: int) -> HttpResponse:
    sec = _section(section)
    _require_write(ctx, sec.perm)
    obj = scopes.get_or_404(sec.rows(ctx), pk=pk)
    if request.method == "POST":
        _run(request, None, lambda: services.delete_row(acting_user=ctx.user, obj=obj), _("Deleted."))
        return _to_list(ctx, sec.key)
    return render(request, "schools/manage/delete.html", {"section": sec, "obj": obj})


# --- pages of their own ------------------------------------------------------------------------------


@area_view
def settings(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    can_write = structure.may_manage_school_settings(ctx)
    if request.method == "POST":
        _require_write(ctx, Perm.MANAGE_SCHOOL_SETTINGS)
    form = forms.SchoolSettingsForm(request.POST or None, ctx=ctx, instance=ctx.school)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form._meta.fields}  # type: ignore[union-attr]
        saved = _run(
            request,
            form,
            lambda: services.update_school_settings(acting_user=ctx.user, school=ctx.school, **fields),
            _("Saved."),
        )
        if saved:
            return redirect("schools:settings", school=ctx.school.slug)
    if not can_write:
        for bound in form.fields.values():
            bound.disabled = True
    return render(request, "schools/manage/settings.html", {"form": form, "can_write": can_write})


@require_POST
@school_view(Perm.MANAGE_CALENDAR, writes=True)
def year_make_current(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    year = scopes.get_or_404(scopes.directory(ctx, AcademicYear), pk=pk)
    _run(
        request,
        None,
        lambda: services.set_current_year(acting_user=ctx.user, year=year),
        _("%(year)s is now the current year.") % {"year": year.name},
    )
    return _to_list(ctx, "years")


@require_POST
@school_view(Perm.MANAGE_CALENDAR, writes=True)
def year_generate_periods(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    year = scopes.get_or_404(scopes.directory(ctx, AcademicYear), pk=pk)
    if _run(
        request,
        None,
        lambda: services.generate_standard_periods(acting_user=ctx.user, year=year),
        _("The standard study periods are created. Check their dates."),
    ):
        return _to_list(ctx, "periods")
    return _to_list(ctx, "years")


@school_view(Perm.MANAGE_STRUCTURE, writes=True)
def subgroup_students(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    subgroup = scopes.get_or_404(scopes.subgroups(ctx), pk=pk)
    initial = {"students": list(subgroup.students.values_list("pk", flat=True))}
    form = forms.SubgroupStudentsForm(request.POST or None, ctx=ctx, subgroup=subgroup, initial=initial)
    if request.method == "POST" and form.is_valid():
        students = list(form.cleaned_data["students"])
        if _run(
            request,
            form,
            lambda: services.set_subgroup_students(acting_user=ctx.user, subgroup=subgroup, students=students),
            _("Saved."),
        ):
            return _to_list(ctx, "subgroups")
    return render(request, "schools/manage/subgroup_students.html", {"subgroup": subgroup, "form": form})


@area_view
def scales(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    return render(
        request,
        "schools/manage/scales.html",
        {
            "scales": queries.scales_with_values(ctx),
            "can_write": structure.may_write(ctx, Perm.MANAGE_STRUCTURE),
            "default_scale_id": ctx.school.default_scale_id,
        },
    )


@school_view(Perm.MANAGE_STRUCTURE, writes=True)
def scale_create(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = forms.CustomScaleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _run(
            request,
            form,
            lambda: services.create_custom_scale(
                acting_user=ctx.user, school=ctx.school, name=data["name"], values=data["values"]
            ),
            _("Saved."),
        ):
            return redirect("schools:scales", school=ctx.school.slug)
    return render(request, "schools/manage/scale_form.html", {"form": form})


@require_POST
@school_view(Perm.MANAGE_STRUCTURE, writes=True)
def scale_toggle_one(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    scale = scopes.get_or_404(scopes.directory(ctx, MarkingScale), pk=pk)
    enabled = request.POST.get("enabled") == "1"
    _run(
        request,
        None,
        lambda: services.set_five_point_one(acting_user=ctx.user, scale=scale, enabled=enabled),
        _("The mark 1 is allowed now.") if enabled else _("The mark 1 is not allowed any more."),
    )
    return redirect("schools:scales", school=ctx.school.slug)


@school_view(Perm.MANAGE_STRUCTURE, writes=True)
def scale_delete(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    scale = scopes.get_or_404(scopes.directory(ctx, MarkingScale), pk=pk)
    if request.method == "POST":
        _run(request, None, lambda: services.delete_row(acting_user=ctx.user, obj=scale), _("Deleted."))
        return redirect("schools:scales", school=ctx.school.slug)
    return render(request, "schools/manage/delete.html", {"section": None, "obj": scale})


@area_view
def workload(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    choice = forms.YearChoiceForm(request.GET or None, ctx=ctx)
    year = choice.cleaned_data["year"] if choice.is_valid() and choice.cleaned_data["year"] else None
    year = year or queries.current_year(ctx)
    return render(
        request,
        "schools/manage/workload.html",
        {"choice": choice, "year": year, **queries.workload(ctx, year)},
    )


# --- opening a school year (R4.3) ------------------------------------------------------------------------


def _opening_input(form: forms.OpenYearForm) -> opening.OpeningInput:
    data = form.cleaned_data
    return opening.OpeningInput(
        name=data["name"],
        start=data["start"],
        end=data["end"],
        final_level=data["final_level"],
        first_classes=tuple(n.strip() for n in (data["first_classes"] or "").split(",") if n.strip()),
        held_back=data["held_back"] or frozenset(),
        copy_timetable=data["copy_timetable"],
        day_changes=opening.day_changes_from_text(data["day_changes"]),
    )


@school_view(rule=structure.may_open_year)
def open_year(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The year-opening wizard: the form, then a preview (with a hold-back choice per student), then the run.
    Nothing is written before "Open the year"; the service refuses bad input and a second run."""
    plan = None
    if request.method == "POST":
        form = forms.OpenYearForm(request.POST)
        if form.is_valid():
            try:
                data = _opening_input(form)
                listed = opening.held_back_from_list(
                    school=ctx.school, start=data.start, text=form.cleaned_data["held_back_list"]
                )
                # The listed students join the ticked ones; the list is then cleared (they show ticked).
                data = dataclasses.replace(data, held_back=data.held_back | listed)
                if request.POST.get("action") == "open":
                    result = opening.open_year(acting_user=ctx.user, school=ctx.school, data=data)
                    messages.success(
                        request,
                        _(
                            "The year %(name)s is open: %(classes)s classes, %(students)s students, "
                            "%(entries)s timetable entries. Check the timetable, then make the year current "
                            "and generate lessons."
                        )
                        % {
                            "name": result.year.name,
                            "classes": result.counts["classes"],
                            "students": result.counts["enrolments"],
                            "entries": result.counts["timetable_entries"],
                        },
                    )
                    return _to_list(ctx, "years")
                plan = opening.plan_opening(acting_user=ctx.user, school=ctx.school, data=data)
                cleared = request.POST.copy()
                cleared["held_back_list"] = ""
                form = forms.OpenYearForm(cleared)
                form.is_valid()
            except DomainError as exc:
                field = exc.field if exc.field in form.fields and exc.field != "held_back" else None
                form.add_error(field, str(exc.message))
    else:
        initial = opening.defaults(ctx.school)
        if initial:
            initial["first_classes"] = ", ".join(initial["first_classes"])
        form = forms.OpenYearForm(initial={**initial, "copy_timetable": True})
    return render(
        request,
        "schools/manage/open_year.html",
        {"form": form, "plan": plan, "held": set(plan.input.held_back) if plan else set()},
    )
