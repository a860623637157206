"""The school's journal rules, work types and attendance codes in the administration area (R2.2, R2.5-R2.8).

Pages under ``/s/<school>/manage/journal/``. Everybody who may open the administration area reads them;
holders of ``MANAGE_SCHOOL_SETTINGS`` change the rules, holders of ``MANAGE_STRUCTURE`` the work types
and attendance codes. Writes go through ``classbook.journal.services`` (audited).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.access import journal as journal_access
from classbook.access import structure
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.rules import Perm
from classbook.access.scopes import get_or_404
from classbook.core.errors import DomainError
from classbook.journal import forms, services
from classbook.journal.rules import policy_or_default

# Which permission changes which part (read: anybody who opens the administration area).
SECTIONS: dict[str, dict[str, Any]] = {
    "work-types": {
        "title": gettext_lazy("Work types"),
        "perm": Perm.MANAGE_STRUCTURE,
        "form": forms.WorkTypeForm,
        "rows": journal_access.work_types,
        "columns": ("name", "short_name", "weight", "allows_several", "is_control", "is_active", "ordinal"),
    },
    "attendance-codes": {
        "title": gettext_lazy("Attendance codes"),
        "perm": Perm.MANAGE_STRUCTURE,
        "form": forms.AttendanceCodeForm,
        "rows": journal_access.attendance_codes,
        "columns": ("code", "name", "counts_as_absent", "is_excused", "is_late", "reason_kind", "is_active", "ordinal"),
    },
}


def _read_area(ctx: SchoolContext) -> None:
    if not structure.may_read_area(ctx):
        raise PermissionDenied


def _section(key: str) -> dict[str, Any]:
    from django.http import Http404

    if key not in SECTIONS:
        raise Http404
    return SECTIONS[key]


def _run(request: HttpRequest, form: django_forms.BaseForm | None, action: Callable[[], Any], success: str) -> bool:
    """Call a service; a refusal becomes a form error or a message (never a 500)."""
    try:
        action()
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
        elif hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return False
    except DomainError as exc:
        if form is None:
            messages.error(request, str(exc.message))
        else:
            form.add_error(None, str(exc.message))
        return False
    messages.success(request, success)
    return True


def _disable(form: django_forms.BaseForm) -> None:
    for field in form.fields.values():
        field.disabled = True


@school_view()
def rules(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's journal rules (R2.6, R2.7) and links to work types and attendance codes."""
    _read_area(ctx)
    can_write = structure.may_write(ctx, Perm.MANAGE_SCHOOL_SETTINGS)
    if request.method == "POST" and not can_write:
        raise PermissionDenied
    form = forms.JournalPolicyForm(request.POST or None, instance=policy_or_default(ctx.school.pk))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if _run(
            request,
            form,
            lambda: services.update_journal_policy(acting_user=ctx.user, school=ctx.school, fields=fields),
            _("Saved."),
        ):
            return redirect("journal_settings:rules", school=ctx.school.slug)
    if not can_write:
        _disable(form)
    return render(
        request,
        "journal/manage/rules.html",
        {"form": form, "can_write": can_write, "sections": SECTIONS},
    )


@school_view()
def section_list(request: HttpRequest, ctx: SchoolContext, section: str) -> HttpResponse:
    _read_area(ctx)
    sec = _section(section)
    model = sec["form"]._meta.model
    labels = [model._meta.get_field(name).verbose_name for name in sec["columns"]]
    rows = []
    for obj in sec["rows"](ctx):
        cells = []
        for name in sec["columns"]:
            choices = model._meta.get_field(name).choices  # e.g. a code's kind of reason: its label
            value = getattr(obj, f"get_{name}_display")() if choices else getattr(obj, name)
            cells.append(_("yes") if value is True else "" if value is False else str(value))
        rows.append((obj, cells))
    return render(
        request,
        "journal/manage/list.html",
        {
            "key": section,
            "section": sec,
            "labels": labels,
            "rows": rows,
            "can_write": structure.may_write(ctx, sec["perm"]),
        },
    )


def _save(ctx: SchoolContext, section: str, obj: Any, fields: dict[str, Any], user: Any) -> Any:
    if section == "work-types":
        return services.save_work_type(acting_user=user, school=ctx.school, work_type=obj, fields=fields)
    return services.save_attendance_code(acting_user=user, school=ctx.school, code=obj, fields=fields)


@school_view(writes=True)
def section_edit(request: HttpRequest, ctx: SchoolContext, section: str, pk: int | None = None) -> HttpResponse:
    sec = _section(section)
    if not structure.may_write(ctx, sec["perm"]):
        raise PermissionDenied
    obj = get_or_404(sec["rows"](ctx), pk=pk) if pk is not None else None
    model = sec["form"]._meta.model
    form = sec["form"](request.POST or None, instance=obj or model(school=ctx.school))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if _run(request, form, lambda: _save(ctx, section, obj, fields, request.user), _("Saved.")):
            return redirect("journal_settings:list", school=ctx.school.slug, section=section)
    return render(request, "journal/manage/form.html", {"key": section, "section": sec, "form": form, "obj": obj})


@school_view(writes=True)
def section_delete(request: HttpRequest, ctx: SchoolContext, section: str, pk: int) -> HttpResponse:
    sec = _section(section)
    if not structure.may_write(ctx, sec["perm"]):
        raise PermissionDenied
    obj = get_or_404(sec["rows"](ctx), pk=pk)
    if request.method != "POST":
        return redirect("journal_settings:edit", school=ctx.school.slug, section=section, pk=pk)
    if section == "work-types":
        action: Callable[[], Any] = lambda: services.delete_work_type(acting_user=ctx.user, work_type=obj)  # noqa: E731
    else:
        action = lambda: services.delete_attendance_code(acting_user=ctx.user, code=obj)  # noqa: E731
    _run(request, None, action, _("Deleted."))
    return redirect("journal_settings:list", school=ctx.school.slug, section=section)
