"""Import a OneRoster 1.2 gradebook (categories, lineItems, results) into the school's journals (issue 13).

The package names objects the school already has (its subject classes and students: imported from the same
system's roster, or exported by Classbook) by sourcedId. Every mark is written by the journal's one write path
(``journal.services.record_mark``, inside ``imported_by``: the importer writes under their own name, every rule of
the cell applies — the scale, the student in the class, a closed period, a cancelled or future lesson) and every
lesson a line item needs by ``create_lesson``. All or nothing: one refused row anywhere and nothing is saved;
the report names the file, the row and the reason (translated). Re-importing the same package changes nothing:
the sourcedIds of categories, line items and results are kept (``SourcedId``), so a known result updates its
mark instead of adding one. The mapping is in docs/oneroster.md ("Importing a gradebook").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from classbook.core.audit import log_action
from classbook.core.errors import DomainError
from classbook.journal import services as journal
from classbook.journal.models import GradeKind, Lesson, Mark, WorkType
from classbook.oneroster import csvzip, spec
from classbook.oneroster.ids import Ids
from classbook.oneroster.imports import (
    ImportRefused,
    ImportResult,
    Row,
    RowError,
    _Import,
    _message,
    _structure_error,
    save_ids,
)
from classbook.oneroster.models import SourcedId
from classbook.people.models import Student, User
from classbook.schools.models import ScaleValue, School, SchoolClass, TeachingAssignment

# Results that carry no mark yet: nothing to write (counted as skipped).
NO_MARK_YET = frozenset({"not submitted", "submitted"})


@dataclass(frozen=True)
class _Item:
    """Where a line item's results go: a lesson's column of one work type and slot."""

    lesson: Lesson
    work_type: WorkType
    slot: int

    @property
    def key(self) -> str:
        return f"l{self.lesson.pk}-{self.work_type.pk}-{self.slot}"


@dataclass
class _Gradebook(_Import):
    known: dict[str, object] = field(default_factory=dict)  # the school's sourcedIds -> its objects
    categories: dict[str, WorkType] = field(default_factory=dict)
    items: dict[str, _Item] = field(default_factory=dict)
    period_items: set[str] = field(default_factory=set)  # line items of period grades: left out, counted
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def import_gradebook(*, acting_user: User, school: School, data: bytes) -> ImportResult:
    """Read, check and apply a package's gradebook files; ``ImportRefused`` with per-row errors (nothing saved).

    Roster files in the package are checked (the 1.2 binding, references) but not applied: the roster is
    imported by ``imports.import_package``; here students and classes must already be in the school.
    """
    raw = csvzip.read_zip(data)
    problems = spec.check_package(raw)
    if problems:
        raise ImportRefused([_structure_error(p) for p in problems[:200]])
    if not {"lineItems", "results"} <= set(raw):
        raise ImportRefused([RowError("manifest", 0, _("The package has no lineItems.csv and results.csv."))])
    files = {n: [dict(zip(rows[0], r, strict=True)) for r in rows[1:]] for n, rows in raw.items() if n != "manifest"}
    if any(r["status"] == "tobedeleted" for name in spec.GRADEBOOK_FILES for r in files.get(name, [])):
        raise ImportRefused([RowError("manifest", 0, _("Only bulk packages with active rows can be imported."))])
    job = _Gradebook(school=school, actor=acting_user, files=files)
    for name, rows in files.items():
        for number, row in enumerate(rows, start=2):
            job.line[(name, row["sourcedId"])] = number
    with transaction.atomic(), journal.imported_by(acting_user, school.pk):
        for step in (_known, _categories, _line_items, _results):
            step(job)
            if job.errors:
                raise ImportRefused(job.errors)
        save_ids(job)
        if job.errors:
            raise ImportRefused(job.errors)
        counts = {name: len(files.get(name, [])) for name in spec.GRADEBOOK_FILES} | dict(job.counts)
        log_action("oneroster.gradebook_imported", actor=acting_user, school=school, data={"counts": counts})
    return ImportResult(counts=counts)


# --- what the school already has ---------------------------------------------------------------------------


def _known(job: _Gradebook) -> None:
    """The school's objects under their sourcedIds (recorded by an import, else derived: ``Ids``)."""
    ids = Ids(job.school)
    assignments = TeachingAssignment.objects.filter(school=job.school).select_related(
        "school", "year", "subject__scale", "scale", "school_class__year_level__scale", "subgroup"
    )
    for a in assignments:
        job.known[ids.sid("class", f"a{a.pk}")] = a
    for c in SchoolClass.objects.filter(school=job.school):
        job.known[ids.sid("class", f"c{c.pk}")] = c
    for s in Student.objects.filter(school=job.school):
        job.known[ids.sid("user", f"u{s.user_id}")] = s
    for w in WorkType.objects.filter(school=job.school):
        job.known[ids.sid("category", f"w{w.pk}")] = w
    for kind in GradeKind:
        job.known[ids.sid("category", f"g{kind.value}")] = kind
    recorded = SourcedId.objects.filter(school=job.school, kind__in=["lineItem", "result"])
    job.known.update({r.sourced_id: (r.kind, r.key) for r in recorded})
    # The school's own marks under the ids its export gave them: its own package comes back unchanged.
    for lesson, work_type, slot, pk in Mark.objects.filter(school=job.school).values_list(
        "lesson_id", "work_type_id", "slot", "pk"
    ):
        item = f"l{lesson}-{work_type}-{slot}"
        job.known.setdefault(ids.sid("lineItem", item), ("lineItem", item))
        job.known.setdefault(ids.sid("result", f"r{pk}"), ("result", f"r{pk}"))


# --- categories: work types --------------------------------------------------------------------------------


def _categories(job: _Gradebook) -> None:
    by_name = {w.name.casefold(): w for w in WorkType.objects.filter(school=job.school)}
    with translation.override(job.school.language):  # the exported titles are in the school's language
        kinds = {str(k.label).casefold(): k for k in GradeKind}
    for row in job.rows("categories"):
        target = job.known.get(row["sourcedId"])
        title = row["title"].strip()
        if target is None:
            target = by_name.get(title.casefold()) or kinds.get(title.casefold())
        if target is None:
            target = _new_work_type(job, row)
        if isinstance(target, WorkType):
            job.categories[row["sourcedId"]] = target
            job.record("category", f"w{target.pk}", row)
        elif isinstance(target, GradeKind):
            job.known[row["sourcedId"]] = target
            job.record("category", f"g{target.value}", row)


def _new_work_type(job: _Gradebook, row: Row) -> WorkType | None:
    """A work type for a category the school lacks; it allows several marks per lesson when the package has two
    line items of the category for one class on one day (OneRoster has no such flag)."""
    code = "or-" + hashlib.sha256(row["sourcedId"].encode()).hexdigest()[:12]
    days = [(i["classSourcedId"], i["dueDate"] or i["assignDate"]) for i in job.rows("lineItems")
            if i["categorySourcedId"] == row["sourcedId"]]  # fmt: skip
    fields = {
        "code": code,
        "name": row["title"].strip()[:80],
        "weight": Decimal(row["weight"] or 1),
        "allows_several": len(days) > len(set(days)),
    }
    try:
        work_type = journal.save_work_type(acting_user=job.actor, school=job.school, work_type=None, fields=fields)
    except (ValidationError, DomainError) as exc:
        job.error("categories", row["sourcedId"], _message(exc))
        return None
    job.counts["work types added"] += 1
    return work_type


# --- line items: lessons' columns ----------------------------------------------------------------------------


def _line_items(job: _Gradebook) -> None:
    groups: dict[tuple[int, dt.date, int], list[tuple[Row, TeachingAssignment, WorkType]]] = defaultdict(list)
    for row in job.rows("lineItems"):
        sid = row["sourcedId"]
        resolved = _item_target(job, row)
        if resolved is None:
            continue
        assignment, work_type = resolved
        recorded = _recorded_item(job, sid, assignment)
        if recorded is not None:
            job.items[sid] = recorded
            job.record("lineItem", recorded.key, row)
            continue
        day = dt.date.fromisoformat(row["dueDate"] or row["assignDate"])
        groups[(assignment.pk, day, work_type.pk)].append((row, assignment, work_type))
    taken = {(i.lesson.pk, i.work_type.pk, i.slot) for i in job.items.values()}
    for (_a, day, _w), members in groups.items():
        _place(job, day, sorted(members, key=lambda m: m[0]["sourcedId"]), taken)


def _item_target(job: _Gradebook, row: Row) -> tuple[TeachingAssignment, WorkType] | None:
    sid = row["sourcedId"]
    target = job.known.get(row["classSourcedId"])
    if isinstance(target, SchoolClass):
        job.error("lineItems", sid, _("A homeroom class has no marks: name the class of a subject."))
        return None
    if not isinstance(target, TeachingAssignment):
        job.error("lineItems", sid, _("The class “%(id)s” is not a class of the school.") % _id(row["classSourcedId"]))
        return None
    category = job.categories.get(row["categorySourcedId"]) or job.known.get(row["categorySourcedId"])
    if isinstance(category, GradeKind):
        # Period grades are locked the moment they are set (R2.7) and are the school's own: not imported.
        job.period_items.add(sid)
        return None
    if not isinstance(category, WorkType):
        job.error(
            "lineItems",
            sid,
            _("The category “%(id)s” is not a work type of the school.") % _id(row["categorySourcedId"]),
        )
        return None
    return target, category


def _id(value: str) -> dict[str, str]:
    return {"id": value[:60]}


def _recorded_item(job: _Gradebook, sid: str, assignment: TeachingAssignment) -> _Item | None:
    """The column a line item of an earlier import went to (the same sourcedId), if it is still there."""
    recorded = job.known.get(sid)
    if not (isinstance(recorded, tuple) and recorded[0] == "lineItem"):
        return None
    lesson_id, work_type_id, slot = (int(p) for p in recorded[1][1:].split("-"))
    lesson = Lesson.objects.filter(pk=lesson_id, assignment=assignment).select_related("school").first()
    work_type = WorkType.objects.filter(pk=work_type_id, school=job.school).first()
    if lesson is None or work_type is None:
        return None
    lesson.assignment = assignment
    return _Item(lesson, work_type, slot)


def _place(
    job: _Gradebook,
    day: dt.date,
    members: list[tuple[Row, TeachingAssignment, WorkType]],
    taken: set[tuple[int, int, int]],
) -> None:
    """The line items of one journal, day and work type: several marks of one lesson (slots) when the work type
    allows it, else one per lesson of the day, the lessons the day lacks added (``create_lesson``)."""
    _row, assignment, work_type = members[0]
    lessons = list(
        Lesson.objects.filter(assignment=assignment, date=day).select_related("school").order_by("number", "id")
    )
    for lesson in lessons:
        lesson.assignment = assignment
    for row, _a, _w in members:
        try:
            item = _free_column(job, row, lessons, work_type, taken)
        except (ValidationError, DomainError) as exc:
            job.error("lineItems", row["sourcedId"], _message(exc))
            continue
        taken.add((item.lesson.pk, work_type.pk, item.slot))
        job.items[row["sourcedId"]] = item
        job.record("lineItem", item.key, row)


def _free_column(
    job: _Gradebook, row: Row, lessons: list[Lesson], work_type: WorkType, taken: set[tuple[int, int, int]]
) -> _Item:
    slots = range(journal.MAX_SLOT + 1) if work_type.allows_several else range(1)
    for lesson in lessons:
        for slot in slots:
            if (lesson.pk, work_type.pk, slot) not in taken:
                return _Item(lesson, work_type, slot)
    assignment = job.known[row["classSourcedId"]]
    assert isinstance(assignment, TeachingAssignment)
    day = dt.date.fromisoformat(row["dueDate"] or row["assignDate"])
    lesson = journal.create_lesson(
        acting_user=job.actor, assignment=assignment, date=day, topic=row["description"][:500]
    )
    lesson.assignment = assignment
    lessons.append(lesson)
    job.counts["lessons added"] += 1
    return _Item(lesson, work_type, 0)


# --- results: marks ------------------------------------------------------------------------------------------


def _results(job: _Gradebook) -> None:
    seen: set[tuple[str, int]] = set()
    scales: dict[int, list[ScaleValue]] = {}
    for row in job.rows("results"):
        sid = row["sourcedId"]
        item = job.items.get(row["lineItemSourcedId"])
        student = job.known.get(row["studentSourcedId"])
        if row["lineItemSourcedId"] in job.period_items:
            job.counts["period grades not imported"] += 1
            continue
        if item is None:
            job.error(
                "results", sid, _("The line item “%(id)s” is not in the package.") % _id(row["lineItemSourcedId"])
            )
            continue
        if not isinstance(student, Student):
            job.error(
                "results", sid, _("The student “%(id)s” is not a student of the school.") % _id(row["studentSourcedId"])
            )
            continue
        if (row["lineItemSourcedId"], student.pk) in seen:
            job.error("results", sid, _("A second result of the same student for the same line item."))
            continue
        seen.add((row["lineItemSourcedId"], student.pk))
        if row["scoreStatus"] in NO_MARK_YET:
            job.counts["results without a mark"] += 1
            continue
        try:
            value = _value(row, item, scales)
            _write(job, row, item, student, value)
        except (ValidationError, DomainError) as exc:
            job.error("results", sid, _message(exc))


def _value(row: Row, item: _Item, scales: dict[int, list[ScaleValue]]) -> ScaleValue:
    """The journal's scale value a result's score is: its number on the scale, or for ``exempt`` the scale's one
    mark without a number (a pass/fail scale's "зар."); a number the scale lacks is refused."""
    scale = item.lesson.assignment.effective_scale()
    if scale is None:
        raise DomainError(_("No marking scale is set for this subject."))
    if scale.pk not in scales:
        scales[scale.pk] = [v for v in ScaleValue.objects.filter(scale=scale).order_by("ordinal") if not v.period_only]
    values = scales[scale.pk]
    status = row["scoreStatus"]
    if status == "exempt" and not row["score"]:
        unnumbered = [v for v in values if v.numeric is None]
        if len(unnumbered) != 1:
            raise DomainError(
                _("An exempt result without a score has no single mark on the scale “%(scale)s”.")
                % {"scale": scale.name}
            )
        return unnumbered[0]
    if status not in {"fully graded", "exempt"}:
        raise DomainError(
            _("Only fully graded results are imported as marks (this one is “%(status)s”).") % {"status": status}
        )
    try:
        score = Decimal(row["score"])
    except InvalidOperation:
        score = None
    match = next((v for v in values if score is not None and v.numeric == score), None)
    if match is None:
        raise DomainError(
            _("The score “%(score)s” is not a mark on the scale “%(scale)s” (%(allowed)s).")
            % {
                "score": row["score"][:20] or "—",
                "scale": scale.name,
                "allowed": ", ".join(v.code for v in values if v.numeric is not None),
            }
        )
    return match


def _write(job: _Gradebook, row: Row, item: _Item, student: Student, value: ScaleValue) -> None:
    """Through ``record_mark``: a result seen before updates its mark; a cell holding another mark is refused."""
    recorded = job.known.get(row["sourcedId"])
    current = Mark.objects.filter(lesson=item.lesson, student=student, work_type=item.work_type, slot=item.slot).first()
    if isinstance(recorded, tuple) and (current is None or recorded[1] != f"r{current.pk}"):
        raise DomainError(_("This sourcedId already names another mark of the school."))
    if current is not None and current.value_id is not None and not isinstance(recorded, tuple):
        raise DomainError(
            _("The journal already has a mark of this student in this column (%(date)s); it is not replaced.")
            % {"date": item.lesson.date.strftime("%d.%m.%Y")}
        )
    if current is not None and current.value_id == value.pk and current.comment == row["comment"]:
        job.counts["marks unchanged"] += 1
        job.record("result", f"r{current.pk}", row)
        return
    with transaction.atomic():
        mark = journal.record_mark(
            acting_user=job.actor,
            lesson=item.lesson,
            student=student,
            text=value.code,
            expected_version=current.version if current else 0,
            work_type=item.work_type,
            slot=item.slot,
            comment=row["comment"],
            reason=_("OneRoster import, result %(id)s") % _id(row["sourcedId"]),
        )
    job.counts["marks written"] += 1
    job.record("result", f"r{mark.pk}", row)
