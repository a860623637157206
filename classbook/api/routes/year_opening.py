"""Opening a school year through the API (R4.3), under ``/api/v1/schools/{school}/year-opening``.

- ``GET`` — the defaults the wizard starts from (last year shifted by a year, its first-level classes);
- ``POST .../preview`` — what opening would create (classes, students with their new class, graduates,
  leavers, periods, holidays, assignments, timetable entries); writes nothing;
- ``POST`` — open the year (201 with the counts); a second run answers 409 ``year_exists``.

Administrators, directors and deputies (calendar, structure and timetable permissions); read-only
authority viewers and everybody else get 403, another school 404. Bad input: 422 with ``fields``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from classbook.access import structure
from classbook.access.context import SchoolContext, school_for
from classbook.schools import opening

router = Router(tags=["year opening"])


def _manager(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, structure.may_open_year)


class OpeningIn(Schema):
    name: str = Field(..., max_length=40)
    start: dt.date
    end: dt.date
    final_level: int | None = Field(
        None, ge=1, le=12, description="Classes of this level graduate; default: the highest"
    )
    first_classes: list[str] | None = Field(
        None, max_length=30, description="New empty first-level classes; default: last year's first-level names"
    )
    held_back: list[int] = Field(
        default_factory=list, max_length=5000, description="Ids of students who repeat the year"
    )
    copy_timetable: bool = True
    day_changes: list[DayChangeIn] = Field(
        default_factory=list, max_length=100, description="Days the school adds or moves before confirming"
    )

    def to_input(self) -> opening.OpeningInput:
        return opening.OpeningInput(
            name=self.name,
            start=self.start,
            end=self.end,
            final_level=self.final_level,
            first_classes=tuple(self.first_classes) if self.first_classes is not None else None,
            held_back=frozenset(self.held_back),
            copy_timetable=self.copy_timetable,
            day_changes=tuple(
                opening.DayChange(name=c.name, start=c.start, end=c.end, kind=c.kind) for c in self.day_changes
            ),
        )


class DefaultsOut(Schema):
    source_year_id: int | None
    name: str
    start: dt.date | None
    end: dt.date | None
    final_level: int | None
    first_classes: list[str]


class DayOut(Schema):
    kind: str
    name: str
    start: dt.date
    end: dt.date
    why: str = Field(description="How the dates were found: computed, a country rule, copied, or the school's change")


class DayChangeIn(Schema):
    name: str = Field(max_length=120, description="A day of the preview to move, or a new day to add")
    start: dt.date
    end: dt.date
    kind: str = Field("holiday", description="holiday, vacation, day_off or shortened (for a new day)")


class StudentOut(Schema):
    id: int
    name: str
    from_class: str
    to_class: str | None
    status: str


class ClassOut(Schema):
    name: str
    level: int
    kind: str
    from_class: str
    class_teacher: str
    subgroups: list[str]
    students: list[StudentOut]


class GraduatingOut(Schema):
    name: str
    students: int


class PlanOut(Schema):
    source_year_id: int
    source_year: str
    name: str
    start: dt.date
    end: dt.date
    final_level: int
    periods: list[DayOut]
    holidays: list[DayOut]
    holidays_not_copied: list[str]
    classes: list[ClassOut]
    graduating: list[GraduatingOut]
    left: list[StudentOut]
    assignments: int
    assignments_skipped: list[str]
    class_teachers_dropped: list[str]
    timetable_entries: int
    timetable_reference_day: dt.date | None


class ResultOut(Schema):
    year_id: int
    name: str
    start: dt.date
    end: dt.date
    created: dict[str, int]


def _student(s: opening.StudentPlan) -> dict[str, Any]:
    return {"id": s.student_id, "name": s.name, "from_class": s.from_class, "to_class": s.to_class, "status": s.status}


def _plan_out(plan: opening.OpeningPlan) -> dict[str, Any]:
    return {
        "source_year_id": plan.source.pk,
        "source_year": plan.source.name,
        "name": plan.input.name.strip(),
        "start": plan.input.start,
        "end": plan.input.end,
        "final_level": plan.final_level,
        "periods": [
            {"kind": p.kind, "name": p.name, "start": p.start, "end": p.end, "why": p.why} for p in plan.periods
        ],
        "holidays": [
            {"kind": d.kind, "name": d.name, "start": d.start, "end": d.end, "why": d.why} for d in plan.holidays
        ],
        "holidays_not_copied": plan.holidays_not_copied,
        "classes": [
            {
                "name": c.name,
                "level": c.level,
                "kind": c.kind,
                "from_class": c.source_name,
                "class_teacher": c.class_teacher_name,
                "subgroups": c.subgroups,
                "students": [_student(s) for s in c.students],
            }
            for c in plan.classes
        ],
        "graduating": [{"name": name, "students": n} for name, n in plan.graduating],
        "left": [_student(s) for s in plan.left],
        "assignments": plan.assignments,
        "assignments_skipped": plan.assignments_skipped,
        "class_teachers_dropped": plan.class_teachers_dropped,
        "timetable_entries": plan.entries,
        "timetable_reference_day": plan.reference_day,
    }


@router.get("/{school}/year-opening", response=DefaultsOut, summary="Defaults for opening the next school year")
def opening_defaults(request: HttpRequest, school: str) -> dict[str, Any]:
    ctx = _manager(request, school)
    data = opening.defaults(ctx.school)
    source = data.get("source")
    return {
        "source_year_id": source.pk if source else None,
        "name": data.get("name", ""),
        "start": data.get("start"),
        "end": data.get("end"),
        "final_level": data.get("final_level"),
        "first_classes": data.get("first_classes", []),
    }


@router.post("/{school}/year-opening/preview", response=PlanOut, summary="Preview opening a school year")
def preview_opening(request: HttpRequest, school: str, payload: OpeningIn) -> dict[str, Any]:
    ctx = _manager(request, school)
    return _plan_out(opening.plan_opening(acting_user=ctx.user, school=ctx.school, data=payload.to_input()))


@router.post("/{school}/year-opening", response={201: ResultOut}, summary="Open a school year")
def run_opening(request: HttpRequest, school: str, payload: OpeningIn) -> Status[dict[str, Any]]:
    ctx = _manager(request, school)
    result = opening.open_year(acting_user=ctx.user, school=ctx.school, data=payload.to_input())
    year = result.year
    return Status(
        201, {"year_id": year.pk, "name": year.name, "start": year.start, "end": year.end, "created": result.counts}
    )
