"""Operations that change a school's calendar and structure. Views, the API and commands call these.

Every write validates (``full_clean`` plus the rules below), writes the row and an audit entry with
old and new values, in one transaction. Field errors are raised as ``ValidationError`` keyed by field
(forms show them next to the field, the API as ``fields``); refusals of a whole action as ``DomainError``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.core.audit import log_action
from classbook.core.errors import DomainError
from classbook.core.models import SchoolOwned
from classbook.people.models import Enrolment, Membership, Role, Student, User
from classbook.schools.models import (
    AcademicYear,
    Country,
    MarkingScale,
    PeriodKind,
    Room,
    ScaleKind,
    ScaleLevel,
    ScaleValue,
    School,
    SchoolClass,
    SchoolKind,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)
from classbook.schools.scales import ValueSpec, create_scale, create_standard_scales
from classbook.schools.signals import school_created

M = TypeVar("M", bound=models.Model)

# The fields a manager may set on each model; everything else (school, id) is fixed by the service.
EDITABLE_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    School: (
        "name",
        "short_name",
        "kind",
        "country",
        "address",
        "phone",
        "email",
        "director_name",
        "language",
        "default_scale",
        "entry_deadline",
        "require_staff_2fa",
        "staff_idle_minutes",
        "remember_device_days",
        "holiday_rule",
        "average_decimals",
        "offline_window_hours",
    ),
    AcademicYear: ("name", "start", "end", "is_current"),
    StudyPeriod: ("year", "parent", "kind", "name", "ordinal", "start", "end"),
    SpecialDay: ("year", "kind", "name", "start", "end", "as_weekday"),
    YearLevel: ("number", "name", "scale"),
    SchoolClass: ("year", "year_level", "name", "kind", "class_teacher"),
    Subgroup: ("school_class", "name"),
    Subject: ("name", "short_name", "kind", "scale"),
    Room: ("name", "capacity"),
    MarkingScale: ("name",),
    TeachingAssignment: ("teacher", "school_class", "subgroup", "subject", "hours_per_week", "scale"),
}


@transaction.atomic
def create_school(*, acting_user: User | None, slug: str, name: str, country: str = "UA", **fields: Any) -> School:
    """Create a tenant with its standard marking scales."""
    school = School(slug=slug, name=name, country=country, **fields)
    school.full_clean()
    school.save()
    create_standard_scales(school)
    log_action("schools.school.created", actor=acting_user, school=school, obj=school, data={"slug": slug})
    school_created.send(sender=School, school=school, acting_user=acting_user)
    return school


# --- audit values ----------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _attname(obj: models.Model, name: str) -> str:
    """The attribute holding a field's raw value (``year_id`` for ``year``)."""
    return getattr(obj._meta.get_field(name), "attname", name)


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The editable values of ``obj`` as JSON (foreign keys as ids), for the audit trail."""
    names = EDITABLE_FIELDS.get(type(obj), ())
    return {name: _jsonable(getattr(obj, _attname(obj, name))) for name in names}


def _audit(action: str, *, acting_user: User, obj: models.Model, old: dict[str, Any], new: dict[str, Any]) -> None:
    changed = sorted(k for k in new if old.get(k) != new.get(k))
    school = obj if isinstance(obj, School) else obj.school  # type: ignore[attr-defined]
    log_action(
        f"schools.{obj._meta.model_name}.{action}",
        actor=acting_user,
        school=school,
        obj=obj,
        data={"old": {k: old.get(k) for k in changed}, "new": {k: new.get(k) for k in changed}},
    )


# --- the rules ---------------------------------------------------------------------------------------


def is_teacher_of(school: School | int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    today = timezone.localdate()
    return (
        Membership.objects.filter(school=school, user_id=user_id, role=Role.TEACHER, is_active=True)
        .exclude(until__lt=today)
        .exists()
    )


def _check_same_school(obj: models.Model) -> None:
    """A row may only point to rows of its own school (a POSTed id of another school is refused)."""
    errors: dict[str, Any] = {}
    school_id = obj.pk if isinstance(obj, School) else obj.school_id  # type: ignore[attr-defined]
    for field in obj._meta.concrete_fields:
        if not field.is_relation or field.name == "school":
            continue
        target_id = getattr(obj, field.attname)
        related = field.related_model
        if target_id is None or not (isinstance(related, type) and issubclass(related, SchoolOwned)):
            continue
        if not related._default_manager.filter(pk=target_id, school_id=school_id).exists():
            errors[field.name] = _("Choose a value of this school.")
    if errors:
        raise ValidationError(errors)


def _check_period(period: StudyPeriod) -> None:
    """Periods of the same kind in a year do not overlap (two "I semester"s cannot share days)."""
    overlap = (
        StudyPeriod.objects.filter(
            school_id=period.school_id,
            year_id=period.year_id,
            kind=period.kind,
            start__lte=period.end,
            end__gte=period.start,
        )
        .exclude(pk=period.pk)
        .first()
    )
    if overlap is not None:
        raise ValidationError({"start": _("The period overlaps “%(name)s” of the same kind.") % {"name": overlap.name}})
    # Walk up the enclosing periods: a period may not end up inside itself (directly or through others).
    parent_id, seen = period.parent_id, 0
    while parent_id is not None and period.pk is not None and seen < 10:
        if parent_id == period.pk:
            raise ValidationError({"parent": _("A period cannot lie inside itself.")})
        parent_id = StudyPeriod.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
        seen += 1


def _check_year(year: AcademicYear) -> None:
    """Shortening a year must not leave its periods or holidays outside it."""
    if year.pk is None:
        return
    outside = models.Q(start__lt=year.start) | models.Q(end__gt=year.end)
    if StudyPeriod.objects.filter(year=year).filter(outside).exists():
        raise ValidationError({"end": _("Some study periods of this year would lie outside it. Change them first.")})
    if SpecialDay.objects.filter(year=year).filter(outside).exists():
        raise ValidationError({"end": _("Some holidays of this year would lie outside it. Change them first.")})


def _check_class(school_class: SchoolClass) -> None:
    if school_class.class_teacher_id and not is_teacher_of(school_class.school_id, school_class.class_teacher_id):
        raise ValidationError({"class_teacher": _("The class teacher must be a teacher of this school.")})


def _check_subgroup(subgroup: Subgroup) -> None:
    """A subgroup keeps its students and assignments, so it cannot move to another class under them."""
    if subgroup.pk is None:
        return
    old_class_id = Subgroup.objects.filter(pk=subgroup.pk).values_list("school_class_id", flat=True).first()
    if old_class_id == subgroup.school_class_id:
        return
    if subgroup.students.exists() or subgroup.assignments.exists():
        raise ValidationError(
            {"school_class": _("This subgroup has students or teachers; it cannot move to another class.")}
        )


def _check_assignment(assignment: TeachingAssignment) -> None:
    if not is_teacher_of(assignment.school_id, assignment.teacher_id):
        raise ValidationError({"teacher": _("Choose a teacher of this school.")})


RULES: dict[type[models.Model], Any] = {
    StudyPeriod: _check_period,
    AcademicYear: _check_year,
    SchoolClass: _check_class,
    Subgroup: _check_subgroup,
    TeachingAssignment: _check_assignment,
}


def _prepare(obj: models.Model) -> None:
    """Values the service derives rather than asks for."""
    if isinstance(obj, TeachingAssignment) and obj.school_class_id:
        # An assignment belongs to the year of its class; nobody chooses it separately.
        year_id = SchoolClass.objects.filter(pk=obj.school_class_id).values_list("year_id", flat=True).first()
        if year_id is not None:
            obj.year_id = year_id
    # At most one current year per school (a constraint): the newly current one takes over. This runs in
    # the caller's transaction, so a refused change leaves the old current year as it was.
    if isinstance(obj, AcademicYear) and obj.is_current:
        # Lock the school row so two managers marking different years current queue instead of colliding.
        School.objects.select_for_update().filter(pk=obj.school_id).first()
        AcademicYear.objects.filter(school_id=obj.school_id, is_current=True).exclude(pk=obj.pk).update(
            is_current=False
        )


def _validate(obj: models.Model) -> None:
    # Foreign ids first: the models' own clean() follows relations and must only see this school's rows.
    _check_same_school(obj)
    _prepare(obj)
    obj.full_clean()
    rule = RULES.get(type(obj))
    if rule is not None:
        rule(obj)


def _apply(obj: M, fields: dict[str, Any]) -> M:
    allowed = EDITABLE_FIELDS[type(obj)]
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    for name, value in fields.items():
        field = obj._meta.get_field(name)
        if field.is_relation and not isinstance(value, models.Model):
            setattr(obj, _attname(obj, name), value)  # a bare id (the API sends ids)
        else:
            setattr(obj, name, value)
    return obj


# --- generic create / update / delete --------------------------------------------------------------


def _save(obj: models.Model) -> None:
    """Save after validation. Two people creating the same name at once both pass ``full_clean``; the
    database's unique constraint then refuses the second, which gets the same message, not a 500."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError(_("Somebody has just saved a row with these values. Reload the page.")) from None


@transaction.atomic
def create_row(*, acting_user: User, school: School, model: type[M], fields: dict[str, Any]) -> M:
    """Create one calendar or structure row of ``school`` (R1.7)."""
    obj = _apply(model(school=school), fields)
    _validate(obj)
    _save(obj)
    _audit("created", acting_user=acting_user, obj=obj, old={}, new=snapshot(obj))
    return obj


@transaction.atomic
def update_row(*, acting_user: User, obj: M, fields: dict[str, Any]) -> M:
    """Change a row (locked while it changes); the audit entry keeps old and new values (R1.7)."""
    locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
    old = snapshot(locked)
    _apply(locked, fields)
    _validate(locked)
    _save(locked)
    _audit("updated", acting_user=acting_user, obj=locked, old=old, new=snapshot(locked))
    return locked


@transaction.atomic
def delete_row(*, acting_user: User, obj: models.Model) -> None:
    """Delete a row nothing uses; a row still in use is refused with a message saying by what."""
    old = snapshot(obj)
    label = str(obj)
    pk = obj.pk
    try:
        obj.delete()
    except (ProtectedError, RestrictedError) as exc:
        used = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", [])
        used_by = sorted({str(o._meta.verbose_name_plural) for o in list(used)[:50]})
        raise DomainError(
            _("“%(name)s” cannot be deleted: it is still used by %(used)s. Change or delete those first.")
            % {"name": label, "used": ", ".join(used_by)},
            code="in_use",
        ) from None
    obj.pk = pk  # for the audit reference
    _audit("deleted", acting_user=acting_user, obj=obj, old=old, new={k: None for k in old})


# --- named business actions (the API and commands call these) ---------------------------------------


def update_school_settings(*, acting_user: User, school: School, **fields: Any) -> School:
    """Base settings of the school (R1.7): names, contacts, language, scale, deadline (R2.2), 2FA (R1.5),
    decimals of averages (R2.6)."""
    return update_row(acting_user=acting_user, obj=school, fields=fields)


def create_class(*, acting_user: User, school: School, **fields: Any) -> SchoolClass:
    """A class or college group with its class teacher, a teacher of this school (R4.3)."""
    return create_row(acting_user=acting_user, school=school, model=SchoolClass, fields=fields)


def update_class(*, acting_user: User, school_class: SchoolClass, **fields: Any) -> SchoolClass:
    return update_row(acting_user=acting_user, obj=school_class, fields=fields)


def create_subject(*, acting_user: User, school: School, **fields: Any) -> Subject:
    """A subject, discipline or professional module with an optional own scale (R2.5)."""
    return create_row(acting_user=acting_user, school=school, model=Subject, fields=fields)


def update_subject(*, acting_user: User, subject: Subject, **fields: Any) -> Subject:
    return update_row(acting_user=acting_user, obj=subject, fields=fields)


def create_assignment(*, acting_user: User, school: School, **fields: Any) -> TeachingAssignment:
    """Teacher × class or subgroup × subject × hours per week: the workload (R4.3, R4.4)."""
    return create_row(acting_user=acting_user, school=school, model=TeachingAssignment, fields=fields)


def update_assignment(*, acting_user: User, assignment: TeachingAssignment, **fields: Any) -> TeachingAssignment:
    return update_row(acting_user=acting_user, obj=assignment, fields=fields)


@transaction.atomic
def set_current_year(*, acting_user: User, year: AcademicYear) -> AcademicYear:
    """Mark the year the school works in now; the previous current year stops being current."""
    return update_row(acting_user=acting_user, obj=year, fields={"is_current": True})


Span = tuple[dt.date, dt.date]


def _split(start: dt.date, end: dt.date) -> tuple[Span, Span]:
    """Two halves of a span: at the new year when the span crosses it, else in the middle."""
    new_year = dt.date(start.year + 1, 1, 1)
    if start < new_year <= end:
        return (start, new_year - dt.timedelta(days=1)), (new_year, end)
    middle = start + (end - start) / 2
    return (start, middle), (middle + dt.timedelta(days=1), end)


def standard_pattern(school: School) -> str:
    """Colleges and Ukrainian schools work in semesters; Russian-style schools in quarters inside half-years."""
    if school.kind == SchoolKind.COLLEGE or school.country != Country.RUSSIAN_STYLE:
        return PeriodKind.SEMESTER
    return PeriodKind.QUARTER


@dataclass(frozen=True)
class PeriodSpec:
    """A study period to create; ``parent`` is the index of the enclosing spec in the same list."""

    kind: str
    name: str
    ordinal: int
    start: dt.date
    end: dt.date
    parent: int | None = None
    depth: int = 0
    why: str = ""  # how the dates were found (the year opening's preview shows it)


def standard_period_specs(school: School, start: dt.date, end: dt.date) -> list[PeriodSpec]:
    """The usual periods of a year from ``start`` to ``end`` (R2.5): the year itself, then 2 semesters
    (Ukraine, colleges) or 2 half-years with 2 quarters each (Russian-style schools)."""
    specs = [PeriodSpec(PeriodKind.YEAR, str(_("Year")), 1, start, end)]
    halves = _split(start, end)
    if standard_pattern(school) == PeriodKind.SEMESTER:
        for i, span in enumerate(halves, start=1):
            name = str(_("Semester %(n)s") % {"n": _roman(i)})
            specs.append(PeriodSpec(PeriodKind.SEMESTER, name, i, *span, parent=0, depth=1))
    else:
        for i, span in enumerate(halves, start=1):
            specs.append(
                PeriodSpec(PeriodKind.HALF, str(_("Half-year %(n)s") % {"n": _roman(i)}), i, *span, parent=0, depth=1)
            )
            half = len(specs) - 1
            for j, quarter in enumerate(_split(*span), start=2 * i - 1):
                name = str(_("Quarter %(n)s") % {"n": _roman(j)})
                specs.append(PeriodSpec(PeriodKind.QUARTER, name, j, *quarter, parent=half, depth=2))
    return specs


@transaction.atomic
def generate_standard_periods(*, acting_user: User, year: AcademicYear) -> list[StudyPeriod]:
    """Create the usual periods of the year (R2.5, ``standard_period_specs``). Dates are a starting point
    to edit."""
    year = AcademicYear.objects.select_for_update().get(pk=year.pk)
    if StudyPeriod.objects.filter(year=year).exists():
        raise DomainError(_("This year already has study periods. Delete them first or add periods one by one."))
    created: list[StudyPeriod] = []
    for spec in standard_period_specs(year.school, year.start, year.end):
        period = StudyPeriod(
            school_id=year.school_id,
            year=year,
            parent=created[spec.parent] if spec.parent is not None else None,
            kind=spec.kind,
            name=spec.name,
            ordinal=spec.ordinal,
            start=spec.start,
            end=spec.end,
        )
        period.full_clean()
        period.save()
        created.append(period)
    log_action(
        "schools.studyperiod.generated",
        actor=acting_user,
        school=year.school,
        obj=year,
        data={"new": [{"id": p.pk, "kind": p.kind, "start": str(p.start), "end": str(p.end)} for p in created]},
    )
    return created


def _roman(n: int) -> str:
    return ["I", "II", "III", "IV"][n - 1]


@transaction.atomic
def set_subgroup_students(*, acting_user: User, subgroup: Subgroup, students: list[Student]) -> Subgroup:
    """The students of a subgroup, all current students of its class (R2.4)."""
    subgroup = Subgroup.objects.select_for_update().get(pk=subgroup.pk)
    ids = {s.pk for s in students}
    in_class = set(
        Enrolment.objects.filter(
            school_class_id=subgroup.school_class_id, student_id__in=ids, end__isnull=True
        ).values_list("student_id", flat=True)
    )
    if ids - in_class:
        raise ValidationError({"students": _("Only current students of the class may be in its subgroup.")})
    old = sorted(subgroup.students.values_list("pk", flat=True))
    subgroup.students.set(ids)
    log_action(
        "schools.subgroup.students_set",
        actor=acting_user,
        school=subgroup.school,
        obj=subgroup,
        data={"old": {"students": old}, "new": {"students": sorted(ids)}},
    )
    return subgroup


CUSTOM_LEVELS = frozenset(level.value for level in ScaleLevel if level != ScaleLevel.SPECIAL)


def parse_scale_lines(text: str) -> list[ValueSpec]:
    """Values of a custom scale, one per line: ``code, level[, numeric value]``.

    The level is one of the level keys (initial, average, sufficient, high, fail, pass).
    """
    specs: list[ValueSpec] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        code, level = parts[0][:16], (parts[1].lower() if len(parts) > 1 else "")
        if not code or level not in CUSTOM_LEVELS or len(parts) > 3:
            raise ValidationError(
                {"values": _("Line %(n)s: write “code, level” or “code, level, number”.") % {"n": number}}
            )
        numeric = None
        if len(parts) == 3 and parts[2]:
            try:
                numeric = Decimal(parts[2].replace(" ", ""))
            except ArithmeticError:
                raise ValidationError({"values": _("Line %(n)s: the number is not valid.") % {"n": number}}) from None
            if not numeric.is_finite() or abs(numeric) >= 1000:
                raise ValidationError({"values": _("Line %(n)s: the number is not valid.") % {"n": number}})
        if code.lower() in seen:
            raise ValidationError({"values": _("Line %(n)s: the code is repeated.") % {"n": number}})
        seen.add(code.lower())
        specs.append(ValueSpec(code, level, numeric, is_passing=level != ScaleLevel.FAIL))
    if not specs:
        raise ValidationError({"values": _("Enter at least one value.")})
    if len(specs) > 40:
        raise ValidationError({"values": _("A scale may have at most 40 values.")})
    return specs


@transaction.atomic
def create_custom_scale(*, acting_user: User, school: School, name: str, values: str) -> MarkingScale:
    """A school's own marking scale (R2.5) with the period-only special marks every scale has."""
    specs = parse_scale_lines(values)
    probe = MarkingScale(school=school, name=name, kind=ScaleKind.CUSTOM)
    probe.full_clean()
    scale = create_scale(school, name, ScaleKind.CUSTOM, specs)
    log_action(
        "schools.markingscale.created",
        actor=acting_user,
        school=school,
        obj=scale,
        data={"new": {"name": name, "values": [s.code for s in specs]}},
    )
    return scale


@transaction.atomic
def set_five_point_one(*, acting_user: User, scale: MarkingScale, enabled: bool) -> MarkingScale:
    """Allow or forbid the mark "1" on a 5-point scale (R2.5: some schools use it, most do not)."""
    scale = MarkingScale.objects.select_for_update().get(pk=scale.pk)
    if scale.kind != ScaleKind.FIVE:
        raise DomainError(_("Only a 5-point scale has the optional mark 1."))
    one = scale.values.filter(code="1").first()
    if enabled and one is None:
        ScaleValue.objects.filter(scale=scale).update(ordinal=models.F("ordinal") + 1)
        ScaleValue.objects.create(
            school_id=scale.school_id,
            scale=scale,
            code="1",
            numeric=Decimal(1),
            level=ScaleLevel.FAIL,
            ordinal=0,
            is_passing=False,
        )
    elif not enabled and one is not None:
        try:
            one.delete()
        except ProtectedError:
            raise DomainError(
                _("The mark 1 is already given in the journal; it cannot be removed from the scale."), code="in_use"
            ) from None
    else:
        return scale
    log_action(
        "schools.markingscale.updated",
        actor=acting_user,
        school=scale.school,
        obj=scale,
        data={"old": {"with_one": not enabled}, "new": {"with_one": enabled}},
    )
    return scale
