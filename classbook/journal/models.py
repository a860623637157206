"""The class journal: lessons, marks, attendance, period grades, corrections, remarks and the audit trail.

The lesson is the hub (STYLE.md): topic, homework, attendance and marks hang off a dated lesson of a
teaching assignment. Every change to a mark, attendance, topic or homework writes a ``JournalChange``
(append-only) with who, when, the old and the new value and the reason (R2.7, legal record).

Lost updates are prevented with a ``version`` on every editable row: a writer sends the version it
saw; the service locks the row and refuses with a conflict when the version moved on.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned

if TYPE_CHECKING:
    from classbook.journal.rules import GradeFeedback


class AccumulationPolicy(models.TextChoices):
    """What the journal does with a period grade while a student has fewer marks than required (R2.6)."""

    OFF = "off", _("Not checked")
    WARN = "warn", _("Warn, save the grade")
    REFUSE = "refuse", _("Refuse the grade (“н/а” and “exempt” are still accepted)")


class AnnualGradeRule(models.TextChoices):
    """What the annual grade is checked against (``rules.annual_expectation``)."""

    MEAN = "mean", _("Mean of the period grades, rounded half up")
    OFF = "off", _("Not checked")


class JournalPolicy(SchoolOwned):
    """The journal rules of one school, all configurable (R2.2, R2.6, R2.7); one row per school.

    The daily entry deadline stays on ``School.entry_deadline``. A school without a row uses the
    defaults below (``classbook.journal.rules.policy_for`` creates the row on demand).
    """

    correction_window_days = models.PositiveSmallIntegerField(
        _("days to correct a semester grade"),
        default=3,
        validators=[MaxValueValidator(60)],
        help_text=_("A corrected semester grade may be given this many days after the semester grade at most."),
    )
    min_marks_one_hour = models.PositiveSmallIntegerField(
        _("marks needed per period at 1 lesson a week"), default=3, validators=[MaxValueValidator(50)]
    )
    min_marks_more_hours = models.PositiveSmallIntegerField(
        _("marks needed per period at 2 or more lessons a week"), default=5, validators=[MaxValueValidator(50)]
    )
    # Warn by default: the rule comes from Russian-style regulations (002, 004 §4.5.2); Ukrainian ones do
    # not set it, and refusing would block semester grades a school has always been free to give.
    accumulation_policy = models.CharField(
        _("too few marks for a period grade"),
        max_length=8,
        choices=AccumulationPolicy.choices,
        default=AccumulationPolicy.WARN,
        help_text=_("What happens when a period grade is given to a student with fewer marks than required."),
    )
    annual_grade_rule = models.CharField(
        _("check of the annual grade"),
        max_length=8,
        choices=AnnualGradeRule.choices,
        default=AnnualGradeRule.MEAN,
        help_text=_(
            "The annual grade is compared with the mean of the semester (quarter) grades, a corrected grade "
            "replacing the original; a different grade is saved with a warning."
        ),
    )
    director_corrects = models.BooleanField(_("the director may correct period grades"), default=True)
    deputy_corrects = models.BooleanField(_("deputies may correct period grades"), default=True)
    admin_corrects = models.BooleanField(_("administrators may correct period grades"), default=False)
    weighted_averages = models.BooleanField(_("averages use the weights of work types"), default=True)
    allow_future_marks = models.BooleanField(_("marks and attendance for future lessons allowed"), default=False)

    class Meta:
        verbose_name = _("journal rules")
        verbose_name_plural = _("journal rules")
        constraints = [models.UniqueConstraint(fields=["school"], name="journalpolicy_one_per_school")]

    def __str__(self) -> str:
        return str(self.school)

    def correction_roles(self) -> frozenset[str]:
        roles = {"director": self.director_corrects, "deputy": self.deputy_corrects, "admin": self.admin_corrects}
        return frozenset(role for role, allowed in roles.items() if allowed)


class WorkType(SchoolOwned):
    """A kind of work a mark is for (current, independent, control, laboratory, ...), configurable per school."""

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=80)
    short_name = models.CharField(_("short name"), max_length=12, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=4, decimal_places=2, default=1)
    allows_several = models.BooleanField(_("several marks per lesson allowed"), default=False)
    is_control = models.BooleanField(_("control work"), default=False)
    ordinal = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("work type")
        verbose_name_plural = _("work types")
        ordering = ["ordinal", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="worktype_unique_code")]

    def __str__(self) -> str:
        return self.name


class AbsenceReasonKind(models.TextChoices):
    """What kind of reason the class teacher recorded for an absence, or an attendance code means (R2.8)."""

    ILLNESS = "illness", _("Illness")
    MEDICAL = "medical", _("Medical appointment")
    FAMILY = "family", _("Family circumstances")
    SCHOOL_EVENT = "school_event", _("Competition, olympiad or school event")
    OTHER = "other", _("Other")


class AttendanceCode(SchoolOwned):
    """An attendance mark per school with its meaning (Ukraine: "н"; Russian-style: н, б, у, о)."""

    code = models.CharField(_("code"), max_length=4)
    name = models.CharField(_("name"), max_length=60)
    counts_as_absent = models.BooleanField(_("counts as a missed lesson"), default=True)
    is_excused = models.BooleanField(_("excused"), default=False)
    is_late = models.BooleanField(_("late"), default=False)
    # The kind of reason the code itself says (Russian-style "б" = ill): a missed lesson with this code counts
    # as of this kind unless the class teacher records a kind on it (``absences.ILLNESS``).
    reason_kind = models.CharField(
        _("kind of reason"),
        max_length=14,
        choices=AbsenceReasonKind.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("Missed lessons with this code count as of this kind unless the class teacher records another."),
    )
    ordinal = models.PositiveSmallIntegerField(_("order"), default=0)
    # A retired code stays on the records that have it and in their history, but is not entered any more.
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("attendance code")
        verbose_name_plural = _("attendance codes")
        ordering = ["ordinal"]
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="attendancecode_unique_code")]

    def __str__(self) -> str:
        return self.code


class LessonType(models.TextChoices):
    REGULAR = "regular", pgettext_lazy("lesson type", "Lesson")
    NEW_MATERIAL = "new", _("New material")
    COMBINED = "combined", _("Combined lesson")
    PRACTICE = "practice", _("Practical work")
    LABORATORY = "laboratory", _("Laboratory work")
    CONTROL = "control", _("Control work")
    REVISION = "revision", _("Revision")
    EXCURSION = "excursion", _("Excursion")


class Lesson(SchoolOwned):
    """A dated lesson of a teaching assignment: the hub of the journal (R2.1)."""

    assignment = models.ForeignKey(
        "schools.TeachingAssignment",
        verbose_name=_("teaching assignment"),
        on_delete=models.PROTECT,
        related_name="lessons",
    )
    date = models.DateField(_("date"))
    number = models.PositiveSmallIntegerField(_("lesson number"), null=True, blank=True)
    topic = models.CharField(_("topic"), max_length=500, blank=True)
    lesson_type = models.CharField(
        _("lesson type"), max_length=12, choices=LessonType.choices, default=LessonType.REGULAR
    )
    homework = models.TextField(_("homework"), blank=True, max_length=4000)
    homework_due = models.DateField(_("homework due"), null=True, blank=True)
    conducted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("conducted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Set when a substitute teacher gave the lesson"),
    )
    register_taken_at = models.DateTimeField(_("register taken at"), null=True, blank=True)
    register_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["date", "number", "id"]
        indexes = [models.Index(fields=["assignment", "date"]), models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.date:%d.%m} {self.topic}".strip()


class Mark(SchoolOwned):
    """A mark of a student for a lesson on the assignment's scale (R2.5).

    One mark per (lesson, student, work type) unless the work type allows several (then ``slot`` 1, 2, ...).
    """

    lesson = models.ForeignKey(Lesson, on_delete=models.PROTECT, related_name="marks")
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="marks")
    work_type = models.ForeignKey(WorkType, on_delete=models.PROTECT, related_name="+")
    slot = models.PositiveSmallIntegerField(default=0)
    # Null = the mark was cleared. The row stays so its version keeps counting (no lost update
    # when a stale writer comes back after a clear) and the history stays attached.
    value = models.ForeignKey("schools.ScaleValue", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    is_late = models.BooleanField(_("entered after the deadline"), default=False)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("mark")
        verbose_name_plural = _("marks")
        constraints = [
            models.UniqueConstraint(fields=["lesson", "student", "work_type", "slot"], name="mark_unique_cell"),
        ]
        indexes = [models.Index(fields=["student", "lesson"]), models.Index(fields=["school", "updated_at"])]


class Attendance(SchoolOwned):
    """An absence or lateness of a student at a lesson. No row + register taken = present (R2.8)."""

    lesson = models.ForeignKey(Lesson, on_delete=models.PROTECT, related_name="attendance")
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="attendance")
    # Null = the absence was cleared (the student was present after all); the row keeps its version.
    code = models.ForeignKey(AttendanceCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Database defaults too: bulk writers that insert with their own column list (the demo) leave them out.
    reason_kind = models.CharField(
        _("kind of reason"), max_length=14, choices=AbsenceReasonKind.choices, blank=True, default="", db_default=""
    )
    # A valid (excused) reason given by the class teacher, whatever the code the subject teacher typed.
    reason_excused = models.BooleanField(_("excused"), default=False, db_default=False)
    reason_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_late = models.BooleanField(_("entered after the deadline"), default=False)
    version = models.PositiveIntegerField(default=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [models.UniqueConstraint(fields=["lesson", "student"], name="attendance_unique_cell")]
        indexes = [models.Index(fields=["student", "lesson"])]


class GradeKind(models.TextChoices):
    THEMATIC = "thematic", _("Thematic")
    PERIOD = "period", pgettext_lazy("grade kind", "Period")
    CORRECTED = "corrected", _("Corrected")
    ANNUAL = "annual", _("Annual")
    EXAM = "exam", _("Exam / state attestation")


class PeriodGrade(SchoolOwned):
    """A thematic, period (semester/quarter), corrected, annual or exam grade (R2.5).

    Locked once set (R2.7): a later change needs a recorded ``GradeCorrection``.
    """

    assignment = models.ForeignKey("schools.TeachingAssignment", on_delete=models.PROTECT, related_name="period_grades")
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="period_grades")
    period = models.ForeignKey("schools.StudyPeriod", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=GradeKind.choices)
    ordinal = models.PositiveSmallIntegerField(default=0, help_text="Thematic grades: the theme's number in the period")
    title = models.CharField(_("title"), max_length=120, blank=True)
    value = models.ForeignKey("schools.ScaleValue", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now_add=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    # Not stored: what ``services.record_period_grade`` tells its caller about the grade it saved (the
    # warnings of the school's rules and an annual grade's basis), built by ``rules.grade_feedback``.
    feedback: GradeFeedback | None = None

    class Meta:
        verbose_name = _("period grade")
        verbose_name_plural = _("period grades")
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "period", "kind", "ordinal"], name="periodgrade_unique_cell"
            ),
        ]
        indexes = [models.Index(fields=["assignment", "period"])]


class GradeCorrection(SchoolOwned):
    """An authorised, recorded change of a locked period grade (R2.7), e.g. by order of a commission."""

    grade = models.ForeignKey(PeriodGrade, on_delete=models.PROTECT, related_name="corrections")
    old_value = models.ForeignKey("schools.ScaleValue", on_delete=models.PROTECT, related_name="+")
    new_value = models.ForeignKey("schools.ScaleValue", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    order_ref = models.CharField(_("order or commission decision"), max_length=120, blank=True)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("grade correction")
        verbose_name_plural = _("grade corrections")
        ordering = ["corrected_at", "id"]


class ChangeKind(models.TextChoices):
    MARK = "mark", _("Mark")
    ATTENDANCE = "attendance", _("Attendance")
    TOPIC = "topic", _("Topic")
    HOMEWORK = "homework", _("Homework")
    LESSON = "lesson", _("Lesson")
    PERIOD_GRADE = "period_grade", _("Period grade")
    CORRECTION = "correction", _("Grade correction")
    ABSENCE_REASON = "reason", _("Reason of absence")
    REGISTER = "register", _("Register taken")


class JournalChange(SchoolOwned):
    """The journal's audit trail: append-only; who, when, old value, new value, reason (legal record)."""

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=14, choices=ChangeKind.choices)
    assignment = models.ForeignKey("schools.TeachingAssignment", on_delete=models.PROTECT, related_name="+")
    lesson = models.ForeignKey(Lesson, null=True, blank=True, on_delete=models.PROTECT, related_name="changes")
    student = models.ForeignKey("people.Student", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField(null=True, blank=True)
    old_value = models.CharField(max_length=4000, blank=True)
    new_value = models.CharField(max_length=4000, blank=True)
    # Period grades and their corrections have no lesson: the period says which cell changed.
    period = models.ForeignKey("schools.StudyPeriod", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    is_late = models.BooleanField(default=False)
    # An entry made offline (issue 17): the time the teacher's device says it was made; ``at`` is when the
    # server wrote it. NULL for everything written online.
    device_at = models.DateTimeField(null=True, blank=True)
    # The transactional outbox of the change's notifications (issue 10, ``journal/outbox.py``): written NULL
    # with the row, in the change's own transaction; set once the notification worker has taken the change.
    # Bookkeeping of the delivery, not part of the record: the only column ever updated.
    announced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(announced_at__isnull=True), name="journalchange_unannounced"),
            models.Index(fields=["assignment", "-at"]),
            models.Index(fields=["lesson", "student"]),
            models.Index(fields=["school", "-at"]),
            models.Index(fields=["school", "-at"], condition=Q(is_late=True), name="journalchange_late"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Journal changes are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Journal changes are append-only")


class Remark(SchoolOwned):
    """A control remark by a deputy or director on a journal or a cell (R6.10); the teacher marks it fixed."""

    assignment = models.ForeignKey("schools.TeachingAssignment", on_delete=models.PROTECT, related_name="remarks")
    lesson = models.ForeignKey(Lesson, null=True, blank=True, on_delete=models.PROTECT, related_name="remarks")
    student = models.ForeignKey("people.Student", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("remark"), max_length=1000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fixed_note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("control remark")
        verbose_name_plural = _("control remarks")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["assignment", "fixed_at"]), models.Index(fields=["school", "-created_at"])]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="remark_has_text")]


def attachment_path(instance: HomeworkAttachment, filename: str) -> str:
    # Stored under a random name: the original name is kept in the row, never trusted as a path.
    return f"homework/{instance.school_id}/{instance.lesson_id}/{uuid.uuid4().hex}"


class HomeworkAttachment(SchoolOwned):
    """A file attached to a lesson's homework (R2.3, R5.7). Removal is recorded, the file is kept."""

    lesson = models.ForeignKey(Lesson, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=200)
    # Verified from the file's bytes at upload (classbook.core.uploads), never the uploader's content type.
    mime_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("homework file")
        verbose_name_plural = _("homework files")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["lesson", "removed_at"])]
