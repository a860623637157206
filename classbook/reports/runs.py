"""Long reports built in the background (issue 11): one mechanism for every report that may take long.

A :class:`~classbook.reports.models.ReportRun` records who asked, which report, its filters, its state
(queued → running → done | failed), its progress (``done`` of ``total`` steps) and, when done, the file
(XLSX or PDF bytes) kept until ``expires_at``. :func:`start_school_run` and :func:`start_authority_run` create
the run and queue :func:`classbook.reports.tasks.build_run` (django-tasks: the database backend and
``manage.py worker`` in production, run at once in tests); the run's page polls its state with htmx and
offers the file when it is ready. Who reads a run: ``classbook/access/report_runs.py``.

What is built in the background (the size rule, docs/reports.md "Long reports"): an export of the progress
report or the attendance report whose scope is **the whole school** (no class chosen) **or the year** (the
annual grades, or a range of days longer than ``LONG_RANGE_DAYS``), in a school with at least
``REPORTS_BACKGROUND_STUDENTS`` students (setting, default 300). Anything smaller is exported at once, as
before. The page of a school's report (the HTML table) always renders at once. The authority's comparison
(:func:`authority_is_long`) goes to the background as a whole — its page too (a run of format ``json``: the
comparison's figures, from which the page and its downloads are written) — when it weighs more than
``REPORTS_AUTHORITY_BACKGROUND_SCHOOLS`` schools, a year weighing two.

Progress: an authority's run advances school by school; a school's export advances step by step (the
filters, each of the report's queries, the table and charts, the file: ``SCHOOL_EXPORTS``'s counts, marked
by ``reports.steps.advance`` in the export's own code), one ``UPDATE`` a step.

A school's export is built by calling the export's own view with the filters the person sent and the
person as the user: the same access rules, the same read model, the same file as the immediate path (one
definition), checked again when it is built — a role lost meanwhile makes the run fail, not leak.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpRequest, QueryDict
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classbook.people.models import Student
from classbook.reports import exports, steps
from classbook.reports.models import ReportRun, RunStatus
from classbook.schools.models import EducationAuthority, School

if TYPE_CHECKING:
    from classbook.people.models import User

logger = logging.getLogger(__name__)

# The school's exports that may be built in the background: the run's kind → the export's URL name and its
# number of steps (``steps.advance`` calls: progress — the filters, the query, the table and charts, the file;
# attendance — the counts, whole days, the weeks, the table and charts, the file).
SCHOOL_EXPORTS = {"progress": ("reports:progress_export", 4), "attendance": ("reports:attendance_export", 5)}
FORMATS = exports.FORMATS  # the formats a school's run can build (every report download)
# An authority's run builds those, or the comparison's figures as JSON (its page and the API read them).
AUTHORITY_FORMATS = {**FORMATS, "json": "application/json"}
KEEP_FOR = dt.timedelta(days=1)  # a finished file is kept a day, then pruned
LONG_RANGE_DAYS = 92  # an attendance range longer than a quarter counts as "the year"
DEFAULT_BACKGROUND_STUDENTS = 300
DEFAULT_AUTHORITY_SCHOOLS = 5
_FILENAME = re.compile(r'filename="([^"]+)"')


class RunRefused(Exception):
    """The report cannot be built for a reason the person can act on (shown to them, translated)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- The size rule --------------------------------------------------------------------------------------


def background_students() -> int:
    return int(getattr(settings, "REPORTS_BACKGROUND_STUDENTS", DEFAULT_BACKGROUND_STUDENTS))


def is_long(kind: str, school: School, query: QueryDict) -> bool:
    """Whether the export ``kind`` with these filters goes to the background (see the module's docstring):
    the whole school or the year, in a school of at least ``REPORTS_BACKGROUND_STUDENTS`` students. One
    ``COUNT`` query, asked only when the scope is wide."""
    whole_school = not query.get("school_class")
    if kind == "progress":
        year = str(query.get("period", "")).startswith("y")
    elif kind == "attendance":
        year = _range_days(query) > LONG_RANGE_DAYS
    else:
        return False
    if not (whole_school or year):
        return False
    return Student.objects.filter(school=school).count() >= background_students()


def authority_is_long(schools: int, *, year: bool = False) -> bool:
    """The authority's comparison (its page and its downloads) is built in the background when it weighs more
    than ``REPORTS_AUTHORITY_BACKGROUND_SCHOOLS`` schools (setting, default 5: ten demo schools took 4.3-7 s
    for a semester on a loaded machine, bench/reports_authority.py); the year (annual grades, and the year's
    attendance: two semesters of rows) weighs two a school. No query: the caller has the schools."""
    weight = schools * 2 if year else schools
    return weight > int(getattr(settings, "REPORTS_AUTHORITY_BACKGROUND_SCHOOLS", DEFAULT_AUTHORITY_SCHOOLS))


def _range_days(query: QueryDict) -> int:
    try:
        start = dt.date.fromisoformat(str(query.get("start", "")))
        end = dt.date.fromisoformat(str(query.get("end", "")))
    except ValueError:
        return 0  # the default range (a month) or a bad one, which the report itself refuses
    return (end - start).days + 1


def in_run(request: HttpRequest) -> bool:
    """The request is the background build of a run (its export answers at once)."""
    return getattr(request, "report_run", None) is not None


# --- Starting -------------------------------------------------------------------------------------------


def _enqueue(run: ReportRun) -> ReportRun:
    from classbook.reports import tasks  # the task calls back into this module

    tasks.build_run.enqueue(run.pk)
    run.refresh_from_db()
    return run


def start_school_run(*, acting_user: User, school: School, kind: str, fmt: str, query: str, host: str) -> ReportRun:
    """Queue the export ``kind`` (``SCHOOL_EXPORTS``) in ``fmt`` with the filters ``query`` (a query string)."""
    if kind not in SCHOOL_EXPORTS or fmt not in FORMATS:
        raise ValueError(f"not a background export: {kind}.{fmt}")
    run = ReportRun.objects.create(
        school=school,
        requested_by=acting_user,
        kind=kind,
        fmt=fmt,
        params={"query": query[:2000], "host": host[:200]},
        expires_at=timezone.now() + KEEP_FOR,
    )
    return _enqueue(run)


def start_authority_run(
    *, acting_user: User, authority: EducationAuthority, fmt: str, params: dict[str, Any]
) -> ReportRun:
    """Queue the comparison of the authority's schools (``reports/authority.py``) as ``fmt``
    (``AUTHORITY_FORMATS``), with ``params`` ``{"period": <a choice's key>}``."""
    if fmt not in AUTHORITY_FORMATS:
        raise ValueError(f"not a format: {fmt}")
    run = ReportRun.objects.create(
        authority=authority,
        requested_by=acting_user,
        kind="authority",
        fmt=fmt,
        params=params,
        expires_at=timezone.now() + KEEP_FOR,
    )
    return _enqueue(run)


# --- Building (the task) --------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def progress_of(run: ReportRun) -> Progress:
    """A callback saving ``done`` of ``total`` on the run (one UPDATE; the page polls it)."""

    def report(done: int, total: int) -> None:
        ReportRun.objects.filter(pk=run.pk).update(done=done, total=total)

    return report


def _school_export(run: ReportRun, user: User, progress: Progress) -> tuple[bytes, str]:
    """Call the export's own view as the person who asked, with their filters (module docstring)."""
    assert run.school is not None
    request = HttpRequest()
    request.method = "GET"
    request.user = user
    request.GET = QueryDict(run.params.get("query", ""))
    host = str(run.params.get("host") or "localhost")
    request.META = {"SERVER_NAME": host, "SERVER_PORT": "443", "HTTP_HOST": host, "wsgi.url_scheme": "https"}
    request.report_run = run  # type: ignore[attr-defined]
    url_name, total = SCHOOL_EXPORTS[run.kind]
    match = resolve(reverse(url_name, kwargs={"school": run.school.slug, "fmt": run.fmt}))
    try:
        with steps.tracking(progress, total):
            response = match.func(request, *match.args, **match.kwargs)
    except (Http404, PermissionDenied):
        raise RunRefused(_("You may no longer read this report, or its filters do not match any report.")) from None
    if response.status_code != 200:
        raise RunRefused(_("The report's filters are not valid; open the report and choose them again."))
    found = _FILENAME.search(response.get("Content-Disposition", ""))
    return bytes(response.content), found.group(1) if found else f"{run.kind}.{run.fmt}"


def _authority_export(run: ReportRun, user: User, progress: Progress) -> tuple[bytes, str]:
    from classbook.reports import authority_exports  # the comparison's file

    return authority_exports.build_file(run, user, progress)


BUILDERS: dict[str, Callable[[ReportRun, Any, Progress], tuple[bytes, str]]] = {
    "progress": _school_export,
    "attendance": _school_export,
    "authority": _authority_export,
}


def build(run_id: int) -> str:
    """Build the run (the task's body): its state, progress and file, or a translated error. Safe to run
    twice: a run already done or failed is left alone."""
    run = ReportRun.objects.select_related("school", "requested_by").filter(pk=run_id).first()
    if run is None or run.status in (RunStatus.DONE, RunStatus.FAILED):
        return "skipped"
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    user = run.requested_by
    with translation.override(user.language or settings.LANGUAGE_CODE):
        try:
            if not user.is_active:
                raise RunRefused(_("You may no longer read this report."))
            content, filename = BUILDERS[run.kind](run, user, progress_of(run))
        except RunRefused as refused:
            return _fail(run, refused.message)
        except Exception:
            logger.exception("report run %s (%s) failed", run.pk, run.kind)
            return _fail(run, _("The report could not be prepared. Try again later, or narrow its filters."))
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        content=content,
        filename=filename[:200],
        done=F("total"),
        finished_at=timezone.now(),
        expires_at=timezone.now() + KEEP_FOR,
    )
    return "done"


def _fail(run: ReportRun, message: str) -> str:
    ReportRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, error=message[:255], finished_at=timezone.now(), content=None
    )
    return "failed"


# --- Cleaning up ----------------------------------------------------------------------------------------


def prune(now: dt.datetime | None = None) -> int:
    """Delete the runs whose time is over (``expires_at``), finished or not: ``manage.py prune_report_runs``."""
    deleted, _by_model = ReportRun.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
