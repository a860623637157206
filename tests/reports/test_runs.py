"""Long reports built in the background (issue 11): the size rule, the run's states and progress, the page that
polls, the API (202 + Location, state, file), who may read a run (tries to break it), failures, pruning."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from classbook.access import report_runs as access
from classbook.access.context import build_context
from classbook.reports import runs
from classbook.reports.models import ReportRun, RunStatus
from tests.conftest import client_for

URL = "/s/lyceum-1/reports/"
API = "/api/v1/schools/lyceum-1/reports"


@pytest.fixture
def long_reports(settings):
    """Every school counts as large: the whole school's and the year's exports go to the background."""
    settings.REPORTS_BACKGROUND_STUDENTS = 0


def _run_of(response) -> ReportRun:
    assert response.status_code == 303, response.status_code
    return ReportRun.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


# --- The size rule ---------------------------------------------------------------------------------------


def test_small_schools_export_at_once_as_before(world, built):
    response = client_for(world.deputy).get(f"{URL}progress.xlsx?period=y{built.semester.year_id}&group_by=class")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not ReportRun.objects.exists()


def test_a_class_of_a_large_school_is_still_exported_at_once(world, built, long_reports):
    query = f"period=p{built.semester.pk}&group_by=subject&school_class={world.class_a.pk}"
    assert client_for(world.deputy).get(f"{URL}progress.xlsx?{query}").status_code == 200
    query = f"start=2026-09-01&end=2026-09-30&school_class={world.class_a.pk}"
    assert client_for(world.deputy).get(f"{URL}attendance.xlsx?{query}").status_code == 200
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    ("kind", "query", "long"),
    [
        ("progress", "period=y1", True),
        ("progress", "period=p1", True),  # the whole school
        ("progress", "period=y1&school_class=5", True),  # the year
        ("progress", "period=p1&school_class=5", False),
        ("attendance", "start=2026-09-01&end=2026-09-30", True),
        ("attendance", "start=2026-09-01&end=2026-09-30&school_class=5", False),
        ("attendance", "start=2026-09-01&end=2027-05-31&school_class=5", True),
        ("attendance", "start=bad&end=worse&school_class=5", False),
        ("summary", "period=y1", False),
    ],
)
def test_the_size_rule(world, long_reports, kind, query, long):
    from django.http import QueryDict

    assert runs.is_long(kind, world.school, QueryDict(query)) is long


def test_the_size_rule_counts_the_school_students(world, settings):
    from django.http import QueryDict

    settings.REPORTS_BACKGROUND_STUDENTS = 3  # the world's school has two students
    assert runs.is_long("progress", world.school, QueryDict("period=y1")) is False
    settings.REPORTS_BACKGROUND_STUDENTS = 2
    assert runs.is_long("progress", world.school, QueryDict("period=y1")) is True


# --- A run from the page to the file ---------------------------------------------------------------------


@pytest.fixture
def steps_seen(monkeypatch):
    """Every (done, total) a run saves, in order."""
    seen: list[tuple[int, int]] = []
    saving = runs.progress_of

    def progress_of(run):
        save = saving(run)
        return lambda done, total: (seen.append((done, total)), save(done, total))

    monkeypatch.setattr(runs, "progress_of", progress_of)
    return seen


def test_the_whole_school_progress_export_is_built_in_the_background(world, built, long_reports, steps_seen):
    client = client_for(world.deputy)
    query = f"period=p{built.semester.pk}&group_by=class"
    direct = None
    run = _run_of(client.get(f"{URL}progress.xlsx?{query}"))
    assert run.status == RunStatus.DONE and run.school == world.school and run.requested_by == world.deputy
    assert run.kind == "progress" and run.fmt == "xlsx" and run.done == run.total == 4
    assert steps_seen == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]  # the filters, the query, the table, the file
    assert run.filename == "progress-lyceum-1.xlsx"
    page = client.get(f"{URL}runs/{run.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "Ready" in body and f"runs/{run.pk}/file" in body
    assert "every 2s" not in body  # a finished run is no longer polled
    file = client.get(f"{URL}runs/{run.pk}/file")
    assert file.status_code == 200 and file["Cache-Control"] == "no-store"
    assert 'filename="progress-lyceum-1.xlsx"' in file["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(file.content)).active
    # The same file as the immediate path: built by the same view with the same filters.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runs, "background_students", lambda: 10**9)
        direct = client.get(f"{URL}progress.xlsx?{query}")
    immediate = load_workbook(io.BytesIO(direct.content)).active
    assert [[c.value for c in r] for r in sheet.iter_rows()] == [[c.value for c in r] for r in immediate.iter_rows()]


def test_the_attendance_export_and_a_pdf(world, built, long_reports, steps_seen):
    client = client_for(world.director)
    run = _run_of(client.get(f"{URL}attendance.pdf?start=2026-09-01&end=2026-12-31&group_by=class"))
    assert run.status == RunStatus.DONE, run.error
    assert run.done == run.total == 5 and steps_seen == [(step, 5) for step in range(6)]
    file = client.get(f"{URL}runs/{run.pk}/file")
    assert file["Content-Type"] == "application/pdf" and file.content.startswith(b"%PDF")


def test_a_queued_run_is_polled_with_a_progress_bar(world, long_reports):
    run = ReportRun.objects.create(
        school=world.school,
        requested_by=world.deputy,
        kind="progress",
        fmt="xlsx",
        status=RunStatus.RUNNING,
        done=1,
        total=4,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    client = client_for(world.deputy)
    body = client.get(f"{URL}runs/{run.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in body and '<progress max="100" value="25"' in body and "<html" in body
    part = client.get(f"{URL}runs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and 'value="25"' in part and "<script" not in part
    assert client.get(f"{URL}runs/{run.pk}/file").status_code == 404  # not ready yet


def test_a_bad_filter_fails_with_a_translated_message_not_a_500(world, built, long_reports):
    client = client_for(world.deputy)
    run = _run_of(client.get(f"{URL}progress.xlsx?period=y999999"))
    assert run.status == RunStatus.FAILED and run.content is None
    body = client.get(f"{URL}runs/{run.pk}/").content.decode()
    assert "Failed" in body and "filters" in body
    assert client.get(f"{URL}runs/{run.pk}/file").status_code == 404


def test_an_error_while_building_is_a_failed_run(world, built, long_reports, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setitem(runs.BUILDERS, "progress", boom)
    run = _run_of(client_for(world.deputy).get(f"{URL}progress.xlsx?period=y{built.semester.year_id}"))
    assert run.status == RunStatus.FAILED
    assert run.error == "The report could not be prepared. Try again later, or narrow its filters."


def test_a_role_lost_before_the_build_fails_the_run(world, built):
    run = ReportRun.objects.create(
        school=world.school,
        requested_by=world.deputy,
        kind="progress",
        fmt="xlsx",
        params={"query": f"period=y{built.semester.year_id}", "host": "localhost"},
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    world.deputy.memberships.update(is_active=False)
    assert runs.build(run.pk) == "failed"
    run.refresh_from_db()
    assert "no longer" in run.error
    assert runs.build(run.pk) == "skipped"  # safe to run twice


def test_the_error_is_in_the_requesters_language(world, built, long_reports):
    world.deputy.language = "uk"
    world.deputy.save()
    run = _run_of(client_for(world.deputy).get(f"{URL}progress.xlsx?period=y999999"))
    assert run.status == RunStatus.FAILED and run.error  # translated when the catalogue has it (the lead fills it)


# --- Who reads a run ---------------------------------------------------------------------------------------


@pytest.fixture
def deputy_run(world, built, long_reports) -> ReportRun:
    return _run_of(client_for(world.deputy).get(f"{URL}progress.xlsx?period=y{built.semester.year_id}"))


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("deputy", 200),  # who asked
        ("director", 200),  # the school's director
        ("admin", 404),
        ("teacher", 404),
        ("class_teacher", 404),
        ("viewer", 404),
        ("secretary", 403),  # no reports at all
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),  # another school
        ("foreign_teacher", 404),
    ],
)
def test_who_reads_a_run(world, deputy_run, persona, status):
    user = getattr(world, persona)
    client = client_for(getattr(user, "user", user))  # a Student's login
    assert client.get(f"{URL}runs/{deputy_run.pk}/").status_code == status
    assert client.get(f"{URL}runs/{deputy_run.pk}/file").status_code == status
    assert client.get(f"{API}/runs/{deputy_run.pk}").status_code == status
    assert client.get(f"{API}/runs/{deputy_run.pk}/file").status_code == status


def test_anonymous_never_reads_a_run(world, deputy_run):
    client = client_for(None)
    assert client.get(f"{URL}runs/{deputy_run.pk}/").status_code == 302  # to the login
    assert client.get(f"{URL}runs/{deputy_run.pk}/file").status_code == 302
    assert client.get(f"{API}/runs/{deputy_run.pk}").status_code == 401
    assert client.get(f"{API}/runs/{deputy_run.pk}/file").status_code == 401
    assert client.post(f"{API}/runs", {"report": "progress"}, content_type="application/json").status_code == 401


def test_another_schools_url_never_reaches_the_run(world, deputy_run):
    """The foreign school's director asks for the run's id under their own school: not there."""
    from classbook.people.models import Role
    from tests import factories as f

    foreign_director = f.make_member(world.other_school, Role.DIRECTOR, username="foreigndirector")
    client = client_for(foreign_director)
    assert client.get(f"/s/gymnasium-2/reports/runs/{deputy_run.pk}/").status_code == 404
    assert client.get(f"/api/v1/schools/gymnasium-2/reports/runs/{deputy_run.pk}/file").status_code == 404


def test_the_access_functions(world, deputy_run):
    def ctx(user):
        return build_context(user, world.school)

    assert list(access.school_runs(ctx(world.deputy))) == [deputy_run]
    assert list(access.school_runs(ctx(world.director))) == [deputy_run]
    assert not access.school_runs(ctx(world.admin)).exists()
    assert not access.school_runs(ctx(world.teacher)).exists()
    assert not access.school_runs(ctx(world.secretary)).exists()
    assert access.may_read_school_run(ctx(world.deputy), deputy_run)
    assert not access.may_read_school_run(ctx(world.teacher), deputy_run)
    other = build_context(world.foreign_admin, world.other_school)
    assert not access.may_read_school_run(other, deputy_run)
    assert not access.school_runs(other).exists()


# --- The API --------------------------------------------------------------------------------------------


def test_the_api_starts_a_run_polls_it_and_downloads_the_file(world, built):
    client = client_for(world.deputy)
    body = {"report": "progress", "format": "xlsx", "filters": {"period": f"p{built.semester.pk}", "group_by": "class"}}
    started = client.post(f"{API}/runs", body, content_type="application/json")
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started["Location"] == f"{API}/runs/{run_id}"
    state = client.get(started["Location"]).json()
    assert state["status"] == "done" and state["percent"] == 100 and state["file"] == f"{API}/runs/{run_id}/file"
    file = client.get(state["file"])
    assert file.status_code == 200 and load_workbook(io.BytesIO(file.content)).active["A1"].value


def test_the_api_refuses_bad_input_without_a_500(world, built):
    client = client_for(world.deputy)
    assert client.post(f"{API}/runs", {"report": "summary"}, content_type="application/json").status_code == 422
    assert (
        client.post(f"{API}/runs", {"report": "progress", "format": "doc"}, content_type="application/json").status_code
        == 422
    )
    bad = client.post(
        f"{API}/runs", {"report": "progress", "filters": {"period": "zzz"}}, content_type="application/json"
    )
    assert bad.status_code == 202 and bad.json()["status"] == "failed" and bad.json()["error"]
    assert (
        client_for(world.student.user)
        .post(f"{API}/runs", {"report": "progress"}, content_type="application/json")
        .status_code
        == 403
    )
    assert client.get(f"{API}/runs/999999").status_code == 404


def test_polling_costs_a_constant_number_of_queries(world, deputy_run, django_assert_max_num_queries):
    client = client_for(world.deputy)
    with django_assert_max_num_queries(8):
        client.get(f"{URL}runs/{deputy_run.pk}/", headers={"HX-Request": "true"})
    with django_assert_max_num_queries(8):
        client.get(f"{API}/runs/{deputy_run.pk}")


# --- Pruning --------------------------------------------------------------------------------------------


def test_old_runs_are_pruned(world, deputy_run):
    from django.core.management import call_command

    old = ReportRun.objects.create(
        school=world.school,
        requested_by=world.deputy,
        kind="progress",
        fmt="xlsx",
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    assert runs.prune() == 1
    assert not ReportRun.objects.filter(pk=old.pk).exists() and ReportRun.objects.filter(pk=deputy_run.pk).exists()
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(timezone, "now", lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
        call_command("prune_report_runs", stdout=out)
    assert out.getvalue().strip() == "report runs deleted: 1"
    assert not ReportRun.objects.exists()


def test_an_expired_file_is_no_longer_served(world, deputy_run):
    ReportRun.objects.filter(pk=deputy_run.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = client_for(world.deputy)
    assert client.get(f"{URL}runs/{deputy_run.pk}/file").status_code == 404
    assert client.get(f"{API}/runs/{deputy_run.pk}/file").status_code == 404
