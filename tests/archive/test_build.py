"""The archive's files: PDF/A-3b in the official layout with the journal embedded as data that round-trips to
the database's rows (read back with pypdf), and the summary sheet with its data."""

from __future__ import annotations

import io

from pypdf import PdfReader

from classbook.archive import build, contents, files
from classbook.journal.models import Attendance, JournalChange, Lesson, Mark


def _rows(journal, part, *fields):
    return sorted(tuple(row[f] for f in fields) for row in journal[part])


def test_class_journal_archive_embeds_the_journal_with_its_history_and_is_pdfa(world, data):
    year = world.class_a.year
    pdf = build.journal_pdf(world.class_a, year.start, year.end)
    assert files.pdfa_part(pdf) == "3B"
    payload = files.embedded_files(pdf)[contents.FILENAME]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert build.verification_code(payload) in text  # the printed pages name the embedded data
    got = files.embedded_json(pdf, contents.FILENAME)
    assert (got["version"], got["class"]["name"], got["school"]["slug"]) == (2, "5-А", "lyceum-1")
    [journal] = got["journals"]
    assert journal["id"] == data.assignment.pk and journal["subject"]["name"] == "Математика"
    lessons = Lesson.objects.filter(assignment=data.assignment)
    assert _rows(journal, "lessons", "id", "date", "topic", "homework") == sorted(
        (x.pk, x.date.isoformat(), x.topic, x.homework) for x in lessons
    )
    marks = Mark.objects.filter(lesson__assignment=data.assignment)
    assert _rows(journal, "marks", "id", "lesson", "student", "value", "version", "updated_by") == sorted(
        (m.pk, m.lesson_id, m.student_id, m.value.code, m.version, m.updated_by_id) for m in marks
    )
    absences = Attendance.objects.filter(lesson__assignment=data.assignment)
    assert _rows(journal, "attendance", "id", "student", "code") == sorted(
        (a.pk, a.student_id, a.code.code) for a in absences
    )
    grades = {g["id"]: g for g in journal["period_grades"]}
    assert grades[data.grade.pk]["value"] == "8"
    [correction] = [c for g in grades.values() for c in g["corrections"]]
    assert (correction["old"], correction["new"], correction["reason"], correction["order"], correction["by"]) == (
        "8",
        "9",
        "апеляція",
        "наказ № 5",
        world.deputy.pk,
    )
    history = JournalChange.objects.filter(assignment=data.assignment)
    assert _rows(journal, "history", "id", "kind", "old", "new", "by") == sorted(
        (c.pk, c.kind, c.old_value, c.new_value, c.actor_id) for c in history
    )
    assert ("mark", "7", "9") in {(h["kind"], h["old"], h["new"]) for h in journal["history"]}
    people = {p["id"] for p in got["people"]}
    assert {world.teacher.pk, world.deputy.pk} <= people
    assert {s["id"] for s in got["students"]} == set(marks.values_list("student_id", flat=True)) | {world.student.pk}


def test_a_week_holds_only_its_lessons(world, data):
    from tests.archive.conftest import WEEK

    got = contents.class_journal(world.class_a, *WEEK, generated_at=data.grade.set_at)
    [journal] = got["journals"]
    assert [x["date"] for x in journal["lessons"]] == ["2026-10-05"]
    assert {m["lesson"] for m in journal["marks"]} == {data.lessons[0].pk}
    assert all(h["lesson"] in (None, data.lessons[0].pk) for h in journal["history"])


def test_summary_sheet_archive_embeds_the_sheet(world, data):
    from tests.archive.conftest import new_build

    pdf = build.summary_pdf(world.class_a, new_build(world, period=data.semester))
    assert files.pdfa_part(pdf) == "3B"
    sheet = files.embedded_json(pdf, build.SUMMARY_FILENAME)
    assert sheet["period"]["name"] == data.semester.name
    row = next(s for s in sheet["students"] if s["id"] == world.student.pk)
    assert row["grades"] == {str(world.subject.pk): "9"} and row["corrected"] == [world.subject.pk]


def test_a_weekly_copy_holds_older_entries_changed_since_the_previous_copy(world, data):
    import datetime as dt

    from tests.archive.conftest import WEEK

    since = dt.datetime(2026, 10, 3, tzinfo=dt.UTC)  # before the marks of 5 October (conftest.IN_TIME)
    got = contents.class_journal(world.class_a, *WEEK, generated_at=data.grade.set_at, changes_since=since)
    assert got["changes_since"] == since.isoformat()
    [journal] = got["journals"]
    older = data.lessons[1]  # 28 September: outside the week, its mark entered on 5 October
    assert [x["id"] for x in journal["lessons"]] == [data.lessons[0].pk]  # the week's own lessons as before
    changes = journal["changes"]
    assert [x["id"] for x in changes["lessons"]] == [older.pk]
    assert [(m["lesson"], m["value"]) for m in changes["marks"]] == [(older.pk, "11")]
    assert {(h["lesson"], h["kind"], h["new"]) for h in changes["history"]} >= {(older.pk, "mark", "11")}
    # Nothing changed after the grades' day: a copy since then holds no later changes.
    quiet = contents.class_journal(
        world.class_a, *WEEK, generated_at=data.grade.set_at, changes_since=data.grade.set_at + dt.timedelta(days=1)
    )
    assert all(not rows for rows in quiet["journals"][0]["changes"].values())


def test_a_weekly_copy_takes_changes_since_the_previous_weekly_copy(world):
    import datetime as dt

    from classbook.archive import services
    from classbook.archive.models import ArchiveBuild, ArchiveKind, BuildStatus
    from tests.archive.conftest import WEEK, new_build

    first = services.previous_copy_time(world.school, WEEK[0])
    assert (first.date(), first.time()) == (WEEK[0], dt.time.min)  # no copy yet: from the week's first day
    done = new_build(world, kind=ArchiveKind.WEEKLY)
    ArchiveBuild.objects.filter(pk=done.pk).update(status=BuildStatus.DONE)
    new_build(world, kind=ArchiveKind.WEEKLY)  # queued, not made: not a copy yet
    assert services.previous_copy_time(world.school, WEEK[0]) == ArchiveBuild.objects.get(pk=done.pk).created_at
