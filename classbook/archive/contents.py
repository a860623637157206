"""The machine-readable journal embedded in every class-journal archive (``journal.json``, schema version 1).

Everything a class's journals hold for a range of days, with its history, as plain JSON that any program can
read without Classbook (the schema is documented in docs/archive.md "The embedded journal"):

- ``students`` (everyone enrolled in the class during the range) and ``people`` (every user named anywhere:
  teachers, who entered or corrected something), by id;
- per journal (teaching assignment): ``lessons`` (date, number, type, topic, homework), ``marks``,
  ``attendance``, ``period_grades`` with their ``corrections`` (old → new, reason, order, who, when), and
  ``history``: the journal's audit trail (``journal.JournalChange``) of those lessons and periods — every
  change with who, when, old and new value, reason and whether it was late;
- a weekly copy also has ``changes_since`` and per journal ``changes``: every entry outside the range of days
  changed since the previous copy (older lessons' topics, marks and absences entered or corrected later,
  period grades set or corrected later), as it is now, with those changes' history (``later_changes``).

The rows are read from the journal's own models and its audit trail, a fixed number of queries per class
whatever its size (``class_journal``), and written with ids so the file round-trips to the database's rows.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet

from classbook.core.collation import name_order
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    GradeCorrection,
    JournalChange,
    Lesson,
    Mark,
    PeriodGrade,
)
from classbook.people.models import Enrolment, User
from classbook.schools.models import SchoolClass, StudyPeriod, TeachingAssignment

SCHEMA = "https://classbook.example/schemas/journal-archive"
VERSION = 2  # 2: ``changes_since`` and each journal's ``changes`` (a weekly copy's later changes to older entries)
FILENAME = "journal.json"


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _pick(rows: QuerySet[Any], fields: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    """The rows as JSON objects: each ``(key, field)`` of ``fields`` in order, dates and times in ISO form."""
    values = rows.values(*(field for _key, field in fields))
    return [{key: _json(r[field]) for key, field in fields} for r in values]


def _json(value: Any) -> Any:
    return _iso(value) if isinstance(value, dt.date) else value


def _students(school_class: SchoolClass, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    rows = (
        Enrolment.objects.filter(school_class=school_class, start__lte=end)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .order_by(*name_order("student__user__"))
        .values(
            "student_id",
            "start",
            "end",
            "student__user__last_name",
            "student__user__first_name",
            "student__user__patronymic",
            "student__personal_file_number",
        )
    )
    return [
        {
            "id": r["student_id"],
            "last_name": r["student__user__last_name"],
            "first_name": r["student__user__first_name"],
            "patronymic": r["student__user__patronymic"],
            "personal_file": r["student__personal_file_number"],
            "in_class_from": _iso(r["start"]),
            "in_class_until": _iso(r["end"]),
        }
        for r in rows
    ]


def _assignments(school_class: SchoolClass) -> list[dict[str, Any]]:
    rows = (
        TeachingAssignment.objects.filter(school_class=school_class)
        .order_by("subject__name", "subgroup__name", "id")
        .values("id", "subject_id", "subject__name", "subgroup_id", "subgroup__name", "teacher_id", "hours_per_week")
    )
    return [
        {
            "id": r["id"],
            "subject": {"id": r["subject_id"], "name": r["subject__name"]},
            "subgroup": {"id": r["subgroup_id"], "name": r["subgroup__name"]} if r["subgroup_id"] else None,
            "teacher": r["teacher_id"],
            "hours_per_week": str(r["hours_per_week"]),
            "lessons": [],
            "marks": [],
            "attendance": [],
            "period_grades": [],
            "history": [],
        }
        for r in rows
    ]


def _periods(school_class: SchoolClass, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    rows = StudyPeriod.objects.filter(year_id=school_class.year_id, start__lte=end, end__gte=start).order_by(
        "start", "-end", "id"
    )
    return [{"id": p.pk, "kind": p.kind, "name": p.name, "start": _iso(p.start), "end": _iso(p.end)} for p in rows]


LESSON_FIELDS = (
    ("id", "id"),
    ("journal", "assignment_id"),
    ("date", "date"),
    ("number", "number"),
    ("type", "lesson_type"),
    ("topic", "topic"),
    ("homework", "homework"),
    ("homework_due", "homework_due"),
    ("conducted_by", "conducted_by_id"),
    ("register_taken_at", "register_taken_at"),
    ("register_taken_by", "register_taken_by_id"),
    ("created_by", "created_by_id"),
    ("created_at", "created_at"),
    ("version", "version"),
)
MARK_FIELDS = (
    ("id", "id"),
    ("journal", "lesson__assignment_id"),
    ("lesson", "lesson_id"),
    ("student", "student_id"),
    ("work_type", "work_type__code"),
    ("slot", "slot"),
    ("value", "value__code"),
    ("comment", "comment"),
    ("late", "is_late"),
    ("created_by", "created_by_id"),
    ("created_at", "created_at"),
    ("updated_by", "updated_by_id"),
    ("updated_at", "updated_at"),
    ("version", "version"),
)
ATTENDANCE_FIELDS = (
    ("id", "id"),
    ("journal", "lesson__assignment_id"),
    ("lesson", "lesson_id"),
    ("student", "student_id"),
    ("code", "code__code"),
    ("reason", "reason"),
    ("reason_kind", "reason_kind"),
    ("reason_excused", "reason_excused"),
    ("late", "is_late"),
    ("recorded_by", "recorded_by_id"),
    ("updated_at", "updated_at"),
    ("version", "version"),
)
GRADE_FIELDS = (
    ("id", "id"),
    ("journal", "assignment_id"),
    ("student", "student_id"),
    ("period", "period_id"),
    ("kind", "kind"),
    ("ordinal", "ordinal"),
    ("title", "title"),
    ("value", "value__code"),
    ("set_by", "set_by_id"),
    ("set_at", "set_at"),
    ("locked_at", "locked_at"),
    ("version", "version"),
)
CORRECTION_FIELDS = (
    ("old", "old_value__code"),
    ("new", "new_value__code"),
    ("reason", "reason"),
    ("order", "order_ref"),
    ("by", "corrected_by_id"),
    ("at", "corrected_at"),
    ("grade", "grade_id"),
)
HISTORY_FIELDS = (
    ("id", "id"),
    ("journal", "assignment_id"),
    ("at", "at"),
    ("by", "actor_id"),
    ("kind", "kind"),
    ("lesson", "lesson_id"),
    ("student", "student_id"),
    ("period", "period_id"),
    ("object", "object_id"),
    ("old", "old_value"),
    ("new", "new_value"),
    ("reason", "reason"),
    ("late", "is_late"),
)


def _lessons(ids: list[int], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    rows = Lesson.objects.filter(assignment_id__in=ids, date__range=(start, end)).order_by("date", "number", "id")
    return _pick(rows, LESSON_FIELDS)


def _marks(ids: list[int], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    rows = Mark.objects.filter(lesson__assignment_id__in=ids, lesson__date__range=(start, end)).order_by(
        "lesson__date", "lesson_id", "student_id", "work_type_id", "slot", "id"
    )
    return _pick(rows, MARK_FIELDS)


def _attendance(ids: list[int], start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    rows = Attendance.objects.filter(lesson__assignment_id__in=ids, lesson__date__range=(start, end)).order_by(
        "lesson__date", "lesson_id", "student_id", "id"
    )
    return _pick(rows, ATTENDANCE_FIELDS)


def _grades(ids: list[int], period_ids: list[int]) -> list[dict[str, Any]]:
    rows = PeriodGrade.objects.filter(assignment_id__in=ids, period_id__in=period_ids).order_by(
        "assignment_id", "period__start", "kind", "ordinal", "student_id", "id"
    )
    grades = [{**g, "corrections": []} for g in _pick(rows, GRADE_FIELDS)]
    by_id = {g["id"]: g for g in grades}
    corrections = GradeCorrection.objects.filter(grade_id__in=list(by_id)).order_by("corrected_at", "id")
    for c in _pick(corrections, CORRECTION_FIELDS):
        by_id[c.pop("grade")]["corrections"].append(c)
    return grades


def _history(ids: list[int], lesson_ids: list[int], period_ids: list[int]) -> list[dict[str, Any]]:
    rows = (
        JournalChange.objects.filter(assignment_id__in=ids)
        .filter(Q(lesson_id__in=lesson_ids) | Q(lesson__isnull=True, period_id__in=period_ids))
        .order_by("at", "id")
    )
    return _pick(rows, HISTORY_FIELDS)


def later_changes(
    journals: list[dict[str, Any]], start: dt.date, end: dt.date, period_ids: list[int], since: dt.datetime
) -> None:
    """Put into each journal's ``changes`` every entry outside ``start``..``end`` changed since ``since`` (by
    the audit trail and by the rows' own times): the changed lessons, their marks and absences entered or
    changed since, the grades of other periods with changes since, and the history of those changes."""
    ids = [j["id"] for j in journals]
    in_range = Q(date__range=(start, end))
    changed = set(
        JournalChange.objects.filter(assignment_id__in=ids, at__gte=since, lesson__isnull=False)
        .exclude(lesson__date__range=(start, end))
        .values_list("lesson_id", flat=True)
    )
    changed.update(
        Lesson.objects.filter(assignment_id__in=ids, updated_at__gte=since)
        .exclude(in_range)
        .values_list("id", flat=True)
    )
    for model in (Mark, Attendance):
        changed.update(
            model.objects.filter(lesson__assignment_id__in=ids, updated_at__gte=since)  # type: ignore[attr-defined]
            .exclude(lesson__date__range=(start, end))
            .values_list("lesson_id", flat=True)
        )
    lesson_ids = sorted(changed)
    pairs = set(
        JournalChange.objects.filter(assignment_id__in=ids, at__gte=since, lesson__isnull=True, period__isnull=False)
        .exclude(period_id__in=period_ids)
        .values_list("assignment_id", "period_id")
    )
    lessons = Lesson.objects.filter(pk__in=lesson_ids).order_by("date", "number", "id")
    marks = Mark.objects.filter(lesson_id__in=lesson_ids, updated_at__gte=since)
    absences = Attendance.objects.filter(lesson_id__in=lesson_ids, updated_at__gte=since)
    grades = [g for g in _grades(ids, sorted({p for _a, p in pairs})) if (g["journal"], g["period"]) in pairs]
    history = (
        JournalChange.objects.filter(assignment_id__in=ids, at__gte=since)
        .filter(Q(lesson_id__in=lesson_ids) | Q(lesson__isnull=True, period_id__in=[p for _a, p in pairs]))
        .order_by("at", "id")
    )
    by_id = {j["id"]: j for j in journals}
    for journal in journals:
        journal["changes"] = {"lessons": [], "marks": [], "attendance": [], "period_grades": [], "history": []}
    parts = {
        "lessons": _pick(lessons, LESSON_FIELDS),
        "marks": _pick(marks.order_by("lesson__date", "lesson_id", "student_id", "id"), MARK_FIELDS),
        "attendance": _pick(absences.order_by("lesson__date", "lesson_id", "student_id", "id"), ATTENDANCE_FIELDS),
        "period_grades": grades,
        "history": _pick(history, HISTORY_FIELDS),
    }
    for part, rows in parts.items():
        for row in rows:
            by_id[row.pop("journal")]["changes"][part].append(row)


def _people(ids: set[int]) -> list[dict[str, Any]]:
    rows = User.objects.filter(pk__in=ids).order_by("id").values("id", "last_name", "first_name", "patronymic")
    return [
        {"id": r["id"], "last_name": r["last_name"], "first_name": r["first_name"], "patronymic": r["patronymic"]}
        for r in rows
    ]


def _people_named(journals: list[dict[str, Any]]) -> set[int]:
    keys = {
        "lessons": ("conducted_by", "register_taken_by", "created_by"),
        "marks": ("created_by", "updated_by"),
        "attendance": ("recorded_by",),
        "period_grades": ("set_by",),
        "history": ("by",),
    }
    ids: set[int] = set()
    for journal in journals:
        ids.add(journal["teacher"])
        if "changes" in journal:  # a weekly copy's later changes name people too
            ids |= _people_named([{**journal["changes"], "teacher": journal["teacher"]}])
        for part, fields in keys.items():
            for row in journal[part]:
                ids.update(row[f] for f in fields if row[f])
        for grade in journal["period_grades"]:
            ids.update(c["by"] for c in grade["corrections"])
    return ids


def _spread(journals: list[dict[str, Any]], part: str, rows: list[dict[str, Any]]) -> None:
    by_id = {j["id"]: j for j in journals}
    for row in rows:
        by_id[row.pop("journal")][part].append(row)


def class_journal(
    school_class: SchoolClass,
    start: dt.date,
    end: dt.date,
    *,
    generated_at: dt.datetime,
    changes_since: dt.datetime | None = None,
) -> dict[str, Any]:
    """Every journal of ``school_class`` from ``start`` to ``end`` with its history (module docstring), and
    with ``changes_since`` every entry outside those days changed since then: eleven queries whatever the
    class's size (seventeen with ``changes_since``)."""
    school = school_class.school
    journals = _assignments(school_class)
    ids = [j["id"] for j in journals]
    periods = _periods(school_class, start, end)
    period_ids = [p["id"] for p in periods]
    lessons = _lessons(ids, start, end)
    lesson_ids = [row["id"] for row in lessons]
    _spread(journals, "lessons", lessons)
    _spread(journals, "marks", _marks(ids, start, end))
    _spread(journals, "attendance", _attendance(ids, start, end))
    _spread(journals, "period_grades", _grades(ids, period_ids))
    _spread(journals, "history", _history(ids, lesson_ids, period_ids))
    if changes_since is not None:
        later_changes(journals, start, end, period_ids, changes_since)
    codes = AttendanceCode.objects.filter(school=school).order_by("ordinal", "id")
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "generated_at": _iso(generated_at),
        "changes_since": _iso(changes_since),
        "school": {"id": school.pk, "slug": school.slug, "name": school.name, "country": school.country},
        "class": {"id": school_class.pk, "name": school_class.name, "year": school_class.year.name},
        "range": {"start": _iso(start), "end": _iso(end)},
        "periods": periods,
        "attendance_codes": [
            {
                "code": c.code,
                "name": c.name,
                "counts_as_absent": c.counts_as_absent,
                "excused": c.is_excused,
                "late": c.is_late,
            }
            for c in codes
        ],
        "students": _students(school_class, start, end),
        "people": _people(_people_named(journals)),
        "journals": journals,
    }


def dumps(data: dict[str, Any]) -> bytes:
    """The file's bytes: UTF-8 JSON, keys in a fixed order, one line per nothing (compact)."""

    class Encoder(DjangoJSONEncoder):
        def default(self, o: Any) -> Any:
            if isinstance(o, Decimal):
                return str(o)
            return super().default(o)

    return json.dumps(data, cls=Encoder, ensure_ascii=False, separators=(",", ":")).encode()
