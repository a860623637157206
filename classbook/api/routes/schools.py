"""The schools API: a school, its calendar and its structure (R1.7, R2.5, R4.4).

- ``GET /schools/{school}`` — the school and the caller's roles in it.
- ``GET /schools/{school}/years | periods | special-days | year-levels | subjects | rooms | scales`` —
  reference data every member of the school reads (``scopes.directory``).
- ``GET /schools/{school}/classes`` and ``/classes/{id}`` (with subgroups) — the classes the caller may
  see (staff and viewers all; students and parents their own).
- ``periods``, ``special-days``, ``classes`` and ``assignments`` take ``?year_id=``.
- ``GET /schools/{school}/assignments?teacher=&class_id=`` — teaching assignments (staff and viewers).
- ``POST /schools/{school}/classes|subjects|assignments`` and ``PATCH .../{id}`` — need
  ``Perm.MANAGE_STRUCTURE``; read-only authority viewers never write. Writes call ``schools.services``.

Lists answer the API's one page shape and take ``limit``/``offset``/``sort`` (``classbook.api.pagination``).
Unknown and other schools' ids answer 404; refused values 422 with ``fields``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, Prefetch
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from classbook.access import scopes, structure
from classbook.access.context import SchoolContext, resolve_school, school_for
from classbook.access.rules import Perm
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.schools import services
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    Room,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subject,
    TeachingAssignment,
    YearLevel,
)

router = Router(tags=["schools"])


# --- schemas -----------------------------------------------------------------------------------------


class SchoolOut(Schema):
    slug: str
    name: str
    short_name: str
    country: str
    language: str
    roles: list[str]


YEAR_SORTS = Sorts("-start", start="start", name="name", id="id")
PERIOD_SORTS = Sorts("start", start="start", name="name", ordinal="ordinal", id="id")
SPECIAL_DAY_SORTS = Sorts("start", start="start", name="name", id="id")
YEAR_LEVEL_SORTS = Sorts("number", number="number", name="name", id="id")
CLASS_SORTS = Sorts("year_level,name", year_level="year_level__number", name="name", id="id")
NAME_SORTS = Sorts("name", name="name", id="id")
ASSIGNMENT_SORTS = Sorts(
    "class,subject", **{"class": "school_class__name"}, subject="subject__name", teacher="teacher__last_name", id="id"
)
Id = Field(None, ge=1, le=2**62)


class YearQuery(ListQuery):
    sort: str = YEAR_SORTS.field()


class YearLevelQuery(ListQuery):
    sort: str = YEAR_LEVEL_SORTS.field()


class NameQuery(ListQuery):
    sort: str = NAME_SORTS.field()


class PeriodQuery(ListQuery):
    year_id: int | None = Id
    sort: str = PERIOD_SORTS.field()


class SpecialDayQuery(ListQuery):
    year_id: int | None = Id
    sort: str = SPECIAL_DAY_SORTS.field()


class ClassQuery(ListQuery):
    year_id: int | None = Id
    sort: str = CLASS_SORTS.field()


class AssignmentQuery(ListQuery):
    year_id: int | None = Id
    teacher: int | None = Field(None, ge=1, le=2**62, description="A teacher's user id")
    class_id: int | None = Id
    sort: str = ASSIGNMENT_SORTS.field()


class YearOut(Schema):
    id: int
    name: str
    start: dt.date
    end: dt.date
    is_current: bool


class PeriodOut(Schema):
    id: int
    year_id: int
    parent_id: int | None
    kind: str
    name: str
    ordinal: int
    start: dt.date
    end: dt.date


class SpecialDayOut(Schema):
    id: int
    year_id: int
    kind: str
    name: str
    start: dt.date
    end: dt.date
    as_weekday: int | None = None


class YearLevelOut(Schema):
    id: int
    number: int
    name: str
    scale_id: int | None


class PersonRef(Schema):
    id: int
    full_name: str


class ClassOut(Schema):
    id: int
    name: str
    kind: str
    year_id: int
    year_level_id: int
    year_level: int
    class_teacher: PersonRef | None


class SubgroupOut(Schema):
    id: int
    name: str
    students: int


class ClassDetail(ClassOut):
    subgroups: list[SubgroupOut]


class SubjectOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    scale_id: int | None


class RoomOut(Schema):
    id: int
    name: str
    capacity: int | None


class ScaleValueOut(Schema):
    id: int
    code: str
    label: str
    numeric: Decimal | None
    level: str
    is_passing: bool
    period_only: bool


class ScaleOut(Schema):
    id: int
    name: str
    kind: str
    is_default: bool
    values: list[ScaleValueOut]


class AssignmentOut(Schema):
    id: int
    year_id: int
    teacher: PersonRef
    class_id: int
    subgroup_id: int | None
    subject_id: int
    hours_per_week: Decimal
    scale_id: int | None


class ClassIn(Schema):
    year_id: int
    year_level_id: int
    name: str = Field(..., min_length=1, max_length=20)
    kind: Literal["class", "group"] = "class"
    class_teacher_id: int | None = None


class ClassPatch(Schema):
    year_id: int | None = None
    year_level_id: int | None = None
    name: str | None = Field(None, min_length=1, max_length=20)
    kind: Literal["class", "group"] | None = None
    class_teacher_id: int | None = None


SubjectKindName = Literal["subject", "discipline", "module", "practice"]


class SubjectIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    short_name: str = Field("", max_length=30)
    kind: SubjectKindName = "subject"
    scale_id: int | None = None


class SubjectPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    short_name: str | None = Field(None, max_length=30)
    kind: SubjectKindName | None = None
    scale_id: int | None = None


class AssignmentIn(Schema):
    teacher_id: int
    class_id: int
    subgroup_id: int | None = None
    subject_id: int
    hours_per_week: Decimal = Field(Decimal("1.0"), max_digits=4, decimal_places=1)
    scale_id: int | None = None


class AssignmentPatch(Schema):
    teacher_id: int | None = None
    class_id: int | None = None
    subgroup_id: int | None = None
    subject_id: int | None = None
    hours_per_week: Decimal | None = Field(None, max_digits=4, decimal_places=1)
    scale_id: int | None = None


# --- helpers -----------------------------------------------------------------------------------------

# API names of the fields -> the names the services take (ids are accepted for relations).
FIELD_NAMES = {
    "year_id": "year",
    "year_level_id": "year_level",
    "class_teacher_id": "class_teacher",
    "scale_id": "scale",
    "teacher_id": "teacher",
    "class_id": "school_class",
    "subgroup_id": "subgroup",
    "subject_id": "subject",
}
NOT_NULL = {"year_id", "year_level_id", "teacher_id", "class_id", "subject_id", "name", "kind", "hours_per_week"}


def _fields(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=partial)
    return {FIELD_NAMES.get(k, k): v for k, v in data.items() if not (partial and v is None and k in NOT_NULL)}


def _writer(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, lambda ctx: structure.may_write(ctx, Perm.MANAGE_STRUCTURE))


def _directory_page(request: HttpRequest, school: str, model: Any, params: ListQuery, sorts: Sorts) -> dict[str, Any]:
    """One page of a school's directory rows (years, periods, levels, subjects, rooms...)."""
    qs = scopes.directory(resolve_school(request.user, school), model)
    year_id = getattr(params, "year_id", None)
    if year_id is not None:
        qs = qs.filter(year_id=year_id)
    return paginate(request, qs, params, sorts)


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "full_name": user.full_name} if user is not None else None


def _class(c: SchoolClass) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "year_id": c.year_id,
        "year_level_id": c.year_level_id,
        "year_level": c.year_level.number,
        "class_teacher": _person(c.class_teacher),
    }


def _class_detail(ctx: SchoolContext, pk: int) -> dict[str, Any]:
    groups = scopes.subgroups(ctx).annotate(n_students=Count("students")).order_by("name")
    school_class = scopes.get_or_404(scopes.classes(ctx).prefetch_related(Prefetch("subgroups", groups)), pk=pk)
    subgroups = [
        {"id": g.pk, "name": g.name, "students": getattr(g, "n_students", 0)} for g in school_class.subgroups.all()
    ]
    return {**_class(school_class), "subgroups": subgroups}


def _assignment(a: TeachingAssignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "year_id": a.year_id,
        "teacher": _person(a.teacher),
        "class_id": a.school_class_id,
        "subgroup_id": a.subgroup_id,
        "subject_id": a.subject_id,
        "hours_per_week": a.hours_per_week,
        "scale_id": a.scale_id,
    }


# --- the school --------------------------------------------------------------------------------------


@router.get("/{slug:school}", response=SchoolOut, summary="A school and the caller's roles in it")
def school_detail(request: HttpRequest, school: str) -> dict[str, object]:
    ctx = resolve_school(request.user, school)
    s = ctx.school
    return {
        "slug": s.slug,
        "name": s.name,
        "short_name": s.short_name,
        "country": s.country,
        "language": s.language,
        "roles": sorted(ctx.roles),
    }


# --- calendar ----------------------------------------------------------------------------------------


@router.get("/{slug:school}/years", response=Page[YearOut], summary="Academic years")
def list_years(request: HttpRequest, school: str, params: Query[YearQuery]) -> dict[str, Any]:
    return _directory_page(request, school, AcademicYear, params, YEAR_SORTS)


@router.get("/{slug:school}/periods", response=Page[PeriodOut], summary="Study periods (nested through parent_id)")
def list_periods(request: HttpRequest, school: str, params: Query[PeriodQuery]) -> dict[str, Any]:
    return _directory_page(request, school, StudyPeriod, params, PERIOD_SORTS)


@router.get("/{slug:school}/special-days", response=Page[SpecialDayOut], summary="Holidays and special days")
def list_special_days(request: HttpRequest, school: str, params: Query[SpecialDayQuery]) -> dict[str, Any]:
    return _directory_page(request, school, SpecialDay, params, SPECIAL_DAY_SORTS)


# --- structure ---------------------------------------------------------------------------------------


@router.get("/{slug:school}/year-levels", response=Page[YearLevelOut], summary="Year levels")
def list_year_levels(request: HttpRequest, school: str, params: Query[YearLevelQuery]) -> dict[str, Any]:
    return _directory_page(request, school, YearLevel, params, YEAR_LEVEL_SORTS)


@router.get("/{slug:school}/classes", response=Page[ClassOut], summary="Classes the caller may see")
def list_classes(request: HttpRequest, school: str, params: Query[ClassQuery]) -> dict[str, Any]:
    qs = scopes.classes(resolve_school(request.user, school))
    if params.year_id is not None:
        qs = qs.filter(year_id=params.year_id)
    return paginate(request, qs, params, CLASS_SORTS, _class)


@router.get("/{slug:school}/classes/{int:class_id}", response=ClassDetail, summary="A class with its subgroups")
def class_detail(request: HttpRequest, school: str, class_id: int) -> dict[str, Any]:
    return _class_detail(resolve_school(request.user, school), class_id)


@router.post("/{slug:school}/classes", response={201: ClassDetail}, summary="Create a class or group")
def create_class(request: HttpRequest, school: str, payload: ClassIn) -> Status:
    ctx = _writer(request, school)
    created = services.create_class(acting_user=ctx.user, school=ctx.school, **_fields(payload, partial=False))
    return Status(201, _class_detail(ctx, created.pk))


@router.patch("/{slug:school}/classes/{int:class_id}", response=ClassDetail, summary="Change a class")
def update_class(request: HttpRequest, school: str, class_id: int, payload: ClassPatch) -> dict[str, Any]:
    ctx = _writer(request, school)
    school_class = scopes.get_or_404(scopes.classes(ctx), pk=class_id)
    services.update_class(acting_user=ctx.user, school_class=school_class, **_fields(payload, partial=True))
    return _class_detail(ctx, class_id)


@router.get("/{slug:school}/subjects", response=Page[SubjectOut], summary="Subjects, disciplines and modules")
def list_subjects(request: HttpRequest, school: str, params: Query[NameQuery]) -> dict[str, Any]:
    return _directory_page(request, school, Subject, params, NAME_SORTS)


@router.post("/{slug:school}/subjects", response={201: SubjectOut}, summary="Create a subject")
def create_subject(request: HttpRequest, school: str, payload: SubjectIn) -> Status:
    ctx = _writer(request, school)
    return Status(
        201, services.create_subject(acting_user=ctx.user, school=ctx.school, **_fields(payload, partial=False))
    )


@router.patch("/{slug:school}/subjects/{int:subject_id}", response=SubjectOut, summary="Change a subject")
def update_subject(request: HttpRequest, school: str, subject_id: int, payload: SubjectPatch) -> Subject:
    ctx = _writer(request, school)
    subject = scopes.get_or_404(scopes.directory(ctx, Subject), pk=subject_id)
    return services.update_subject(acting_user=ctx.user, subject=subject, **_fields(payload, partial=True))


@router.get("/{slug:school}/rooms", response=Page[RoomOut], summary="Rooms")
def list_rooms(request: HttpRequest, school: str, params: Query[NameQuery]) -> dict[str, Any]:
    return _directory_page(request, school, Room, params, NAME_SORTS)


@router.get("/{slug:school}/scales", response=Page[ScaleOut], summary="Marking scales with their values and levels")
def list_scales(request: HttpRequest, school: str, params: Query[NameQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    values = Prefetch("values", queryset=structure.scale_values(ctx).order_by("ordinal"))
    default_id = ctx.school.default_scale_id
    return paginate(
        request,
        scopes.directory(ctx, MarkingScale).prefetch_related(values),
        params,
        NAME_SORTS,
        lambda s: {
            "id": s.pk,
            "name": s.name,
            "kind": s.kind,
            "is_default": s.pk == default_id,
            "values": s.values.all(),
        },
    )


# --- teaching assignments (workload, R4.4) -----------------------------------------------------------


@router.get("/{slug:school}/assignments", response=Page[AssignmentOut], summary="Teaching assignments")
def list_assignments(request: HttpRequest, school: str, params: Query[AssignmentQuery]) -> dict[str, Any]:
    qs = scopes.assignments(resolve_school(request.user, school))
    if params.year_id is not None:
        qs = qs.filter(year_id=params.year_id)
    if params.teacher is not None:
        qs = qs.filter(teacher_id=params.teacher)
    if params.class_id is not None:
        qs = qs.filter(school_class_id=params.class_id)
    return paginate(request, qs, params, ASSIGNMENT_SORTS, _assignment)


@router.post("/{slug:school}/assignments", response={201: AssignmentOut}, summary="Create a teaching assignment")
def create_assignment(request: HttpRequest, school: str, payload: AssignmentIn) -> Status:
    ctx = _writer(request, school)
    created = services.create_assignment(acting_user=ctx.user, school=ctx.school, **_fields(payload, partial=False))
    return Status(201, _assignment(scopes.get_or_404(scopes.assignments(ctx), pk=created.pk)))


@router.patch(
    "/{slug:school}/assignments/{int:assignment_id}", response=AssignmentOut, summary="Change a teaching assignment"
)
def update_assignment(
    request: HttpRequest, school: str, assignment_id: int, payload: AssignmentPatch
) -> dict[str, Any]:
    ctx = _writer(request, school)
    assignment = scopes.get_or_404(scopes.assignments(ctx), pk=assignment_id)
    services.update_assignment(acting_user=ctx.user, assignment=assignment, **_fields(payload, partial=True))
    return _assignment(scopes.get_or_404(scopes.assignments(ctx), pk=assignment_id))
