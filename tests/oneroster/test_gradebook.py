"""OneRoster 1.2 gradebook import (issue 13): a school's marks go out and come back identical, through the
journal's write services; a bad package is refused row by row and changes nothing; re-importing adds nothing;
only the director and the administrators import."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest

from classbook.core.errors import PermissionDeniedError
from classbook.journal import services as journal
from classbook.journal.models import GradeKind, JournalChange, Lesson, Mark, PeriodGrade, WorkType
from classbook.oneroster import csvzip, services
from classbook.oneroster.imports import ImportRefused
from classbook.people.models import Role, Student
from classbook.schools.models import ScaleValue, TeachingAssignment
from tests import factories as f

GRADEBOOK = ("categories", "lineItems", "results")


def _seed_gradebook(world) -> None:
    """A small school's gradebook, written as teachers write it: two lessons, two work types (one with two
    marks per lesson), a comment, marks in two classes."""
    f.PeriodFactory(year=world.class_a.year)
    current = WorkType.objects.create(school=world.school, code="current", name="Поточна", allows_several=True)
    control = WorkType.objects.create(school=world.school, code="control", name="Контрольна", weight=2, ordinal=1)
    maths = TeachingAssignment.objects.get(teacher=world.teacher)
    history = TeachingAssignment.objects.get(teacher=world.other_teacher)
    first = journal.create_lesson(acting_user=world.teacher, assignment=maths, date=dt.date(2026, 10, 1), topic="Дроби")
    second = journal.create_lesson(acting_user=world.teacher, assignment=maths, date=dt.date(2026, 10, 8))
    other = journal.create_lesson(acting_user=world.other_teacher, assignment=history, date=dt.date(2026, 10, 2))
    for lesson, student, text, work_type, slot, comment in [
        (first, world.student, "10", current, 0, "Добре"),
        (first, world.student, "8", current, 1, None),
        (second, world.student, "7", control, 0, None),
        (other, world.other_student, "12", current, 0, None),
    ]:
        journal.record_mark(
            acting_user=lesson.assignment.teacher,
            lesson=lesson,
            student=student,
            text=text,
            expected_version=0,
            work_type=work_type,
            slot=slot,
            comment=comment,
        )


def _unzip(data: bytes) -> dict[str, list[list[str]]]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename[:-4]: list(csv.reader(io.StringIO(zf.read(i).decode()))) for i in zf.infolist()}


def _zip(files: dict[str, list[list[str]]], *, only: tuple[str, ...] = ()) -> bytes:
    """A package of ``files`` (``only``: just these files, with their manifest: a platform's gradebook)."""
    if only:
        manifest = [["propertyName", "value"], *csvzip.manifest_rows(dict.fromkeys(only, "bulk"))]
        files = {"manifest": manifest} | {name: files[name] for name in only}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, rows in files.items():
            zf.writestr(f"{name}.csv", csvzip.to_csv(rows[0], rows[1:]))
    return buffer.getvalue()


def _gradebook(files: dict[str, list[list[str]]], org: tuple[str, str]) -> dict[str, str]:
    """The gradebook files as text, the target's org sourcedId mapped back to the source's."""
    return {name: "\n".join(",".join(r) for r in files[name]).replace(org[1], org[0]) for name in GRADEBOOK}


@pytest.fixture
def copied(world):
    """The small school exported with its gradebook, and an empty school with the same roster (imported)."""
    _seed_gradebook(world)
    package = services.export_package(acting_user=world.director, school=world.school)
    target = f.SchoolFactory(slug="copy-school", name="Школа-копія")
    director = f.make_member(target, Role.DIRECTOR)
    services.import_package(acting_user=director, school=target, data=package)
    return package, target, director


def test_round_trip_of_the_gradebook_exports_the_same_files_and_a_second_import_adds_nothing(world, copied):
    package, target, director = copied
    result = services.import_gradebook(acting_user=director, school=target, data=package)
    assert result.counts["marks written"] == 4 and result.counts["lessons added"] == 3
    # Every mark went through the journal's write path, under the importer's own name, flagged as imported.
    changes = JournalChange.objects.filter(school=target, kind="mark")
    assert changes.count() == 4 and {c.actor_id for c in changes} == {director.pk}
    assert all(c.reason.startswith("OneRoster") for c in changes)
    source, again = _unzip(package), _unzip(services.export_package(acting_user=director, school=target))
    org = (source["orgs"][1][0], again["orgs"][1][0])
    assert _gradebook(again, org) == _gradebook(source, org)
    assert Lesson.objects.get(school=target, date=dt.date(2026, 10, 1)).topic == "Дроби"

    repeat = services.import_gradebook(acting_user=director, school=target, data=package)
    assert repeat.counts.get("marks written", 0) == 0 and repeat.counts["marks unchanged"] == 4
    assert Mark.objects.filter(school=target).count() == 4 and Lesson.objects.filter(school=target).count() == 3
    assert _gradebook(_unzip(services.export_package(acting_user=director, school=target)), org) == _gradebook(
        source, org
    )
    # A score changed at the source updates its mark: one audited change, nothing added.
    header = source["results"][0]
    row = next(r for r in source["results"][1:] if r[header.index("score")] == "7")
    row[header.index("score")] = "9"
    changed = services.import_gradebook(acting_user=director, school=target, data=_zip(source, only=GRADEBOOK))
    assert changed.counts["marks written"] == 1 and Mark.objects.filter(school=target).count() == 4
    assert Mark.objects.filter(school=target, value__code="9").count() == 1
    assert JournalChange.objects.filter(school=target, kind="mark").count() == 5


def _edit(files, name: str, index: int, **values: str) -> None:
    header = files[name][0]
    for column, value in values.items():
        files[name][index][header.index(column)] = value


def test_a_bad_gradebook_is_refused_row_by_row_and_nothing_is_saved(world, copied):
    package, target, director = copied
    files = _unzip(package)
    results = files["results"]
    header = results[0]
    scores = {r[header.index("score")]: i for i, r in enumerate(results) if i}
    _edit(files, "results", scores["10"], score="13")  # not on the 12-point scale
    _edit(files, "results", scores["8"], studentSourcedId=files["users"][1][0] + "x")  # nobody
    results.append([*results[scores["7"]]])  # the same student and line item twice
    _edit(files, "results", len(results) - 1, sourcedId="extra-result")
    item = next(i for i, r in enumerate(files["lineItems"]) if i and r[3].startswith("Поточна 02.10"))
    homeroom = next(r[0] for r in files["classes"][1:] if r[files["classes"][0].index("classType")] == "homeroom")
    subject_class = files["lineItems"][item][files["lineItems"][0].index("classSourcedId")]
    _edit(files, "lineItems", item, classSourcedId=homeroom)
    with pytest.raises(ImportRefused) as refused:
        services.import_gradebook(acting_user=director, school=target, data=_zip(files, only=GRADEBOOK))
    errors = {(e.file, e.row): e.message for e in refused.value.errors}
    assert set(errors) == {("lineItems", item + 1)}  # the line items are placed before any result is read
    assert "homeroom" in errors[("lineItems", item + 1)]

    _edit(files, "lineItems", item, classSourcedId=subject_class)
    with pytest.raises(ImportRefused) as refused:
        services.import_gradebook(acting_user=director, school=target, data=_zip(files, only=GRADEBOOK))
    errors = {(e.file, e.row): e.message for e in refused.value.errors}
    assert set(errors) == {("results", scores["10"] + 1), ("results", scores["8"] + 1), ("results", len(results))}
    assert "13" in errors[("results", scores["10"] + 1)] and "12" in errors[("results", scores["10"] + 1)]
    assert not Mark.objects.filter(school=target).exists() and not Lesson.objects.filter(school=target).exists()
    assert not JournalChange.objects.filter(school=target).exists()


def test_a_closed_period_refuses_its_result(world, copied):
    """R2.7 through the one write path: the student's semester grade is set in the target, so a mark of a lesson
    in that semester is refused on its row."""
    package, target, director = copied
    student = Student.objects.get(school=target, user__last_name=world.student.user.last_name)
    assignment = TeachingAssignment.objects.get(school=target, subject__name="Математика")
    period = assignment.year.periods.get()
    value = ScaleValue.objects.get(scale=assignment.effective_scale(), code="9")
    PeriodGrade.objects.create(
        school=target,
        assignment=assignment,
        student=student,
        period=period,
        kind=GradeKind.PERIOD,
        value=value,
        set_by=director,
    )
    with pytest.raises(ImportRefused) as refused:
        services.import_gradebook(acting_user=director, school=target, data=package)
    assert {e.file for e in refused.value.errors} == {"results"} and len(refused.value.errors) == 3
    assert all("period grade" in e.message for e in refused.value.errors)


def test_period_grades_are_left_out_and_counted(world):
    """A semester grade of the source is not imported (locked when set, R2.7: the school's own decision); the
    marks of the same package go in."""
    _seed_gradebook(world)
    maths = TeachingAssignment.objects.get(teacher=world.teacher)
    PeriodGrade.objects.create(
        school=world.school,
        assignment=maths,
        student=world.student,
        period=maths.year.periods.get(),
        kind=GradeKind.PERIOD,
        value=ScaleValue.objects.get(scale=maths.effective_scale(), code="9"),
        set_by=world.teacher,
    )
    package = services.export_package(acting_user=world.director, school=world.school)
    target = f.SchoolFactory(slug="copy-with-grades")
    director = f.make_member(target, Role.DIRECTOR)
    services.import_package(acting_user=director, school=target, data=package)
    result = services.import_gradebook(acting_user=director, school=target, data=package)
    assert result.counts["period grades not imported"] == 1 and result.counts["marks written"] == 4
    assert not PeriodGrade.objects.filter(school=target).exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("deputy", 403), ("teacher", 403), ("student", 403), ("parent", 403), ("foreign_admin", 404), ("admin", 200)],
)
def test_only_the_administration_imports_a_gradebook(world, as_user, persona, status):
    _seed_gradebook(world)
    package = services.export_package(acting_user=world.director, school=world.school)
    response = as_user(world.persona(persona)).post(
        f"/api/v1/schools/{world.school.slug}/oneroster/import-gradebook",
        {"file": io.BytesIO(package)},
    )
    # The administration's import of the school's own package changes nothing: every result is already there.
    assert response.status_code == status, response.content
    if persona == "admin":
        assert response.json()["counts"]["marks unchanged"] == 4
    assert Mark.objects.filter(school=world.school).count() == 4


def test_anonymous_cannot_import_a_gradebook(world, as_user):
    response = as_user(None).post(f"/api/v1/schools/{world.school.slug}/oneroster/import-gradebook", {})
    assert response.status_code == 401


def test_the_import_context_is_refused_to_a_teacher(world):
    with pytest.raises(PermissionDeniedError), journal.imported_by(world.teacher, world.school.pk):
        pass  # pragma: no cover


def test_the_page_imports_a_gradebook_or_lists_every_bad_row(world, copied, as_user):
    package, target, director = copied
    page = as_user(director)
    url = f"/s/{target.slug}/oneroster/"
    files = _unzip(package)
    files["results"][1][files["results"][0].index("score")] = "0"
    bad = page.post(url, {"what": "gradebook", "file": io.BytesIO(_zip(files, only=GRADEBOOK))})
    assert bad.status_code == 422 and "results.csv" in bad.content.decode()
    assert not Mark.objects.filter(school=target).exists()
    good = page.post(url, {"what": "gradebook", "file": io.BytesIO(package)})
    assert good.status_code == 302 and Mark.objects.filter(school=target).count() == 4
