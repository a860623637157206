"""The curriculum reports' pages, downloads and API: who sees what, bad input, exports read back, query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from classbook.journal.models import Mark, WorkType
from classbook.schools.models import ClassKind, SchoolKind
from tests import factories as f
from tests.conftest import client_for
from tests.reports.curriculum_data import curriculum_world  # noqa: F401 (the fixture)

URL = "/s/lyceum-1/reports/"
API = "/api/v1/schools/lyceum-1/reports"
NOW = "2026-12-03 12:00:00+00:00"

PAGES = [
    *[(p, 200) for p in ["admin", "director", "deputy", "teacher", "class_teacher", "other_teacher", "viewer"]],
    ("secretary", 403),
    ("student", 403),
    ("parent", 403),
    ("foreign_admin", 404),  # another school's people: not even the school's existence
    ("foreign_teacher", 404),
    ("foreign_student", 404),
    ("anonymous", 302),
]


@pytest.fixture
def college(world, built):
    world.school.kind = SchoolKind.COLLEGE
    world.school.save()
    for group in (built.class_a, built.class_b):
        group.kind = ClassKind.GROUP
        group.save()
    return built


@pytest.mark.parametrize(("persona", "status"), PAGES)
def test_the_pages_open_only_for_staff_who_read_reports(world, built, persona, status):
    client = client_for(world.persona(persona))
    for page in (f"curriculum/?period=p{built.semester.pk}", f"curriculum/year-table/?period=y{built.class_a.year.pk}"):
        assert client.get(f"{URL}{page}").status_code == status, page
    api_status = 401 if status == 302 else status
    for endpoint in (f"curriculum?period=p{built.semester.pk}", f"year-table?period=y{built.class_a.year.pk}"):
        assert client.get(f"{API}/{endpoint}").status_code == api_status, endpoint


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("director", 200),
        ("deputy", 200),
        ("viewer", 200),
        ("class_teacher", 200),  # the curator of the group 5-А
        ("teacher", 200),  # teaches mathematics in 5-А
        ("other_teacher", 404),  # teaches in 5-Б only: another group
        ("secretary", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),
        ("anonymous", 302),
    ],
)
def test_the_results_of_the_group_5a(world, college, persona, status):
    client = client_for(world.persona(persona))
    query = f"school_class={college.class_a.pk}&period=p{college.semester.pk}"
    assert client.get(f"{URL}groups/results/?{query}").status_code == status
    api = client.get(f"{API}/group-results?group={college.class_a.pk}&period=p{college.semester.pk}")
    assert api.status_code == (401 if status == 302 else status)


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("class_teacher", "class_b", 404),  # another group
        ("class_teacher", "foreign_class", 404),  # another school's group in our school's URL
        ("deputy", "foreign_class", 404),
        ("deputy", "class_b", 200),
    ],
)
def test_the_results_of_another_group(world, college, persona, target, status):
    group = getattr(world, target)
    client = client_for(world.persona(persona))
    assert client.get(f"{URL}groups/results/?school_class={group.pk}&period=p{college.semester.pk}").status_code == (
        status
    )
    assert client.get(f"{API}/group-results?group={group.pk}&period=p{college.semester.pk}").status_code == status


def test_a_school_without_groups_has_no_group_results(world, built):
    assert client_for(world.director).get(f"{URL}groups/results/").status_code == 403
    assert client_for(world.director).get(f"{API}/group-results?group=1&period=p1").status_code == 403
    index = client_for(world.director).get(URL).content.decode()
    assert "groups/results/" not in index and "curriculum/year-table/" in index and "curriculum/" in index


def test_the_index_of_a_college_links_the_group_results(world, college):
    assert "groups/results/" in client_for(world.class_teacher).get(URL).content.decode()


@time_machine.travel(NOW, tick=False)
def test_each_persona_gets_their_own_journals(world, cur):
    b = cur.built
    expected = {
        "teacher": {b.math_a.pk, b.math_b.pk},  # own subjects, in both classes
        "class_teacher": {b.math_a.pk, b.hist_a.pk, b.eng1.pk, b.eng2.pk, b.pe_a.pk},  # every subject of 5-А
        "other_teacher": {b.hist_b.pk},
        "deputy": {b.math_a.pk, b.hist_a.pk, b.eng1.pk, b.eng2.pk, b.pe_a.pk, b.hist_b.pk, b.math_b.pk},
    }
    for persona, journals in expected.items():
        body = client_for(world.persona(persona)).get(f"{API}/curriculum?period=p{b.semester.pk}&group_by=journal")
        assert body.status_code == 200
        assert {line["key"] for line in body.json()["lines"]} == journals, persona


def test_a_class_outside_the_users_reports_is_refused(world, cur):
    b = cur.built
    client = client_for(world.class_teacher)
    assert client.get(f"{API}/curriculum?period=p{b.semester.pk}&school_class={b.class_b.pk}").status_code == 404
    assert client.get(
        f"{API}/curriculum?period=p{b.semester.pk}&school_class={world.foreign_class.pk}"
    ).status_code == (404)
    page = client.get(f"{URL}curriculum/?period=p{b.semester.pk}&school_class={b.class_b.pk}")
    assert page.status_code == 422  # not one of the filter's choices: nothing of 5-Б is read
    assert "Історія</td>" not in page.content.decode()


def test_bad_input_is_a_message_not_a_500(world, built):
    client = client_for(world.deputy)
    assert client.get(f"{URL}curriculum/?period=p999999").status_code == 422
    assert client.get(f"{URL}curriculum/?period=p{built.semester.pk}&group_by=nonsense").status_code == 422
    assert client.get(f"{URL}curriculum/year-table/?period=zzz").status_code == 422
    assert client.get(f"{URL}curriculum.pdf?period=p999999").status_code == 404
    assert client.get(f"{URL}curriculum.doc?period=p{built.semester.pk}").status_code == 404
    assert client.get(f"{API}/curriculum?period=p999999").status_code == 422
    assert client.get(f"{API}/curriculum?period=p{built.semester.pk}&group_by=nonsense").status_code == 422
    assert client.get(f"{API}/year-table?period=q1").status_code == 422


def test_a_period_of_another_year_for_a_group_is_a_message(world, college):
    other_year = f.YearFactory(
        school=world.school, name="2027/2028", start=dt.date(2027, 9, 1), end=dt.date(2028, 6, 30), is_current=False
    )
    client = client_for(world.deputy)
    page = client.get(f"{URL}groups/results/?school_class={college.class_a.pk}&period=y{other_year.pk}")
    assert page.status_code == 422
    api = client.get(f"{API}/group-results?group={college.class_a.pk}&period=y{other_year.pk}")
    assert api.status_code == 422


@time_machine.travel(NOW, tick=False)
def test_the_curriculum_page_shows_the_table_the_types_and_the_charts(world, cur):
    b = cur.built
    response = client_for(world.deputy).get(f"{URL}curriculum/?period=p{b.semester.pk}&group_by=journal")
    assert response.status_code == 200
    body = response.content.decode()
    assert "5-А · Математика" in body and "<html" in body
    assert body.count("<svg") == 2 and 'role="img"' in body
    assert "Lessons by type" in body
    partial = client_for(world.deputy).get(
        f"{URL}curriculum/?period=p{b.semester.pk}&group_by=subject", headers={"HX-Request": "true"}
    )
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


@time_machine.travel(NOW, tick=False)
def test_the_xlsx_has_numbers_as_numbers(world, cur):
    b = cur.built
    response = client_for(world.deputy).get(f"{URL}curriculum.xlsx?period=p{b.semester.pk}&group_by=journal")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] == "Line")
    math = next(r for r in rows[head + 1 :] if r[0] and str(r[0]).startswith("5-А · Математика"))
    columns = dict(zip(rows[head], math, strict=False))
    assert columns["Plan (year)"] == 8 and columns["Given"] == 8 and columns["Behind"] == 1
    assert columns["Average mark"] == pytest.approx(7.9)
    assert columns["Success, %"] == pytest.approx(75.0)


def test_the_year_table_downloads(world, built):
    client = client_for(world.deputy)
    xlsx = client.get(f"{URL}curriculum/year-table.xlsx?period=y{built.class_a.year.pk}")
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert any(r[0] == "Class 5-А" for r in rows) and any(r[0] == "Whole school" for r in rows)
    pdf = client.get(f"{URL}curriculum/year-table.pdf?period=y{built.class_a.year.pk}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Yearly summary table of success" in text and "Математика" in text


def test_the_group_results_download(world, college):
    client = client_for(world.class_teacher)
    query = f"school_class={college.class_a.pk}&period=p{college.semester.pk}"
    pdf = client.get(f"{URL}groups/results.pdf?{query}")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Group results for the period" in text and "Discipline" in text
    rows = list(
        load_workbook(io.BytesIO(client.get(f"{URL}groups/results.xlsx?{query}").content)).active.iter_rows(
            values_only=True
        )
    )
    head = next(i for i, r in enumerate(rows) if r[0] == "Discipline")
    assert rows[head][1] == "Teacher"
    assert any(r[0] == "Англійська мова" for r in rows[head + 1 :])


def _grow(world, built) -> None:
    """Many more journals, lessons and control marks: the query count must not move."""
    made = []
    for i in range(6):
        teacher = f.make_member(world.school, "teacher", username=f"bulk{i}")
        made.append(f.make_assignment(teacher, built.class_b if i % 2 else built.class_a))
        f.make_grid(made[-1], students=8, lessons=25, seed=i)
    control = WorkType.objects.get(school=world.school, code="control")
    ids = list(Mark.objects.filter(lesson__assignment__in=made).values_list("pk", flat=True))[::3]
    Mark.objects.filter(pk__in=ids).update(work_type=control)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("grow", [False, True])
def test_query_counts_stay_constant(world, cur, django_assert_max_num_queries, grow):
    b = cur.built
    if grow:
        _grow(world, b)
    client = client_for(world.deputy)
    client.get(URL)  # the session and the school context's first reads
    for lines in ("class", "journal", "school"):
        with django_assert_max_num_queries(11):
            assert client.get(f"{URL}curriculum/?period=p{b.semester.pk}&group_by={lines}").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"{URL}curriculum/year-table/?period=y{b.class_a.year.pk}").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"{API}/curriculum?period=p{b.semester.pk}&group_by=teacher").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"{API}/year-table?period=p{b.semester.pk}").status_code == 200


@pytest.mark.parametrize("grow", [False, True])
def test_group_results_query_count(world, college, django_assert_max_num_queries, grow):
    if grow:
        _grow(world, college)
    client = client_for(world.class_teacher)
    client.get(URL)
    query = f"school_class={college.class_a.pk}&period=p{college.semester.pk}"
    with django_assert_max_num_queries(10):
        assert client.get(f"{URL}groups/results/?{query}").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(
            f"{API}/group-results?group={college.class_a.pk}&period=p{college.semester.pk}"
        ).status_code == (200)


def test_the_year_table_api_names_classes_and_subjects(world, built):
    body = client_for(world.deputy).get(f"{API}/year-table?period=y{built.class_a.year.pk}").json()
    (five_a,) = [c for c in body["classes"] if c["label"] == "5-А"]
    assert {line["key"] for line in five_a["lines"]} == {built.math_a.subject_id}  # annual grades: mathematics
    assert five_a["lines"][0]["label"] == "Математика" and five_a["total"]["students"] == 6
    assert body["total"]["students"] == 7  # and 5-Б's one


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_the_pages_open_in_every_language(world, college, language):
    """Every page and download renders in the three languages (the catalogue's words are checked by
    tests/test_translations.py); the lesson types come from the journal's translated names."""
    client = client_for(world.deputy)
    pages = [
        f"curriculum/?period=p{college.semester.pk}&group_by=journal",
        f"curriculum/year-table/?period=y{college.class_a.year.pk}",
        f"groups/results/?school_class={college.class_a.pk}&period=p{college.semester.pk}",
        f"curriculum.xlsx?period=p{college.semester.pk}",
    ]
    for page in pages:
        assert client.get(f"{URL}{page}", HTTP_ACCEPT_LANGUAGE=language).status_code == 200, (language, page)
