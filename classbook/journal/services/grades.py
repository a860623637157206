"""Thematic, period, annual and exam grades and their corrections (R2.5, R2.7)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_assignment,
    may_correct_grades,
)
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.models import (
    AccumulationPolicy,
    AttendanceCode,
    ChangeKind,
    GradeCorrection,
    GradeKind,
    JournalChange,
    PeriodGrade,
)
from classbook.journal.rules import GradeFeedback, GradeValue, correction_last_day, grade_feedback, policy_for
from classbook.journal.services._common import CellConflict, CellValue, _announce, _ensure_student_in_assignment
from classbook.people.models import Student, User
from classbook.schools.models import (
    ScaleValue,
    StudyPeriod,
    TeachingAssignment,
)

# --- Period grades and their corrections (R2.5, R2.7) ----------------------------------


def _log_grade(*, acting_user: User, kind: str, grade: PeriodGrade, old: str, new: str, reason: str = "") -> None:
    JournalChange.objects.create(
        school_id=grade.school_id,
        actor=acting_user,
        kind=kind,
        assignment_id=grade.assignment_id,
        lesson=None,
        student_id=grade.student_id,
        period_id=grade.period_id,
        object_id=grade.pk,
        old_value=old,
        new_value=new,
        reason=reason[:500],
    )
    _announce(kind, grade.school_id, grade.assignment_id, None, grade.period_id, grade.student_id, grade.pk, old, new)


def parse_period_grade(assignment: TeachingAssignment, text: str) -> ScaleValue:
    """A grade for a period column: the scale's values plus "н/а" and "звільн."; attendance marks refused."""
    scale = assignment.effective_scale()
    if scale is None:
        raise DomainError(_("No marking scale is set for this subject."), code="no_scale")
    try:
        return scale.parse(text, period_column=True)
    except ValidationError as exc:
        typed = text.strip().lower()
        if typed and AttendanceCode.objects.filter(school_id=assignment.school_id, code__iexact=typed[:4]).exists():
            raise DomainError(
                _("“%(code)s” is an attendance mark; it cannot be a period grade. For “not attested” enter “н/а”.")
                % {"code": text.strip()[:10]},
                code="attendance_in_period_column",
                field="value",
            ) from None
        raise DomainError(exc.messages[0], code=exc.code or "invalid_mark", field="value") from None


@transaction.atomic
def record_period_grade(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    student: Student,
    period: StudyPeriod,
    kind: str,
    text: str,
    expected_version: int,
    ordinal: int = 0,
    title: str = "",
) -> PeriodGrade:
    """Set a thematic, period (semester/quarter), annual or exam grade (R2.5); it is locked at once (R2.7).

    A set grade cannot be changed here: a semester or quarter grade is changed only by
    ``correct_period_grade`` (a recorded correction by an allowed role); thematic and annual grades not at all.
    Setting the same value again is a no-op. Versions protect against two teachers' tabs racing.

    The school's rules (``rules.grade_feedback``): a period grade other than "н/а" or "exempt" for a
    student with fewer marks than required (R2.6) is refused when the school's accumulation policy is
    "refuse" (``too_few_marks``), saved with a warning when it is "warn"; an annual grade that differs
    from the school's annual rule is saved with a warning. The warnings (and an annual grade's basis)
    come back on ``grade.feedback``.
    """
    if not can_edit_assignment(acting_user, assignment):
        raise PermissionDeniedError(_("Only the teacher of this class and subject may set its grades."))
    if kind == GradeKind.CORRECTED:
        raise DomainError(_("A corrected grade is given only as a recorded correction."), code="use_correction")
    if kind not in GradeKind.values:
        raise DomainError(_("Unknown kind of grade."), code="invalid_kind", field="kind")
    if period.school_id != assignment.school_id or period.year_id != assignment.year_id:
        raise DomainError(_("The period belongs to another academic year."), code="invalid_period", field="period")
    if not 0 <= ordinal <= 50:
        raise DomainError(_("Unknown theme number."), field="ordinal")
    if len(title) > 120:
        raise DomainError(_("The title is too long (120 characters at most)."), field="title")
    _ensure_student_in_assignment(assignment, student, period.start, period.end)
    if not text.strip():
        raise DomainError(_("Enter a grade. A period grade cannot be cleared."), code="empty", field="value")
    value = parse_period_grade(assignment, text)
    cell = {"assignment": assignment, "student": student, "period": period, "kind": kind, "ordinal": ordinal}
    # No select_related on the locked row: after waiting for a concurrent writer, PostgreSQL re-reads
    # the locked row but not the joined one, so a joined value could be stale or NULL.
    grade = PeriodGrade.objects.select_for_update(of=("self",)).filter(**cell).first()
    if grade is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        policy = policy_for(assignment.school_id)
        feedback = grade_feedback(assignment, student.pk, period, kind, GradeValue.of(value), policy)
        _refuse_too_few_marks(feedback, policy.accumulation_policy)
        now = timezone.now()
        try:
            with transaction.atomic():
                grade = PeriodGrade.objects.create(
                    school_id=assignment.school_id, **cell, title=title, value=value, set_by=acting_user, locked_at=now
                )
        except IntegrityError:
            current = PeriodGrade.objects.select_related("value").get(**cell)
            raise CellConflict(CellValue(current.value.code, current.version)) from None
        _log_grade(acting_user=acting_user, kind=ChangeKind.PERIOD_GRADE, grade=grade, old="", new=value.code)
        grade.feedback = feedback
        return grade
    if grade.version != expected_version:
        raise CellConflict(CellValue(grade.value.code, grade.version))
    if grade.value_id == value.pk:
        policy = policy_for(assignment.school_id)
        grade.feedback = grade_feedback(assignment, student.pk, period, kind, GradeValue.of(value), policy)
        return grade
    if kind == GradeKind.PERIOD:
        message = _(
            "This grade was set on %(date)s and is locked. It can be changed only as a recorded correction "
            "by the school's administration."
        )
    else:
        message = _("This grade was set on %(date)s and is locked; this kind of grade cannot be corrected.")
    raise DomainError(
        message % {"date": timezone.localdate(grade.locked_at or grade.set_at).strftime("%d.%m.%Y")},
        code="grade_locked",
    )


def _refuse_too_few_marks(feedback: GradeFeedback, accumulation_policy: str) -> None:
    """Under the "refuse" policy a period grade with too few marks is not given (R2.6)."""
    acc = feedback.accumulation
    if accumulation_policy != AccumulationPolicy.REFUSE or acc is None:
        return
    if any(w.code == "too_few_marks" for w in feedback.warnings):
        raise DomainError(
            _(
                "The student has %(count)s of the %(required)s marks the school requires in this period, so "
                "a period grade cannot be given yet. Give more marks first, or enter “н/а” (not attested)."
            )
            % {"count": acc.count, "required": acc.required},
            code="too_few_marks",
            field="value",
        )


@transaction.atomic
def correct_period_grade(
    *, acting_user: User, grade: PeriodGrade, text: str, reason: str, order_ref: str
) -> PeriodGrade:
    """Give a corrected semester (quarter) grade by order of a commission (R2.5, R2.7).

    Only the roles the school allows (default: director, deputy); only for period grades (thematic
    and annual grades cannot be corrected); only within ``correction_window_days`` calendar days
    after the grade was set (default 3: set on the 24th, the 27th is the last day). Both values are
    kept: the period grade stays, a ``corrected`` grade is added (or changed by a later correction in
    the window), each correction is a ``GradeCorrection`` and a journal change. The annual grade
    uses the corrected grade (``rules.annual_grade_basis``).
    """
    grade = PeriodGrade.objects.select_for_update(of=("self",)).select_related("assignment", "school").get(pk=grade.pk)
    policy = policy_for(grade.school_id)
    if not may_correct_grades(acting_user, grade.school_id, policy.correction_roles()):
        raise PermissionDeniedError(_("Your role may not correct period grades."))
    if grade.kind != GradeKind.PERIOD:
        raise DomainError(
            _("Only semester or quarter grades can be corrected; thematic and annual grades cannot."),
            code="not_correctable",
        )
    last_day = correction_last_day(grade, policy)
    if timezone.localdate() > last_day:
        raise DomainError(
            _("A corrected grade could be given until %(date)s (%(days)s days after the semester grade).")
            % {"date": last_day.strftime("%d.%m.%Y"), "days": policy.correction_window_days},
            code="correction_too_late",
        )
    reason, order_ref = reason.strip(), order_ref.strip()
    if not reason:
        raise DomainError(_("Give the reason of the correction."), code="reason_required", field="reason")
    if not order_ref:
        raise DomainError(
            _("Give the order or commission decision the correction is based on."),
            code="order_required",
            field="order_ref",
        )
    if len(reason) > 500 or len(order_ref) > 120:
        raise DomainError(_("The reason or the order reference is too long."), field="reason")
    value = parse_period_grade(grade.assignment, text)
    cell = {
        "assignment_id": grade.assignment_id,
        "student_id": grade.student_id,
        "period_id": grade.period_id,
        "kind": GradeKind.CORRECTED,
        "ordinal": grade.ordinal,
    }
    corrected = PeriodGrade.objects.select_for_update(of=("self",)).filter(**cell).first()
    old_value = corrected.value if corrected else grade.value
    if old_value.pk == value.pk:
        raise DomainError(_("The corrected grade is the same as the current one."), code="no_change", field="value")
    now = timezone.now()
    if corrected is None:
        corrected = PeriodGrade.objects.create(
            school_id=grade.school_id, **cell, title=grade.title, value=value, set_by=acting_user, locked_at=now
        )
    else:
        corrected.value = value
        corrected.version += 1
        corrected.set_by = acting_user
        corrected.locked_at = now
        corrected.save(update_fields=["value", "version", "set_by", "locked_at"])
    correction = GradeCorrection.objects.create(
        school_id=grade.school_id,
        grade=grade,
        old_value=old_value,
        new_value=value,
        reason=reason,
        order_ref=order_ref,
        corrected_by=acting_user,
    )
    _log_grade(
        acting_user=acting_user,
        kind=ChangeKind.CORRECTION,
        grade=corrected,
        old=old_value.code,
        new=value.code,
        reason=f"{reason} ({order_ref})",
    )
    log_action(
        "journal.period_grade.corrected",
        actor=acting_user,
        school=grade.school,
        obj=correction,
        data={"grade": grade.pk, "old": old_value.code, "new": value.code, "order": order_ref},
    )
    return corrected
