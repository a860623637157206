"""The education authority's comparison of its schools (issue 11): a page with the chosen period, a chart,
XLSX and PDF downloads (in the background for many schools), and the runs' pages.

Under ``/authority/<id>/reports/``: only the authority's viewers (``access.report_runs.authority_or_404``);
anyone else, a school's director included, gets 404; anonymous users go to the login.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from classbook.access import report_runs as access
from classbook.access.scopes import get_or_404
from classbook.reports import authority, authority_exports, exports, run_views, runs
from classbook.schools.models import EducationAuthority


class CompareForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"))

    def __init__(self, *args: Any, choices: list[authority.Choice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        period = self.fields["period"]
        assert isinstance(period, forms.ChoiceField)
        period.choices = [(c.key, c.label) for c in choices]


def authority_view(view: Any) -> Any:
    """Anonymous users to the login; the authority of the URL must be one the user views (404 otherwise)."""

    @wraps(view)
    def wrapper(request: HttpRequest, authority_id: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        found = access.authority_or_404(request.user, authority_id)
        return view(request, found, *args, **kwargs)  # type: ignore[no-any-return]

    return wrapper


def _compare(request: HttpRequest, found: EducationAuthority) -> dict[str, Any]:
    schools = list(access.compared_schools(request.user, found))
    cal = authority.calendars(schools)
    choices = cal.choices()
    data = request.GET.copy()
    data.setdefault("period", cal.default())
    form = CompareForm(data, choices=choices)
    out: dict[str, Any] = {"authority": found, "form": form, "comparison": None, "schools": schools}
    if not form.is_valid():
        return out
    choice = next(c for c in choices if c.key == form.cleaned_data["period"])
    comparison = authority.compare(request.user, schools, cal, choice)  # type: ignore[arg-type]
    head, rows = authority_exports.table(comparison)
    out.update(
        comparison=comparison,
        head=head,
        rows=rows,
        charts=authority_exports.chart_list(comparison),
        notes=authority_exports.notes(),
        query=request.GET.urlencode() or f"period={choice.key}",
    )
    return out


@require_GET
@authority_view
def compare(request: HttpRequest, found: EducationAuthority) -> HttpResponse:
    """The authority's schools side by side: progress and quality, attendance, for a period."""
    context = _compare(request, found)
    template = "reports/_authority.html" if request.headers.get("HX-Request") else "reports/authority.html"
    return render(request, template, context, status=200 if context["form"].is_valid() else 422)


@require_GET
@authority_view
def compare_export(request: HttpRequest, found: EducationAuthority, fmt: str) -> HttpResponse:
    """XLSX or PDF: at once for a few schools, in the background for many (``runs.authority_is_long``)."""
    if fmt not in runs.FORMATS:
        raise Http404
    schools = list(access.compared_schools(request.user, found))
    if runs.authority_is_long(len(schools)):
        cal = authority.calendars(schools)
        key = request.GET.get("period") or cal.default()
        if all(c.key != key for c in cal.choices()):
            raise Http404
        run = runs.start_authority_run(
            acting_user=request.user,  # type: ignore[arg-type]
            authority=found,
            fmt=fmt,
            params={"period": key},
        )
        queued = HttpResponseRedirect(reverse("authority_reports:run", kwargs={"authority_id": found.pk, "pk": run.pk}))
        queued.status_code = 303
        return queued
    context = _compare(request, found)
    if context["comparison"] is None:
        raise Http404
    content = authority_exports.file(context["comparison"], found.name, fmt)
    return exports.download(content, fmt, f"schools-{found.pk}")


@require_GET
@authority_view
def run(request: HttpRequest, found: EducationAuthority, pk: int) -> HttpResponse:
    row = get_or_404(access.authority_runs(request.user, found).defer("content"), pk=pk)
    kwargs = {"authority_id": found.pk, "pk": row.pk}
    return run_views.render_run(
        request,
        row,
        {"back": reverse("authority_reports:compare", kwargs={"authority_id": found.pk})},
        reverse("authority_reports:run", kwargs=kwargs),
        reverse("authority_reports:run_file", kwargs=kwargs),
    )


@require_GET
@authority_view
def run_file(request: HttpRequest, found: EducationAuthority, pk: int) -> HttpResponse:
    row = get_or_404(access.authority_runs(request.user, found), pk=pk)
    if not access.may_read_authority_run(request.user, row):
        raise Http404
    return run_views.download(row)
