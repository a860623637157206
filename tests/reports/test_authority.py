"""The education authority's comparison of its schools (issue 11): figures against the raw rows, who may compare
which schools (tries to break it), the page, its exports and the API, the background export, query counts."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from classbook.people.models import AuthorityViewer
from classbook.reports import authority
from classbook.reports.models import ReportRun, RunStatus
from classbook.schools.models import EducationAuthority
from tests import factories as f
from tests.conftest import client_for
from tests.reports import attendance_reference, reference
from tests.reports.attendance_data import attendance_world  # noqa: F401

KEY = "2026/2027|semester|1"
FIELDS = ("students", "average", "success_rate", "quality_rate", "sou")


@pytest.fixture
def two(world):
    """The world's authority oversees lyceum-1 (A) and gymnasium-2 (B); another authority oversees C only."""
    auth = EducationAuthority.objects.get()
    auth.schools.add(world.other_school)
    other_period = f.PeriodFactory(year=world.foreign_class.year)
    school_c = f.SchoolFactory(slug="school-c", name="Школа C")
    f.PeriodFactory(year=f.YearFactory(school=school_c))
    auth_c = EducationAuthority.objects.create(name="Інше управління")
    auth_c.schools.add(school_c)
    return auth, auth_c, school_c, other_period


def _url(auth, rest="compare/"):
    return f"/authority/{auth.pk}/reports/{rest}"


def _line(comparison, school):
    return next(line for line in comparison.lines if line.school_id == school.pk)


# --- The figures ---------------------------------------------------------------------------------------------


def test_progress_figures_match_the_raw_rows(world, built, two):
    auth = two[0]
    schools = [world.other_school, world.school]
    cal = authority.calendars(schools)
    choice = next(c for c in cal.choices() if c.key == KEY)
    comparison = authority.compare(world.viewer, schools, cal, choice)
    got = _line(comparison, world.school)
    expected = reference.progress(
        world.school,
        built.class_a.year,
        built.semester,
        "school",
        basis="students",
        not_attested_fails=True,
        include_departed=False,
    )[None]
    assert got.period == "I семестр" and got.progress is not None
    assert {k: getattr(got.progress, k) for k in FIELDS if k != "sou"} == {k: expected[k] for k in FIELDS if k != "sou"}
    assert not got.shows_sou  # a Ukrainian school does not show the СОУ by default
    empty = _line(comparison, world.other_school)  # the period exists there, without any grade
    assert empty.period == "I семестр" and empty.progress is None and empty.missed == 0
    assert auth.schools.count() == 2


def test_the_year_compares_the_annual_grades(world, built, two):
    schools = [world.school]
    cal = authority.calendars(schools)
    choice = next(c for c in cal.choices() if c.key == "2026/2027|year")
    got = _line(authority.compare(world.viewer, schools, cal, choice), world.school)
    expected = reference.progress(
        world.school,
        built.class_a.year,
        None,
        "school",
        basis="students",
        not_attested_fails=True,
        include_departed=False,
    )[None]
    assert got.progress is not None and got.progress.students == expected["students"]
    assert got.progress.success_rate == expected["success_rate"]


def test_attendance_figures_match_the_raw_rows(world, att, two):
    schools = [world.school, world.other_school]
    cal = authority.calendars(schools)
    choice = next(c for c in cal.choices() if c.key == KEY)
    got = _line(authority.compare(world.viewer, schools, cal, choice), world.school)
    raw = attendance_reference.load(world.school)
    expected = attendance_reference.figures(raw, lambda r: 0, att.semester.start, att.semester.end, with_days=False)[0]
    assert (got.missed, got.excused, got.unexcused, got.illness, got.late) == (
        expected.missed,
        expected.excused,
        expected.unexcused,
        expected.illness,
        expected.late,
    )
    assert expected.missed > expected.excused > 0 and expected.late > 0  # the edge cases are there
    share = (Decimal(expected.excused) * 100 / expected.missed).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
    assert got.excused_share == share


def test_a_school_without_the_period_is_shown_without_figures(world, built, two):
    schools = [world.school, world.other_school]
    cal = authority.calendars(schools)
    choice = authority.Choice("2026/2027|quarter|3", "x")
    comparison = authority.compare(world.viewer, schools, cal, choice)
    assert all(line.period is None and line.progress is None for line in comparison.lines)


# --- Who compares which schools --------------------------------------------------------------------------------


def test_the_viewer_compares_only_the_schools_of_their_authority(world, built, two):
    auth, auth_c, _school_c, _p = two
    client = client_for(world.viewer)
    page = client.get(_url(auth))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Ліцей № 1" in body and "Гімназія № 2" in body and "Школа C" not in body
    assert client.get(_url(auth_c)).status_code == 404  # C's authority is not theirs
    assert client.get(_url(auth_c, "compare.xlsx")).status_code == 404
    assert client.get(f"/api/v1/authorities/{auth_c.pk}/reports/compare").status_code == 404
    api = client.get(f"/api/v1/authorities/{auth.pk}/reports/compare").json()
    assert {s["name"] for s in api["schools"]} == {"Ліцей № 1", "Гімназія № 2"}


def test_an_inactive_school_is_not_compared(world, built, two):
    world.other_school.is_active = False
    world.other_school.save()
    api = client_for(world.viewer).get(f"/api/v1/authorities/{two[0].pk}/reports/compare").json()
    assert [s["name"] for s in api["schools"]] == ["Ліцей № 1"]


@pytest.mark.parametrize("persona", ["director", "admin", "deputy", "teacher", "foreign_admin", "parent"])
def test_school_people_cannot_use_the_authority_view(world, two, persona):
    client = client_for(getattr(world, persona))
    auth = two[0]
    assert client.get(_url(auth)).status_code == 404
    assert client.get(_url(auth, "compare.pdf")).status_code == 404
    assert client.get(f"/api/v1/authorities/{auth.pk}/reports/compare").status_code == 404


def test_a_viewer_of_another_authority_is_refused(world, two):
    auth, auth_c, _c, _p = two
    viewer_c = f.UserFactory(username="viewerc")
    AuthorityViewer.objects.create(authority=auth_c, user=viewer_c)
    assert client_for(viewer_c).get(_url(auth)).status_code == 404
    assert client_for(viewer_c).get(_url(auth_c)).status_code == 200


def test_anonymous_is_refused(world, two):
    auth = two[0]
    client = client_for(None)
    assert client.get(_url(auth)).status_code == 302
    assert client.get(_url(auth, "compare.xlsx")).status_code == 302
    assert client.get(f"/api/v1/authorities/{auth.pk}/reports/compare").status_code == 401


# --- The page, the exports, the API -----------------------------------------------------------------------------


def test_the_page_shows_schools_a_chart_and_no_names(world, built, two):
    client = client_for(world.viewer)
    body = client.get(_url(two[0]) + f"?period={KEY}").content.decode()
    assert body.count("<svg") == 2 and 'role="img"' in body
    for student in built.students.values():
        assert student.user.last_name not in body  # school-level aggregates only
    part = client.get(_url(two[0]) + f"?period={KEY}", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in part and "Гімназія № 2" in part


def test_a_bad_period_is_a_message_not_a_500(world, two):
    client = client_for(world.viewer)
    assert client.get(_url(two[0]) + "?period=nonsense").status_code == 422
    assert client.get(_url(two[0], "compare.xlsx") + "?period=nonsense").status_code == 404
    assert client.get(_url(two[0], "compare.doc")).status_code == 404
    assert client.get(f"/api/v1/authorities/{two[0].pk}/reports/compare?period=nonsense").status_code == 422


def test_the_exports_read_back(world, built, two):
    client = client_for(world.viewer)
    xlsx = client.get(_url(two[0], "compare.xlsx") + f"?period={KEY}")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    lyceum = next(row for row in values if row and row[0] == "Ліцей № 1")
    assert isinstance(lyceum[2], int) and lyceum[1] == "I семестр"
    pdf = client.get(_url(two[0], "compare.pdf") + f"?period={KEY}")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Гімназія" in text


def test_the_api_answers_every_figure(world, built, two):
    body = client_for(world.viewer).get(f"/api/v1/authorities/{two[0].pk}/reports/compare?period={KEY}").json()
    assert body["period"]["key"] == KEY and KEY in {p["key"] for p in body["periods"]}
    lyceum = next(s for s in body["schools"] if s["name"] == "Ліцей № 1")
    assert lyceum["students"] > 0 and lyceum["success_rate"] is not None and lyceum["missed"] == 0


# --- In the background ------------------------------------------------------------------------------------------


def test_many_schools_are_exported_in_the_background(world, built, two, settings):
    settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 1
    auth = two[0]
    client = client_for(world.viewer)
    response = client.get(_url(auth, "compare.xlsx") + f"?period={KEY}")
    assert response.status_code == 303
    run = ReportRun.objects.get()
    assert run.authority == auth and run.school is None and run.status == RunStatus.DONE, run.error
    assert run.done == run.total == 2  # one step per school
    assert response["Location"] == _url(auth, f"runs/{run.pk}/")
    assert "Ready" in client.get(response["Location"]).content.decode()
    file = client.get(_url(auth, f"runs/{run.pk}/file"))
    assert file.status_code == 200 and load_workbook(io.BytesIO(file.content)).active
    # Nobody else reads it: another viewer of the same authority, a director, another authority's viewer.
    colleague = f.UserFactory(username="colleague")
    AuthorityViewer.objects.create(authority=auth, user=colleague)
    for user in (colleague, world.director):
        assert client_for(user).get(_url(auth, f"runs/{run.pk}/")).status_code == 404
        assert client_for(user).get(_url(auth, f"runs/{run.pk}/file")).status_code == 404
    assert client_for(None).get(_url(auth, f"runs/{run.pk}/file")).status_code == 302
    # A viewer who lost the authority loses the run.
    AuthorityViewer.objects.filter(user=world.viewer).delete()
    assert client.get(_url(auth, f"runs/{run.pk}/file")).status_code == 404


def test_many_schools_are_compared_in_the_background_page_first(world, built, two, settings, monkeypatch):
    from classbook.reports import runs

    seen: list[tuple[int, int]] = []
    saving = runs.progress_of
    monkeypatch.setattr(runs, "progress_of", lambda run: lambda d, t: (seen.append((d, t)), saving(run)(d, t)))
    auth, client = two[0], client_for(world.viewer)
    settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 1
    page = client.get(_url(auth) + f"?period={KEY}").content.decode()
    assert "Prepare the comparison" in page and "<svg" not in page and "Гімназія № 2" not in page
    assert not ReportRun.objects.exists()  # a GET queues nothing
    assert client.post(_url(auth, "compare/run"), {"period": "nonsense"}).status_code == 422
    assert not ReportRun.objects.exists()
    started = client.post(_url(auth, "compare/run"), {"period": KEY})
    run = ReportRun.objects.get()
    assert started.status_code == 303 and started["Location"] == _url(auth, f"runs/{run.pk}/")
    assert run.fmt == "json" and run.status == RunStatus.DONE and run.done == run.total == 2, run.error
    assert seen == [(0, 2), (1, 2), (2, 2)]  # a step per school
    result = client.get(started["Location"]).content.decode()
    assert "Гімназія № 2" in result and result.count("<svg") == 2 and "every 2s" not in result
    assert _url(auth, f"runs/{run.pk}/compare.xlsx") in result
    # The downloads are written from the stored figures, the same as the immediate path's.
    stored = client.get(_url(auth, f"runs/{run.pk}/compare.xlsx"))
    settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 5
    direct = client.get(_url(auth, "compare.xlsx") + f"?period={KEY}")
    cells = [
        [[c.value for c in r] for r in load_workbook(io.BytesIO(x.content)).active.iter_rows()]
        for x in (stored, direct)
    ]
    assert cells[0] == cells[1]
    assert client.get(_url(auth, f"runs/{run.pk}/compare.pdf")).content.startswith(b"%PDF")
    assert client.get(_url(auth, f"runs/{run.pk}/compare.doc")).status_code == 404
    # The page now offers the prepared comparison; a POST while one is being prepared follows it.
    settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 1
    assert f"runs/{run.pk}/" in client.get(_url(auth) + f"?period={KEY}").content.decode()
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, done=1)
    again = client.post(_url(auth, "compare/run"), {"period": KEY})
    assert again["Location"] == started["Location"] and ReportRun.objects.count() == 1
    poll = client.get(again["Location"], headers={"HX-Request": "true"}).content.decode()
    assert '<progress max="100" value="50"' in poll and 'hx-trigger="every 2s"' in poll
    # Nobody else reaches it: a colleague viewer, a director, anonymous.
    colleague = f.UserFactory(username="colleague2")
    AuthorityViewer.objects.create(authority=auth, user=colleague)
    for user in (colleague, world.director):
        assert client_for(user).get(_url(auth, f"runs/{run.pk}/")).status_code == 404
        assert client_for(user).get(_url(auth, f"runs/{run.pk}/compare.xlsx")).status_code == 404
    assert client_for(world.director).post(_url(auth, "compare/run"), {"period": KEY}).status_code == 404
    assert client_for(None).post(_url(auth, "compare/run"), {"period": KEY}).status_code == 302
    assert ReportRun.objects.count() == 1


def test_the_size_rule_weighs_schools_and_the_year(settings):
    from classbook.reports import runs

    settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 5
    assert not runs.authority_is_long(5) and runs.authority_is_long(6)
    assert not runs.authority_is_long(2, year=True) and runs.authority_is_long(3, year=True)


def test_the_api_compares_in_the_background(world, built, two):
    auth, client = two[0], client_for(world.viewer)
    api = f"/api/v1/authorities/{auth.pk}/reports"
    started = client.post(f"{api}/runs", {"period": KEY}, content_type="application/json")
    assert started.status_code == 202, started.content
    body = started.json()
    assert started["Location"] == f"{api}/runs/{body['id']}" and body["report"] == "authority"
    state = client.get(started["Location"]).json()
    assert state["status"] == "done" and state["done"] == state["total"] == 2 and state["percent"] == 100
    file = client.get(state["file"])
    assert file.status_code == 200 and file["Content-Type"] == "application/json"
    direct = client.get(f"{api}/compare?period={KEY}").json()
    assert file.json()["period"] == direct["period"]
    assert [{k: str(v) for k, v in s.items()} for s in file.json()["schools"]] == [
        {k: str(v) for k, v in s.items()} for s in direct["schools"]
    ]
    xlsx = client.post(f"{api}/runs", {"period": KEY, "format": "xlsx"}, content_type="application/json")
    assert load_workbook(io.BytesIO(client.get(xlsx.json()["file"]).content)).active
    # Bad input: a 422 in the error shape, nothing queued.
    count = ReportRun.objects.count()
    bad = client.post(f"{api}/runs", {"period": "nonsense"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_period"
    assert client.post(f"{api}/runs", {"format": "doc"}, content_type="application/json").status_code == 422
    assert ReportRun.objects.count() == count


def test_the_api_runs_refuse_everyone_but_the_viewer_who_asked(world, built, two):
    auth, auth_c = two[0], two[1]
    api = f"/api/v1/authorities/{auth.pk}/reports/runs"
    run_id = client_for(world.viewer).post(api, {"period": KEY}, content_type="application/json").json()["id"]
    viewer_c = f.UserFactory(username="viewerc2")
    AuthorityViewer.objects.create(authority=auth_c, user=viewer_c)
    colleague = f.UserFactory(username="colleague3")
    AuthorityViewer.objects.create(authority=auth, user=colleague)
    for user in (viewer_c, world.director, world.teacher, world.parent):
        client = client_for(user)
        assert client.post(api, {"period": KEY}, content_type="application/json").status_code == 404
        assert client.get(f"{api}/{run_id}").status_code == 404
        assert client.get(f"{api}/{run_id}/file").status_code == 404
    for path in (f"{api}/{run_id}", f"{api}/{run_id}/file"):
        assert client_for(colleague).get(path).status_code == 404  # a colleague viewer: not theirs
        assert client_for(None).get(path).status_code == 401
    assert client_for(None).post(api, {"period": KEY}, content_type="application/json").status_code == 401
    other = f"/api/v1/authorities/{auth_c.pk}/reports/runs/{run_id}"
    assert client_for(world.viewer).get(other).status_code == 404  # their run, under another authority's URL
    assert ReportRun.objects.count() == 1


def test_polling_a_comparison_run_costs_a_constant_number_of_queries(world, two, django_assert_max_num_queries):
    import datetime as dt

    from django.utils import timezone

    run = ReportRun.objects.create(
        authority=two[0],
        requested_by=world.viewer,
        kind="authority",
        fmt="json",
        status=RunStatus.RUNNING,
        done=1,
        total=2,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    client = client_for(world.viewer)
    client.get(_url(two[0]))  # the session's first request
    with django_assert_max_num_queries(6):
        client.get(_url(two[0], f"runs/{run.pk}/"), headers={"HX-Request": "true"})
    with django_assert_max_num_queries(6):
        client.get(f"/api/v1/authorities/{two[0].pk}/reports/runs/{run.pk}")


def test_a_background_comparison_for_a_viewer_who_left_fails(world, two, settings):
    from classbook.reports import runs

    run = runs.start_authority_run(acting_user=world.director, authority=two[0], fmt="xlsx", params={"period": KEY})
    assert run.status == RunStatus.FAILED and run.error


# --- Queries ---------------------------------------------------------------------------------------------------


def test_queries_grow_by_three_per_school(world, built, two):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.viewer)
    url = f"/api/v1/authorities/{two[0].pk}/reports/compare?period={KEY}"
    client.get(url)  # the session's first write
    with CaptureQueriesContext(connection) as two_schools:
        assert client.get(url).status_code == 200
    extra = f.SchoolFactory(slug="school-d", name="Школа D")
    f.PeriodFactory(year=f.YearFactory(school=extra))
    two[0].schools.add(extra)
    with CaptureQueriesContext(connection) as three_schools:
        assert client.get(url).status_code == 200
    assert len(three_schools) - len(two_schools) == 3  # the viewer's context, progress, attendance
    assert len(two_schools) <= 12 + 3 * 2


def test_the_reports_index_links_the_comparison_for_viewers_only(world, two):
    link = f'href="/authority/{two[0].pk}/reports/compare/"'
    assert link in client_for(world.viewer).get("/s/lyceum-1/reports/").content.decode()
    assert link not in client_for(world.director).get("/s/lyceum-1/reports/").content.decode()
