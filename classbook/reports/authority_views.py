"""The education authority's comparison of its schools (issue 11): a page with the chosen period, a chart,
XLSX and PDF downloads, and the runs' pages.

A few schools are compared at once. Many (``runs.authority_is_long``: more than
``REPORTS_AUTHORITY_BACKGROUND_SCHOOLS``, a year weighing two) are compared in the background: the page offers
to prepare the comparison (a ``POST``, which queues a run of format ``json``, or follows one already being
prepared for that period), the run's page shows a progress bar that advances school by school and then the
comparison itself, whose XLSX and PDF are written from the stored figures at once (no second computation).

Under ``/authority/<id>/reports/``: only the authority's viewers (``access.report_runs.authority_or_404``);
anyone else, a school's director included, gets 404; anonymous users go to the login.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from classbook.access import report_runs as access
from classbook.access.scopes import get_or_404
from classbook.reports import authority, authority_exports, exports, run_views, runs
from classbook.reports.models import ReportRun, RunStatus
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


def _urls(found: EducationAuthority, name: str, **kwargs: Any) -> dict[str, str]:
    """The XLSX and PDF links of a comparison: ``compare_export`` (with the query) or a run's ``run_export``."""
    return {
        f"{fmt}_url": reverse(f"authority_reports:{name}", kwargs={"authority_id": found.pk, "fmt": fmt, **kwargs})
        for fmt in runs.FORMATS
    }


def page_runs(request: HttpRequest, found: EducationAuthority, key: str) -> QuerySet[ReportRun]:
    """The viewer's comparisons of this period still kept and not failed, newest first (the page's runs)."""
    return (
        access.authority_runs(request.user, found)
        .filter(fmt="json", params__period=key, expires_at__gt=timezone.now())
        .exclude(status=RunStatus.FAILED)
        .defer("content")
        .order_by("-created_at")
    )


def _compare(
    request: HttpRequest, found: EducationAuthority, asked: QueryDict, *, compute: bool = True
) -> dict[str, Any]:
    """The form and, for a few schools, the comparison; for many, what the page offers instead (``long``).
    ``compute=False``: the form and the choice only (the ``POST`` that queues a run)."""
    schools = list(access.compared_schools(request.user, found))
    cal = authority.calendars(schools)
    choices = cal.choices()
    data = asked.copy()
    data.setdefault("period", cal.default())
    form = CompareForm(data, choices=choices)
    out: dict[str, Any] = {"authority": found, "form": form, "data": None, "long": False, "schools": schools}
    if not form.is_valid():
        return out
    choice = next(c for c in choices if c.key == form.cleaned_data["period"])
    query = f"period={choice.key}"
    out.update(choice=choice, query=asked.urlencode() or query)
    if not compute:
        return out
    if runs.authority_is_long(len(schools), year=choice.is_year):
        out.update(long=True, recent=page_runs(request, found, choice.key).first())
        return out
    compared = authority.as_data(authority.compare(request.user, schools, cal, choice))  # type: ignore[arg-type]
    out.update(authority_exports.context(compared), **_urls(found, "compare_export"))
    return out


def _render(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    template = "reports/_authority.html" if request.headers.get("HX-Request") else "reports/authority.html"
    return render(request, template, context, status=200 if context["form"].is_valid() else 422)


@require_GET
@authority_view
def compare(request: HttpRequest, found: EducationAuthority) -> HttpResponse:
    """The authority's schools side by side: progress and quality, attendance, for a period."""
    return _render(request, _compare(request, found, request.GET))


def _see_run(found: EducationAuthority, run: ReportRun) -> HttpResponseRedirect:
    response = HttpResponseRedirect(reverse("authority_reports:run", kwargs={"authority_id": found.pk, "pk": run.pk}))
    response.status_code = 303
    return response


@require_POST
@authority_view
def compare_run(request: HttpRequest, found: EducationAuthority) -> HttpResponse:
    """Prepare the comparison of many schools in the background (or follow the one already being prepared)."""
    context = _compare(request, found, request.POST, compute=False)
    if not context["form"].is_valid():
        return _render(request, context)  # 422 with the form's message; nothing queued
    key = context["choice"].key
    working = page_runs(request, found, key).filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).first()
    if working is None:
        working = runs.start_authority_run(
            acting_user=request.user,  # type: ignore[arg-type]
            authority=found,
            fmt="json",
            params={"period": key},
        )
    return _see_run(found, working)


@require_GET
@authority_view
def compare_export(request: HttpRequest, found: EducationAuthority, fmt: str) -> HttpResponse:
    """XLSX or PDF: at once for a few schools, in the background for many (``runs.authority_is_long``)."""
    if fmt not in runs.FORMATS:
        raise Http404
    schools = list(access.compared_schools(request.user, found))
    cal = authority.calendars(schools)
    key = request.GET.get("period") or cal.default()
    choice = next((c for c in cal.choices() if c.key == key), None)
    if choice is None:
        raise Http404
    if runs.authority_is_long(len(schools), year=choice.is_year):
        run = runs.start_authority_run(
            acting_user=request.user,  # type: ignore[arg-type]
            authority=found,
            fmt=fmt,
            params={"period": key},
        )
        return _see_run(found, run)
    compared = authority.as_data(authority.compare(request.user, schools, cal, choice))  # type: ignore[arg-type]
    return exports.download(authority_exports.file(compared, found.name, fmt), fmt, f"schools-{found.pk}")


def _stored(row: ReportRun) -> dict[str, Any] | None:
    """A finished comparison run's figures (read from the database only once it is done), else None."""
    if row.fmt != "json" or row.status != RunStatus.DONE or row.expires_at < timezone.now():
        return None
    content = row.content  # deferred while it was being prepared: read now, once
    return authority.loads(bytes(content)) if content is not None else None


@require_GET
@authority_view
def run(request: HttpRequest, found: EducationAuthority, pk: int) -> HttpResponse:
    """A comparison or a download being prepared: its progress (school by school), then its result."""
    row = get_or_404(access.authority_runs(request.user, found).defer("content"), pk=pk)
    kwargs = {"authority_id": found.pk, "pk": row.pk}
    base: dict[str, Any] = {
        "back": reverse("authority_reports:compare", kwargs={"authority_id": found.pk}),
        "heading": f"{gettext('Comparison of schools')}: {found.name}",
    }
    stored = _stored(row)
    if stored is not None:
        base.update(
            authority_exports.context(stored),
            authority=found,
            result_template="reports/_authority_result.html",
            **_urls(found, "run_export", pk=row.pk),
        )
    return run_views.render_run(
        request,
        row,
        base,
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


@require_GET
@authority_view
def run_export(request: HttpRequest, found: EducationAuthority, pk: int, fmt: str) -> HttpResponse:
    """XLSX or PDF of a comparison prepared in the background, written from its stored figures."""
    row = get_or_404(access.authority_runs(request.user, found), pk=pk)
    stored = _stored(row) if fmt in runs.FORMATS and access.may_read_authority_run(request.user, row) else None
    if stored is None:
        raise Http404  # not a comparison, not ready, its day is over, or a bad format
    return exports.download(authority_exports.file(stored, found.name, fmt), fmt, f"schools-{found.pk}")
