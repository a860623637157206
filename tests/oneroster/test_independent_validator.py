"""The export, and the export of a school imported from it, pass the independent 1.2 check (tables kept as data,
``spec_1p2/csv_tables.json``), and the check itself catches what it should (a test that cannot fail is a defect)."""

from __future__ import annotations

from classbook.oneroster import services
from classbook.people.models import Role
from tests import factories as f
from tests.oneroster.independent_validator import read_package, validate
from tests.oneroster.test_gradebook import _seed_gradebook


def test_the_export_and_a_round_trip_pass_the_independent_check(world):
    _seed_gradebook(world)
    package = services.export_package(acting_user=world.director, school=world.school)
    files = read_package(package)
    assert validate(files) == []
    assert len(files["results"]) == len(files["lineItems"]) == 5  # the header and four rows each
    target = f.SchoolFactory(slug="checked-copy")
    director = f.make_member(target, Role.DIRECTOR)
    services.import_package(acting_user=director, school=target, data=package)
    services.import_gradebook(acting_user=director, school=target, data=package)
    assert validate(read_package(services.export_package(acting_user=director, school=target))) == []


def test_the_independent_check_catches_broken_packages(world):
    _seed_gradebook(world)
    files = read_package(services.export_package(acting_user=world.director, school=world.school))
    results, items, classes = files["results"], files["lineItems"], files["classes"]
    results[1][results[0].index("score")] = "40"  # above the line item's maximum (12)
    results[2][results[0].index("scoreStatus")] = "graded"
    results[3][results[0].index("studentSourcedId")] = next(
        r[3] for r in files["roles"][1:] if r[5] == "teacher"
    )  # a teacher, not a student
    items[1][items[0].index("dueDate")] = "01.10.2026"
    classes[1][classes[0].index("grades")] = "5"
    files["users"][0] = files["users"][0][:-1]
    del files["categories"]
    found = {p.split(": ")[0] for p in validate(files)}
    assert found == {
        "results.csv:2:score",
        "results.csv:3:scoreStatus",
        "results.csv:4:studentSourcedId",
        "lineItems.csv:2:dueDate",
        "classes.csv:2:grades",
        "users.csv:1:",
        "manifest.csv:0:file.categories",
    }
