"""Reasons of absence and flagged marks (R2.8, R2.11): every request and every decision recorded.

The journal itself changes only through its own audited services: a reason goes onto the attendance
row by ``journal.services.record_absence_reason`` (one ``JournalChange`` per absence, old → new), a
corrected mark by ``journal.services.record_mark``. The requests and decisions are written to the
administrative log (``appeals.*``) and announced by the signals of ``appeals.signals`` after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import can_edit_lesson
from classbook.appeals.models import AbsenceReport, FlagStatus, MarkFlag, ReportStatus
from classbook.appeals.signals import (
    absence_report_decided,
    absence_report_submitted,
    mark_flag_answered,
    mark_flag_submitted,
)
from classbook.core import uploads
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.text import clean_text
from classbook.journal import services as journal_services
from classbook.journal.models import AbsenceReasonKind, Attendance, Mark
from classbook.people.models import Enrolment, GuardianLink, Student, User

# A report covers at most a month; it may come in advance, but not for the far future, and not for
# absences long past (the class teacher reconciles attendance weekly, R2.8).
MAX_REPORT_DAYS = 31
MAX_DAYS_AHEAD = 30
MAX_DAYS_BACK = 60
# PDF, JPEG or PNG up to 5 MB, checked by the content (``classbook.core.uploads``, docs/appeals.md).
DOCUMENT_POLICY = uploads.POLICIES["absence_document"]
MAX_BULK_REASONS = 500


def _after_commit(signal: Any, sender: type, instance: Any) -> None:
    transaction.on_commit(lambda: signal.send(sender=sender, instance=instance))


def _clean_kind(kind: str) -> str:
    if kind not in AbsenceReasonKind.values:
        raise DomainError(_("Choose the kind of reason."), code="invalid_kind", field="kind")
    return kind


# --- The class teacher records reasons (R2.8) --------------------------------------------------


@transaction.atomic
def record_absence_reasons(
    *,
    acting_user: User,
    absences: Sequence[tuple[Attendance, int]],
    kind: str,
    text: str,
    excused: bool,
) -> list[Attendance]:
    """The class teacher gives one reason to several absences at once (R2.8): all or nothing.

    ``absences`` pairs each attendance row with the version the teacher saw; each row is written by
    ``journal.services.record_absence_reason`` (its own ``JournalChange``, old → new). A stale row, an
    absence of another class or a cleared absence refuses the whole request.
    """
    if not absences:
        raise DomainError(_("Choose at least one absence."), code="nothing_chosen", field="absences")
    if len(absences) > MAX_BULK_REASONS:
        raise DomainError(
            _("At most %(count)s absences at once.") % {"count": MAX_BULK_REASONS}, code="too_many", field="absences"
        )
    if kind:
        _clean_kind(kind)
    text = clean_text(text, field="reason", limit=300, required=False)
    if not text and not kind:
        raise DomainError(_("Give the reason or choose its kind."), code="required", field="reason")
    return [
        journal_services.record_absence_reason(
            acting_user=acting_user, attendance=row, reason=text, expected_version=version, kind=kind, excused=excused
        )
        for row, version in absences
    ]


# --- Parents report reasons (R2.11) --------------------------------------------------------


def _may_report_for(user: Any, student: Student) -> bool:
    """A guardian link of this user to this child, with "may see", not ended."""
    today = timezone.localdate()
    return (
        GuardianLink.objects.filter(guardian_id=user.pk, student_id=student.pk, may_see=True)
        .exclude(ended_on__lte=today)
        .exists()
    )


def check_report_dates(start: dt.date, end: dt.date, today: dt.date | None = None) -> None:
    """The rules for the days of a report, shared by the form and the API."""
    today = today or timezone.localdate()
    if end < start:
        raise DomainError(_("The last day is before the first day."), code="invalid_range", field="end")
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise DomainError(
            _("A report covers at most %(days)s days; send another one for the rest.") % {"days": MAX_REPORT_DAYS},
            code="range_too_long",
            field="end",
        )
    if end > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(
            _("A reason can be reported at most %(days)s days in advance.") % {"days": MAX_DAYS_AHEAD},
            code="too_far_ahead",
            field="end",
        )
    if start < today - dt.timedelta(days=MAX_DAYS_BACK):
        raise DomainError(
            _("Absences more than %(days)s days ago cannot be reported here; talk to the class teacher.")
            % {"days": MAX_DAYS_BACK},
            code="too_far_back",
            field="start",
        )


@transaction.atomic
def submit_absence_report(
    *,
    acting_user: User,
    student: Student,
    start: dt.date,
    end: dt.date,
    kind: str,
    text: str,
    document: UploadedFile | None = None,
) -> AbsenceReport:
    """A parent reports why their child is or was absent, for a day or a range, in advance too (R2.11).

    Only a guardian whose link to the child is current and allows seeing the child's data may report.
    The optional document (``DOCUMENT_POLICY``: PDF, JPEG, PNG up to 5 MB, checked by its content) is stored
    under a random name with its verified type.
    """
    if not _may_report_for(acting_user, student):
        raise PermissionDeniedError(_("Only a parent of the child may report the reason of an absence."))
    _clean_kind(kind)
    text = clean_text(text, field="text", limit=300, required=True, message=_("Describe the reason."))
    check_report_dates(start, end)
    report = AbsenceReport(
        school_id=student.school_id,
        student=student,
        reported_by=acting_user,
        start=start,
        end=end,
        kind=kind,
        text=text,
    )
    if document is not None:
        checked = uploads.check_upload(document, DOCUMENT_POLICY)
        report.document_name = checked.name
        report.document_type = checked.kind.mime
        report.document_size = checked.size
        report.document.save(checked.name, document, save=False)
    report.save()
    log_action(
        "appeals.absence_report.submitted",
        actor=acting_user,
        school=student.school,
        obj=report,
        data={"student": student.pk, "start": start.isoformat(), "end": end.isoformat(), "kind": kind},
    )
    _after_commit(absence_report_submitted, AbsenceReport, report)
    return report


def _homeroom_enrolments(user: Any, report: AbsenceReport) -> Any:
    """The student's enrolments during the report's days in classes this user is the class teacher of."""
    return Enrolment.objects.filter(
        Q(end__isnull=True) | Q(end__gte=report.start),
        student_id=report.student_id,
        school_class__class_teacher_id=user.pk,
        start__lte=report.end,
    )


def _matching_absences(user: Any, report: AbsenceReport) -> list[Attendance]:
    """Missed lessons of the report's days, in lessons of the user's classes, still without a reason."""
    class_ids = list(_homeroom_enrolments(user, report).values_list("school_class_id", flat=True))
    return list(
        Attendance.objects.filter(
            student_id=report.student_id,
            lesson__date__range=(report.start, report.end),
            lesson__assignment__school_class_id__in=class_ids,
            code__counts_as_absent=True,
            reason="",
        ).order_by("lesson__date", "lesson__number", "pk")
    )


def _apply(acting_user: User, report: AbsenceReport) -> int:
    note = str(_("Absence report No %(id)s") % {"id": report.pk})
    for row in _matching_absences(acting_user, report):
        try:
            journal_services.record_absence_reason(
                acting_user=acting_user,
                attendance=row,
                reason=report.text,
                expected_version=row.version,
                kind=report.kind,
                excused=report.excused,
                note=note,
            )
        except DomainError as exc:
            # An absence of a period whose grade is set is closed (R2.7): it keeps no reason from the report
            # (the journal's rule; the report is accepted for the others). Anything else refuses the decision.
            if exc.code != "period_closed":
                raise
            continue
        report.applied_count += 1
    return report.applied_count


def _lock_report(report: AbsenceReport, acting_user: User) -> AbsenceReport:
    row = AbsenceReport.objects.select_for_update(of=("self",)).select_related("student__school").get(pk=report.pk)
    if not _homeroom_enrolments(acting_user, row).exists():
        raise PermissionDeniedError(_("Only the class teacher of the child decides on reports of absence."))
    return row


@transaction.atomic
def decide_absence_report(
    *, acting_user: User, report: AbsenceReport, accept: bool, comment: str = "", excused: bool = True
) -> AbsenceReport:
    """The class teacher accepts a report (its reason goes onto the matching absences) or rejects it
    with a comment (R2.8, R2.11). Absences that already have a reason keep it.

    Accepting applies the reason to every missed lesson of the report's days in the class teacher's
    class, each through ``record_absence_reason`` (audited per absence). Absences recorded later (a
    report sent in advance) are covered by ``apply_accepted_report``.
    """
    row = _lock_report(report, acting_user)
    if row.status != ReportStatus.PENDING:
        raise DomainError(_("This report has already been decided."), code="already_decided")
    comment = clean_text(
        comment,
        field="comment",
        limit=500,
        required=not accept,
        message=_("Say why the report is rejected; the parent will read it."),
    )
    row.status = ReportStatus.ACCEPTED if accept else ReportStatus.REJECTED
    row.excused = bool(excused) if accept else False
    row.decided_by = acting_user
    row.decided_at = timezone.now()
    row.decision_comment = comment
    if accept:
        _apply(acting_user, row)
    row.save(update_fields=["status", "excused", "decided_by", "decided_at", "decision_comment", "applied_count"])
    log_action(
        "appeals.absence_report.accepted" if accept else "appeals.absence_report.rejected",
        actor=acting_user,
        school=row.student.school,
        obj=row,
        data={"comment": comment, "excused": row.excused, "applied": row.applied_count},
    )
    _after_commit(absence_report_decided, AbsenceReport, row)
    return row


@transaction.atomic
def apply_accepted_report(*, acting_user: User, report: AbsenceReport) -> int:
    """Put an accepted report's reason onto absences recorded since it was accepted (a report sent in
    advance). Returns how many absences got it now."""
    row = _lock_report(report, acting_user)
    if row.status != ReportStatus.ACCEPTED:
        raise DomainError(_("Only an accepted report can be applied."), code="not_accepted")
    before = row.applied_count
    _apply(acting_user, row)
    if row.applied_count != before:
        row.save(update_fields=["applied_count"])
        log_action(
            "appeals.absence_report.applied",
            actor=acting_user,
            school=row.student.school,
            obj=row,
            data={"applied": row.applied_count - before},
        )
    return row.applied_count - before


# --- Flagged marks (R2.11) -------------------------------------------------------------------


def _may_flag(user: Any, student: Student) -> bool:
    return student.user_id == user.pk or _may_report_for(user, student)


@transaction.atomic
def flag_mark(*, acting_user: User, mark: Mark, comment: str) -> MarkFlag:
    """A student (their own mark) or their parent says a mark looks wrong; the journal's teacher answers (R2.11)."""
    mark = Mark.objects.select_related("value", "student", "lesson__assignment").get(pk=mark.pk)
    if not _may_flag(acting_user, mark.student):
        raise PermissionDeniedError(_("Only the student or their parent may flag this mark."))
    if mark.value is None:
        raise DomainError(_("This mark was cleared; there is nothing to flag."), code="no_mark")
    comment = clean_text(
        comment, field="comment", limit=500, required=True, message=_("Say what you think is wrong with the mark.")
    )
    if MarkFlag.objects.filter(mark=mark, status=FlagStatus.OPEN).exists():
        raise DomainError(_("This mark is already flagged and waits for the teacher."), code="already_flagged")
    try:
        with transaction.atomic():
            flag = MarkFlag.objects.create(
                school_id=mark.school_id,
                mark=mark,
                assignment_id=mark.lesson.assignment_id,
                student=mark.student,
                flagged_by=acting_user,
                comment=comment,
                value_when_flagged=mark.value.code,
            )
    except IntegrityError:
        raise DomainError(
            _("This mark is already flagged and waits for the teacher."), code="already_flagged"
        ) from None
    log_action(
        "appeals.mark_flag.submitted",
        actor=acting_user,
        school=mark.lesson.assignment.school,
        obj=flag,
        data={"mark": mark.pk, "value": flag.value_when_flagged},
    )
    _after_commit(mark_flag_submitted, MarkFlag, flag)
    return flag


@transaction.atomic
def answer_mark_flag(*, acting_user: User, flag: MarkFlag, correct: bool, answer: str, text: str = "") -> MarkFlag:
    """The teacher of the journal answers a flag: the mark is confirmed as it is, or corrected to
    ``text`` through ``journal.services.record_mark`` (audited, with the flag as the reason) (R2.11)."""
    row = (
        MarkFlag.objects.select_for_update(of=("self",))
        .select_related("mark__lesson__assignment__school", "mark__lesson__school", "mark__value", "mark__work_type")
        .get(pk=flag.pk)
    )
    lesson = row.mark.lesson
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this journal answers a flagged mark."))
    if row.status != FlagStatus.OPEN:
        raise DomainError(_("This flag has already been answered."), code="already_answered")
    answer = clean_text(
        answer, field="answer", limit=500, required=True, message=_("Write an answer; the student and parents read it.")
    )
    current = row.mark.value.code if row.mark.value else ""
    if correct:
        text = (text or "").strip()
        if not text:
            raise DomainError(_("Enter the corrected mark."), code="required", field="text")
        mark = journal_services.record_mark(
            acting_user=acting_user,
            lesson=lesson,
            student=row.mark.student,
            text=text,
            expected_version=row.mark.version,
            work_type=row.mark.work_type,
            slot=row.mark.slot,
            reason=str(_("Flagged mark No %(id)s: %(answer)s") % {"id": row.pk, "answer": answer})[:500],
        )
        new = mark.value.code if mark.value else ""
        if new == current:
            raise DomainError(_("That is the same mark; answer “confirmed” instead."), code="same_mark", field="text")
        row.status = FlagStatus.CORRECTED
        row.new_value = new
    else:
        row.status = FlagStatus.CONFIRMED
        row.new_value = current
    row.answer = answer
    row.answered_by = acting_user
    row.answered_at = timezone.now()
    row.save(update_fields=["status", "new_value", "answer", "answered_by", "answered_at"])
    log_action(
        f"appeals.mark_flag.{row.status}",
        actor=acting_user,
        school=lesson.school,
        obj=row,
        data={"old": current, "new": row.new_value, "answer": answer},
    )
    _after_commit(mark_flag_answered, MarkFlag, row)
    return row
