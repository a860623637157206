"""Calendar-thematic plans (КТП, R3.1, R3.3) and their binding to the journal's lessons.

A ``Plan`` belongs to one teaching assignment (the teacher's plan for a subject in a class), or is a
copy published to the school's shared base (``is_shared``, no assignment) for a subject and year
level. Its ``PlanTopic`` rows are ordered; a topic of N hours covers the next N lessons.

A ``LessonBinding`` records which plan topic a lesson got and the topic it *suggested*: the suggestion
is written into the lesson (pre-filled) but is not part of the journal's record until the teacher
confirms it, which writes a ``JournalChange`` (R2.7). Rebinding rewrites only lessons whose topic is
still the unconfirmed suggestion.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned
from classbook.journal.models import LessonType

MAX_TOPIC_HOURS = 100
MAX_TOPICS = 400
TOPIC_MAX_LENGTH = 500  # the journal's Lesson.topic
SECTION_MAX_LENGTH = 300
HOMEWORK_MAX_LENGTH = 1000


def default_deadline(year_start: dt.date) -> dt.date:
    """Plans are due by 10 September of the year the academic year starts in (004 §4.5.2)."""
    return dt.date(year_start.year, 9, 10)


class PlanningDeadline(SchoolOwned):
    """The school's deadline for plans in one academic year (default 10 September)."""

    year = models.ForeignKey("schools.AcademicYear", verbose_name=_("academic year"), on_delete=models.CASCADE)
    deadline = models.DateField(_("plans due by"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(auto_now=True)

    @classmethod
    def date_for(cls, school_id: int, year: Any) -> dt.date:
        """The school's deadline for plans of ``year``: set by the administration, or 10 September."""
        found = cls.objects.filter(school_id=school_id, year=year).values_list("deadline", flat=True).first()
        return found or default_deadline(year.start)

    class Meta:
        verbose_name = _("planning deadline")
        verbose_name_plural = _("planning deadlines")
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="planningdeadline_one_per_year")]


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")


class Plan(SchoolOwned):
    """A calendar-thematic plan: of a teaching assignment, or a copy in the school's shared base."""

    assignment = models.OneToOneField(
        "schools.TeachingAssignment",
        verbose_name=_("teaching assignment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan",
    )
    subject = models.ForeignKey(
        "schools.Subject", verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+"
    )
    year_level = models.ForeignKey(
        "schools.YearLevel", verbose_name=_("year level"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.ForeignKey(
        "schools.AcademicYear", verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="+"
    )
    is_shared = models.BooleanField(_("in the shared base"), default=False)
    title = models.CharField(_("title"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    return_note = models.CharField(_("note on return"), max_length=500, blank=True)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("copied from")
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)  # shared copies taken out of the base
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar-thematic plan")
        verbose_name_plural = _("calendar-thematic plans")
        indexes = [models.Index(fields=["school", "subject", "year_level"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_shared=True, assignment__isnull=True) | Q(is_shared=False, assignment__isnull=False),
                name="plan_shared_xor_assignment",
            )
        ]

    def __str__(self) -> str:
        return self.title or str(self.assignment or self.subject)


class PlanTopic(SchoolOwned):
    """One topic of a plan, in order, with its hours, lesson type and an optional homework hint."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="topics")
    position = models.PositiveSmallIntegerField(_("order"))
    section = models.CharField(_("section"), max_length=SECTION_MAX_LENGTH, blank=True)
    title = models.CharField(_("topic"), max_length=TOPIC_MAX_LENGTH)
    hours = models.PositiveSmallIntegerField(
        _("hours"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_TOPIC_HOURS)]
    )
    lesson_type = models.CharField(
        _("lesson type"), max_length=12, choices=LessonType.choices, default=LessonType.REGULAR
    )
    homework = models.CharField(_("homework hint"), max_length=HOMEWORK_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("plan topic")
        verbose_name_plural = _("plan topics")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position", "school"], name="plantopic_unique_position"),
            models.CheckConstraint(condition=Q(hours__gte=1), name="plantopic_hours_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class LessonBinding(SchoolOwned):
    """Which plan topic a lesson got, and the topic and type the plan suggested for it.

    Not journal data: the timetable may still cancel or delete a lesson that has only a binding
    (``timetable.services.lessons_with_data``); the binding goes with the lesson.
    """

    is_journal_data = False

    lesson = models.OneToOneField("journal.Lesson", on_delete=models.CASCADE, related_name="plan_binding")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="bindings")
    topic = models.ForeignKey(PlanTopic, null=True, blank=True, on_delete=models.SET_NULL, related_name="bindings")
    suggested_topic = models.CharField(max_length=TOPIC_MAX_LENGTH, blank=True)
    suggested_type = models.CharField(max_length=12, choices=LessonType.choices, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("lesson binding")
        verbose_name_plural = _("lesson bindings")
        indexes = [models.Index(fields=["plan", "topic"])]
