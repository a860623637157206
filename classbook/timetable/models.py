"""Bells, the weekly timetable, the link from generated lessons to their timetable entry, and lesson changes.

Words: a *bell* is a lesson number with its start and end time; a *timetable entry* is a weekly slot
(teaching assignment × weekday × lesson number × room × week parity, valid for a span of days);
a *lesson change* is a substitution, cancellation, merge or move recorded by the deputy (R4.2).

Week parity (numerator/denominator): weeks are Monday-Sunday calendar weeks counted from the week that
contains the first day of the academic year, which is week 1. Odd weeks (1, 3, 5, ...) are *numerator*
weeks, even weeks are *denominator* weeks. See ``week_number``.

Shifts: each shift has its own bell schedule (``BellSchedule.classes``). Clash detection compares lesson
*numbers*, so a school whose teachers work in both shifts numbers the second shift's bells on from the
first's (for example 8-14), which keeps "same number = same time" true across the school.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned

MAX_LESSON_NUMBER = 15


class BellSchedule(SchoolOwned):
    """The bells of one shift. A class without a schedule of its own uses the school's default one."""

    name = models.CharField(_("name"), max_length=60)
    is_default = models.BooleanField(_("default schedule"), default=False)
    classes = models.ManyToManyField(
        "schools.SchoolClass",
        verbose_name=_("classes on this schedule"),
        blank=True,
        related_name="bell_schedules",
        help_text=_("For example the classes of the second shift."),
    )

    class Meta:
        verbose_name = _("bell schedule")
        verbose_name_plural = _("bell schedules")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="bellschedule_unique_name"),
            models.UniqueConstraint(fields=["school"], condition=Q(is_default=True), name="bellschedule_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class Bell(SchoolOwned):
    """A lesson number and its time in a bell schedule."""

    schedule = models.ForeignKey(BellSchedule, on_delete=models.CASCADE, related_name="bells")
    number = models.PositiveSmallIntegerField(_("lesson number"), validators=[MaxValueValidator(MAX_LESSON_NUMBER)])
    start = models.TimeField(_("starts"))
    end = models.TimeField(_("ends"))

    class Meta:
        verbose_name = _("bell")
        verbose_name_plural = _("bells")
        ordering = ["schedule", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number", "school"], name="bell_unique_number"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bell_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.start:%H:%M}-{self.end:%H:%M}"


class Parity(models.TextChoices):
    EVERY = "every", _("Every week")
    ODD = "odd", _("Numerator (odd weeks)")
    EVEN = "even", _("Denominator (even weeks)")


class Weekday(models.IntegerChoices):
    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")


def week_number(year_start: dt.date, day: dt.date) -> int:
    """The week of the academic year ``day`` falls in: the Monday-Sunday week containing ``year_start`` is 1."""
    first_monday = year_start - dt.timedelta(days=year_start.weekday())
    return (day - first_monday).days // 7 + 1


def parity_of(year_start: dt.date, day: dt.date) -> str:
    """Numerator (odd) or denominator (even) week (see the module docstring)."""
    return Parity.ODD if week_number(year_start, day) % 2 else Parity.EVEN


def parity_matches(entry_parity: str, week_parity: str) -> bool:
    return entry_parity == Parity.EVERY or entry_parity == week_parity


NON_WORKING_KINDS = ("holiday", "vacation", "day_off")  # schools.DayKind values that have no lessons


def non_working_days(school_id: int, start: dt.date, end: dt.date) -> set[dt.date]:
    """Holidays, vacations and days off of the school between ``start`` and ``end`` — one query."""
    from classbook.schools.models import SpecialDay

    result: set[dt.date] = set()
    rows = SpecialDay.objects.filter(school_id=school_id, kind__in=NON_WORKING_KINDS, start__lte=end, end__gte=start)
    for first, last in rows.values_list("start", "end"):
        day = max(first, start)
        while day <= min(last, end):
            result.add(day)
            day += dt.timedelta(days=1)
    return result


WORKING_KIND = "working"  # schools.DayKind.WORKING: an extra working day


def extra_working_days(school_id: int, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Extra working days between ``start`` and ``end`` and the weekday (1-7) whose timetable each follows — one
    query. A working day that names no weekday follows its own. An extra working day wins over a day off that
    covers it (a vacation with one worked day inside)."""
    from classbook.schools.models import SpecialDay

    result: dict[dt.date, int] = {}
    rows = SpecialDay.objects.filter(school_id=school_id, kind=WORKING_KIND, start__lte=end, end__gte=start)
    for first, last, as_weekday in rows.values_list("start", "end", "as_weekday"):
        day = max(first, start)
        while day <= min(last, end):
            result[day] = as_weekday or day.isoweekday()
            day += dt.timedelta(days=1)
    return result


class TimetableEntry(SchoolOwned):
    """A weekly slot of a teaching assignment (class or subgroup), valid from one day to another (R4.1).

    A change of the timetable from a date ends the old entry the day before and starts a new one,
    so lessons already given keep pointing at the entry that produced them.
    """

    year = models.ForeignKey(
        "schools.AcademicYear", verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="+"
    )
    assignment = models.ForeignKey(
        "schools.TeachingAssignment",
        verbose_name=_("teaching assignment"),
        on_delete=models.PROTECT,
        related_name="timetable_entries",
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    number = models.PositiveSmallIntegerField(_("lesson number"), validators=[MaxValueValidator(MAX_LESSON_NUMBER)])
    room = models.ForeignKey(
        "schools.Room", verbose_name=_("room"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    parity = models.CharField(_("weeks"), max_length=5, choices=Parity.choices, default=Parity.EVERY)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    # An entry replaced or removed as a whole while some of its lessons already had data: it stays
    # (those lessons keep their link) but no longer produces lessons nor takes part in clash checks.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("timetable entry")
        verbose_name_plural = _("timetable entries")
        ordering = ["weekday", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="entry_valid_span"),
            models.CheckConstraint(condition=Q(weekday__gte=1, weekday__lte=6), name="entry_weekday_range"),
        ]
        indexes = [
            models.Index(fields=["school", "weekday", "number"]),
            models.Index(fields=["assignment", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.number}: {self.assignment}"


class GeneratedLesson(SchoolOwned):
    """The link from a journal lesson to the timetable entry and day (slot) that produced it.

    ``date`` is the slot's day; it stays when the lesson is moved, so generation stays idempotent.
    """

    lesson = models.OneToOneField("journal.Lesson", on_delete=models.CASCADE, related_name="generated_from")
    entry = models.ForeignKey(TimetableEntry, on_delete=models.PROTECT, related_name="generated")
    date = models.DateField(_("date"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "date"], name="generated_unique_slot")]
        indexes = [models.Index(fields=["school", "date"])]


class GenerationRun(SchoolOwned):
    """A range of days lessons were generated for; a timetable change regenerates up to the last one."""

    year = models.ForeignKey("schools.AcademicYear", on_delete=models.PROTECT, related_name="+")
    start = models.DateField()
    end = models.DateField()
    created = models.PositiveIntegerField(default=0)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    run_at = models.DateTimeField(auto_now_add=True)


class ChangeKind(models.TextChoices):
    SUBSTITUTED = "substituted", _("Substituted")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged with another class")
    MOVED = "moved", _("Moved")


# Kinds in which the timetabled teacher did not give the lesson (the journal of missed lessons, R4.2).
MISSED_KINDS = (ChangeKind.SUBSTITUTED, ChangeKind.CANCELLED, ChangeKind.MERGED)


class LessonChange(SchoolOwned):
    """A recorded deviation from the timetable for one lesson (R4.2, R2.9): one per lesson."""

    lesson = models.OneToOneField("journal.Lesson", on_delete=models.PROTECT, related_name="timetable_change")
    kind = models.CharField(_("change"), max_length=12, choices=ChangeKind.choices)
    date = models.DateField(_("date"), help_text="The lesson's day as timetabled (for the monthly journal)")
    number = models.PositiveSmallIntegerField(_("lesson number"), null=True, blank=True)
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("teacher"), on_delete=models.PROTECT, related_name="+"
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("substitute"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    merged_with = models.ForeignKey(
        "journal.Lesson",
        verbose_name=_("merged with"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_date = models.DateField(_("new date"), null=True, blank=True)
    new_number = models.PositiveSmallIntegerField(
        _("new lesson number"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lesson change")
        verbose_name_plural = _("lesson changes")
        ordering = ["date", "number"]
        indexes = [
            models.Index(fields=["school", "date"]),
            models.Index(fields=["teacher", "date"]),
            models.Index(fields=["substitute", "date"]),
        ]


def hash_feed_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A user's private iCalendar feed. Only the token's hash is stored; a new token retires the old URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)
