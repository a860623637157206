"""The report pages, their htmx filters, the XLSX and PDF exports read back, the API, the charts."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from defusedxml import ElementTree as ET
from openpyxl import load_workbook
from pypdf import PdfReader

from classbook.reports import charts
from tests.conftest import client_for

URL = "/s/lyceum-1/reports/"
API = "/api/v1/schools/lyceum-1/reports"
SVG = "{http://www.w3.org/2000/svg}"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_progress_page_shows_the_lines_the_chart_and_the_formulas(world, built):
    response = client_for(world.deputy).get(f"{URL}progress/?period=p{built.semester.pk}&group_by=class")
    assert response.status_code == 200
    body = response.content.decode()
    assert "5-А" in body and "5-Б" in body
    assert body.count("<svg") == 2
    assert 'role="img"' in body
    assert "Success rate = the number of assessed students without a grade of the lowest level" in _flat(body)
    assert "<html" in body  # the whole page


def test_the_htmx_filter_swaps_only_the_report(world, built):
    response = client_for(world.deputy).get(
        f"{URL}progress/?period=p{built.semester.pk}&group_by=subject", headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "Англійська мова" in body


def test_a_bad_filter_is_a_message_not_a_500(world, built):
    client = client_for(world.deputy)
    assert client.get(f"{URL}progress/?period=p999999").status_code == 422
    assert client.get(f"{URL}progress/?period=x&group_by=nonsense").status_code == 422
    assert client.get(f"{URL}progress/?period=p{built.semester.pk}&school_class=abc").status_code == 422
    assert client.get(f"{URL}progress.pdf?period=p999999").status_code == 404
    assert client.get(f"{URL}progress.doc?period=p{built.semester.pk}").status_code == 404
    assert client.get(f"{API}/progress?period=p999999").status_code == 422
    assert client.get(f"{API}/progress?period=p1&group_by=nonsense").status_code == 422


def test_the_progress_page_costs_the_same_queries_for_a_class_or_the_school(
    world, built, django_assert_max_num_queries
):
    client = client_for(world.deputy)
    client.get(f"{URL}progress/")  # session and caches warm
    for query in (f"school_class={built.class_a.pk}&group_by=subject", "group_by=class", "group_by=teacher"):
        with django_assert_max_num_queries(12):
            assert client.get(f"{URL}progress/?period=p{built.semester.pk}&{query}").status_code == 200


def test_the_summary_page_costs_a_constant_number_of_queries(world, built, django_assert_max_num_queries):
    client = client_for(world.deputy)
    client.get(f"{URL}summary/")
    for school_class in (built.class_a, built.class_b):
        with django_assert_max_num_queries(14):
            response = client.get(f"{URL}summary/?school_class={school_class.pk}&period=p{built.semester.pk}")
        assert response.status_code == 200


def test_the_progress_xlsx_has_numbers_as_numbers_and_a_frozen_header(world, built):
    response = client_for(world.deputy).get(f"{URL}progress.xlsx?period=p{built.semester.pk}&group_by=class")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "Line")
    assert ws.freeze_panes == f"B{header_at + 2}"
    lines = {r[0]: r for r in rows[header_at + 1 :] if r[0] in ("5-А", "5-Б", "Total")}
    assert set(lines) == {"5-А", "5-Б", "Total"}
    head = rows[header_at]
    a = dict(zip(head, lines["5-А"], strict=True))
    assert isinstance(a["Students"], int) and a["Students"] == 6
    assert isinstance(a["Average mark"], float)
    api = client_for(world.deputy).get(f"{API}/progress?period=p{built.semester.pk}&group_by=class").json()
    line = next(x for x in api["lines"] if x["label"] == "5-А")
    assert Decimal(str(a["Success, %"])) == Decimal(line["success_rate"])
    assert Decimal(str(a["Quality, %"])) == Decimal(line["quality_rate"])
    assert any(str(r[0]).startswith("Quality rate =") for r in rows[header_at + 1 :])


def test_the_progress_pdf_reads_back_with_the_figures(world, built):
    response = client_for(world.deputy).get(f"{URL}progress.pdf?period=p{built.semester.pk}&group_by=class")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))
    api = client_for(world.deputy).get(f"{API}/progress?period=p{built.semester.pk}&group_by=class").json()
    line = next(x for x in api["lines"] if x["label"] == "5-А")
    assert "Progress and quality of learning" in text and "5-А" in text
    assert line["success_rate"] in text and line["quality_rate"] in text


def test_the_summary_xlsx_and_pdf(world, built):
    client = client_for(world.class_teacher)
    query = f"school_class={built.class_a.pk}&period=p{built.semester.pk}"
    ws = load_workbook(io.BytesIO(client.get(f"{URL}summary.xlsx?{query}").content)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "Student")
    head = rows[header_at]
    assert ws.freeze_panes == f"B{header_at + 2}"
    by_name = {str(r[0]).split(" ")[0]: dict(zip(head, r, strict=True)) for r in rows[header_at + 1 :]}
    assert by_name["Гнатюк"]["Математика"] == 5  # the corrected grade, as a number
    assert by_name["Дорошенко"]["Математика"] == "н/а"
    assert by_name["Бойко"]["Англійська мова"] == "звільн."
    assert "left 15.11.2026" in next(str(r[0]) for r in rows if str(r[0]).startswith("Євтушенко"))
    pdf = client.get(f"{URL}summary.pdf?{query}")
    assert pdf.status_code == 200
    text = _flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    assert "Summary sheet of grades" in text and "Гнатюк" in text and "н/а" in text


def test_the_summary_api_gives_the_same_cells(world, built):
    body = (
        client_for(world.class_teacher)
        .get(f"{API}/summary?school_class={built.class_a.pk}&period=p{built.semester.pk}")
        .json()
    )
    row = next(s for s in body["students"] if s["student_id"] == built.students["Гнатюк"].pk)
    assert row["grades"][str(world.subject.pk)] == "5" and row["corrected"] == [world.subject.pk]
    assert client_for(world.class_teacher).get(
        f"{API}/summary?school_class={built.class_a.pk}&period=y{world.other_school.pk + 10_000}"
    ).status_code in (404, 422)


def test_the_settings_change_the_report_and_its_formula(world, built):
    client = client_for(world.director)
    url = f"{URL}progress/?period=p{built.semester.pk}&group_by=class"
    assert "СОУ" not in client.get(url).content.decode()
    client.post(f"{URL}settings/", {"basis": "grades", "not_attested_fails": "", "show_sou": "on"})
    body = _flat(client.get(url).content.decode())
    assert "СОУ, %" in body
    assert "Success rate = the number of grades that are not of the lowest level" in body
    assert "“н/а” is left out of the rates, like exempt." in body


def _svg(text: str):  # type: ignore[no-untyped-def]
    return ET.fromstring(text)


def test_a_stacked_chart_is_accessible_and_says_its_values_as_text():
    series = [charts.Series("a", "високий", "#000"), charts.Series("b", "<script>", "#111")]
    svg = charts.stacked_bars("c1", "Students by level", series, [("5-А", {"a": 3, "b": 2}), ("5-Б", {"a": 0, "b": 0})])
    root = _svg(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-t c1-d"
    assert root.find(f"{SVG}title").text == "Students by level"
    assert root.find(f"{SVG}desc").text == "5-А: високий 3, <script> 2; 5-Б: високий 0, <script> 0"
    assert "<script>" not in svg  # escaped
    assert "style=" not in svg
    assert "viewBox" in svg and "width=" not in svg.split(">", 1)[0].replace("stroke-width", "")
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert widths == [pytest.approx(240.0), pytest.approx(160.0)]  # 3 and 2 of 5 over 400 units; empty row: none


def test_a_bar_chart_shows_missing_values_as_a_dash():
    svg = charts.bars(
        "c2", "Rates", [charts.Series("s", "Success", "#000")], [("5-А", {"s": Decimal("83.3")}), ("x", {"s": None})]
    )
    texts = [t.text for t in _svg(svg).iter(f"{SVG}text")]
    assert "83.3%" in texts and "—" in texts
