"""The usage report's page, downloads and API (R9.2): who may read it, another class or school, bad filters,
the XLSX and PDF read back, query counts; and the diary's doors noting who looked (``record_view``)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from classbook.diary.models import DiaryView
from tests import factories as f
from tests.conftest import client_for
from tests.reports.usage_data import W1, W2, W3, at, login, usage_world, view  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/s/lyceum-1/reports/usage"
API = "/api/v1/schools/lyceum-1/reports/usage"
RANGE = f"start={W1}&end={W3 + dt.timedelta(days=6)}"


def _urls() -> dict[str, str]:
    return {
        "page": f"{URL}/?{RANGE}",
        "xlsx": f"{URL}.xlsx?{RANGE}",
        "pdf": f"{URL}.pdf?{RANGE}",
        "api": f"{API}?{RANGE}",
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("director", 200),
        ("deputy", 200),
        ("viewer", 200),  # the education authority: its schools, read-only
        ("class_teacher", 200),  # of 5-А: that class only
        ("teacher", 403),  # a teacher without a class of their own
        ("other_teacher", 403),
        ("secretary", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),  # another school's people: not even the school's existence
        ("foreign_teacher", 404),
        ("foreign_student", 404),
        ("anonymous", 302),
    ],
)
def test_who_reads_the_usage_report(world, persona, status):
    client = client_for(world.persona(persona))
    for name, url in _urls().items():
        expected = 401 if name == "api" and status == 302 else status
        assert client.get(url).status_code == expected, (name, persona)


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("class_teacher", "class_b", 404),  # another class
        ("class_teacher", "foreign_class", 404),  # another school's class in our school's URL
        ("deputy", "foreign_class", 404),
        ("deputy", "class_b", 200),
        ("class_teacher", "class_a", 200),
    ],
)
def test_another_class_is_not_found(world, persona, target, status):
    client = client_for(world.persona(persona))
    pk = getattr(world, target).pk
    assert client.get(f"{URL}/?{RANGE}&school_class={pk}").status_code == status
    assert client.get(f"{URL}.xlsx?{RANGE}&school_class={pk}").status_code == status
    assert client.get(f"{API}?{RANGE}&school_class={pk}").status_code == status


def test_the_class_teacher_reads_only_their_class(world, usage_world):  # noqa: F811
    body = client_for(world.class_teacher).get(f"{API}?{RANGE}").json()
    assert {line["class_id"] for line in body["lines"]} == {world.class_a.pk}
    w2 = next(line for line in body["lines"] if line["week"] == str(W2))
    assert w2["parents_viewed"] == {"count": 1, "of": 3, "share": "33.3"}
    assert w2["students_logged_in"] == {"count": 2, "of": 2, "share": "100.0"}
    whole = client_for(world.director).get(f"{API}?{RANGE}").json()
    assert {line["class_id"] for line in whole["lines"]} == {world.class_a.pk, world.class_b.pk, None}
    assert whole["weeks"] == [str(W1), str(W2), str(W3)]


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-11-20&end=2026-11-02",  # the wrong way round
        "start=2025-01-01&end=2026-11-02",  # longer than a report covers
        "start=yesterday&end=2026-11-02",
        "start=2026-11-02&end=2026-11-08&school_class=abc",
    ],
)
def test_bad_filters_are_refused_not_crashed(world, query):
    client = client_for(world.deputy)
    assert client.get(f"{URL}/?{query}").status_code in (404, 422)
    assert client.get(f"{API}?{query}").status_code in (404, 422)
    assert client.get(f"{URL}.pdf?{query}").status_code == 404
    assert client.get(f"{URL}.csv?{RANGE}").status_code == 404


def test_xlsx_and_pdf_carry_the_figures(world, usage_world):  # noqa: F811
    client = client_for(world.deputy)
    response = client.get(f"{URL}.xlsx?{RANGE}&school_class={world.class_a.pk}")
    assert response.status_code == 200
    rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if r[1] == "Class")
    lines = [r for r in rows[head + 1 :] if r[1] == "5-А"]
    assert len(lines) == 3
    # W2: staff 2 (none logged in), students 2/2 logged in, 1 looked, parents 3: 1 logged in, 1 looked
    assert lines[1][2:15] == [2, 0, 0, 2, 2, 100, 1, 50, 3, 1, 33.3, 1, 33.3]
    response = client.get(f"{URL}.pdf?{RANGE}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split())
    assert "Usage" in text and "Whole school" in text and "5-Б" in text


def test_the_page_shows_the_chart_and_the_index_links_it(world, usage_world):  # noqa: F811
    client = client_for(world.director)
    body = client.get(f"{URL}/?{RANGE}").content.decode()
    assert 'id="chart-usage-t"' in body and "Whole school" in body and "<form" in body
    partial = client.get(f"{URL}/?{RANGE}", HTTP_HX_REQUEST="true").content.decode()
    assert "<form" not in partial and 'id="chart-usage-t"' in partial
    assert "/s/lyceum-1/reports/usage/" in client.get("/s/lyceum-1/reports/").content.decode()
    assert "/reports/usage/" not in client_for(world.teacher).get("/s/lyceum-1/reports/").content.decode()


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_queries_do_not_grow_with_the_people(world, usage_world):  # noqa: F811
    director, class_teacher = client_for(world.director), client_for(world.class_teacher)
    urls = [(director, f"{URL}/?{RANGE}"), (director, f"{API}?{RANGE}"), (class_teacher, f"{URL}/?{RANGE}")]
    for client, url in urls:
        _count(client, url)  # warm the per-process caches
    before = [_count(client, url) for client, url in urls]
    for n in range(12):
        student = f.make_student(world.class_b, user=f.UserFactory(username=f"more{n}"))
        parent = f.make_parent(student, username=f"moreparent{n}")
        login(parent, at(W2))
        login(student.user, at(W3))
        view(world.school, parent, student, W2, as_parent=True)
    f.make_assignment(f.make_member(world.school, "teacher", username="newteacher"), world.class_a)
    after = [_count(client, url) for client, url in urls]
    assert after == before
    assert max(before) <= 14  # session, user, school and context, class list, the report's 7


# --- The diary's doors note who looked -----------------------------------------------------------------


def _week(world, student, day="2026-11-09") -> str:
    return f"/s/lyceum-1/diary/{student.pk}/week/{day}/"


def test_a_parents_look_is_one_row_a_day_whatever_the_door(world):
    client = client_for(world.parent)
    for _ in range(2):
        assert client.get(_week(world, world.student)).status_code == 200
    assert client.get(f"/s/lyceum-1/diary/{world.student.pk}/marks/").status_code == 200
    api = f"/api/v1/schools/lyceum-1/diary/{world.student.pk}"
    assert client.get(f"{api}/week?date=2026-11-09").status_code == 200
    assert client.get(f"{api}/attendance").status_code in (200, 404)  # no current period in the world: 404
    rows = list(DiaryView.objects.values_list("school_id", "viewer_id", "student_id", "as_parent"))
    assert rows == [(world.school.pk, world.parent.pk, world.student.pk, True)]


def test_a_students_own_look_counts_and_a_class_teachers_preview_does_not(world):
    assert client_for(world.student.user).get(_week(world, world.student)).status_code == 200
    assert client_for(world.class_teacher).get(_week(world, world.student)).status_code == 200
    api = f"/api/v1/schools/lyceum-1/diary/{world.student.pk}/week?date=2026-11-09"
    assert client_for(world.class_teacher).get(api).status_code == 200
    assert list(DiaryView.objects.values_list("viewer_id", "as_parent")) == [(world.student.user.pk, False)]


def test_a_refused_diary_notes_nothing(world):
    assert client_for(world.parent).get(_week(world, world.other_student)).status_code == 404
    api = f"/api/v1/schools/lyceum-1/diary/{world.other_student.pk}/week?date=2026-11-09"
    assert (
        client_for(world.other_parent).get(f"/api/v1/schools/lyceum-1/diary/{world.student.pk}/week").status_code == 404
    )
    assert client_for(world.foreign_admin).get(api).status_code == 404
    assert not DiaryView.objects.exists()


def test_old_views_are_pruned(world):
    from django.core.management import call_command

    from classbook.diary.services import DIARY_VIEWS_KEPT_DAYS

    today = timezone.localdate()
    view(
        world.school, world.parent, world.student, today - dt.timedelta(days=DIARY_VIEWS_KEPT_DAYS + 1), as_parent=True
    )
    view(world.school, world.parent, world.student, today - dt.timedelta(days=DIARY_VIEWS_KEPT_DAYS), as_parent=True)
    out = io.StringIO()
    call_command("prune_diary_views", stdout=out)
    assert "deleted 1 " in out.getvalue()
    assert list(DiaryView.objects.values_list("day", flat=True)) == [today - dt.timedelta(days=DIARY_VIEWS_KEPT_DAYS)]
