"""The tenant (School) and its calendar and structure.

Words (see docs/glossary.md): a *period* is a study period (semester, quarter),
a *bell slot* is a lesson number in the day; a *class* is ``SchoolClass`` (a
homeroom class or a college group); a *year level* is the grade (1-12);
a *mark* is a value on a marking scale.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned

if TYPE_CHECKING:
    from collections.abc import Iterable

slug_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,48}$", _("Use 2-49 lowercase latin letters, digits and hyphens.")
)


class Country(models.TextChoices):
    UKRAINE = "UA", _("Ukraine")
    RUSSIAN_STYLE = "RU", _("Russian-style school")
    OTHER = "XX", _("Other")


class HolidayRule(models.TextChoices):
    """Public holidays in the school calendar (see ``classbook.schools.holidays``; empty = the country's rule)."""

    COUNTRY = "", _("The country's rule")
    TRANSFER = "transfer", _("Days off; a weekend holiday moves to the next working day")
    NO_TRANSFER = "no_transfer", _("Days off on their own dates, never moved (Ukraine under martial law)")
    WORKING = "working", _("Working days (no public holidays in the calendar)")


class SchoolKind(models.TextChoices):
    SCHOOL = "school", _("School")
    LYCEUM = "lyceum", _("Lyceum")
    GYMNASIUM = "gymnasium", _("Gymnasium")
    COLLEGE = "college", _("College")


class School(models.Model):
    """The tenant: one deployment serves many schools of a city or region."""

    slug = models.SlugField(_("address name"), max_length=49, unique=True, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=SchoolKind.choices, default=SchoolKind.SCHOOL)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default=Country.UKRAINE)
    holiday_rule = models.CharField(
        _("public holidays"),
        max_length=16,
        choices=HolidayRule.choices,
        default=HolidayRule.COUNTRY,
        blank=True,
        help_text=_(
            "How the next year's opening puts public holidays into the calendar. The country's rule: Ukraine "
            "under martial law does not move a weekend holiday; Russian-style schools move it to the next "
            "working day."
        ),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    director_name = models.CharField(_("director's name"), max_length=255, blank=True)
    language = models.CharField(_("default language"), max_length=5, choices=settings.LANGUAGES, default="uk")
    default_scale = models.ForeignKey(
        "MarkingScale",
        verbose_name=_("default marking scale"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entry_deadline = models.TimeField(_("daily journal entry deadline"), default=dt.time(16, 0))
    require_staff_2fa = models.BooleanField(_("require two-factor authentication for staff"), default=False)
    staff_idle_minutes = models.PositiveSmallIntegerField(
        _("staff session idle timeout, minutes"), default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    remember_device_days = models.PositiveSmallIntegerField(
        _("days a remembered family device stays logged in"),
        default=90,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "Students and parents may tick “Remember this device” when they log in: the session then "
            "lasts this many days after their last visit. 0 turns it off. Staff are never remembered."
        ),
    )
    offline_window_hours = models.PositiveSmallIntegerField(
        _("offline journal window, hours"),
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_(
            "How long a teacher's journal entries made without a connection may wait on the device: older "
            "entries are refused when they are sent, and the device forgets the journals kept offline."
        ),
    )
    average_decimals = models.PositiveSmallIntegerField(
        _("decimals of averages"),
        default=1,
        validators=[MaxValueValidator(2)],
        help_text=_(
            "Every average mark (journal, diary, letters, API, reports) is rounded half-up to this many decimals."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(average_decimals__lte=2), name="school_average_decimals_0_to_2")
        ]

    def __str__(self) -> str:
        return self.short_name or self.name


class EducationAuthority(models.Model):
    """An education authority (city or region department) that views several schools read-only (R1.1)."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    schools = models.ManyToManyField(School, verbose_name=_("schools"), related_name="authorities", blank=True)

    class Meta:
        verbose_name = _("education authority")
        verbose_name_plural = _("education authorities")

    def __str__(self) -> str:
        return self.name


class AcademicYear(SchoolOwned):
    name = models.CharField(_("name"), max_length=20, help_text=_("For example 2026/2027"))
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    is_current = models.BooleanField(_("current year"), default=False)

    class Meta:
        verbose_name = _("academic year")
        verbose_name_plural = _("academic years")
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="year_unique_name"),
            models.UniqueConstraint(fields=["school"], condition=Q(is_current=True), name="year_one_current"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="year_end_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("The last day must be after the first day.")})
        if self.start and self.end and (self.end - self.start).days > 400:
            raise ValidationError({"end": _("An academic year cannot be longer than 400 days.")})


class PeriodKind(models.TextChoices):
    YEAR = "year", pgettext_lazy("study period", "Year")
    HALF = "half", pgettext_lazy("study period", "Half-year")
    SEMESTER = "semester", pgettext_lazy("study period", "Semester")
    TRIMESTER = "trimester", pgettext_lazy("study period", "Trimester")
    QUARTER = "quarter", pgettext_lazy("study period", "Quarter")
    MODULE = "module", pgettext_lazy("study period", "Module")


class StudyPeriod(SchoolOwned):
    """A study period (semester, quarter, ...); periods nest (quarters inside half-years inside the year)."""

    year = models.ForeignKey(
        AcademicYear, verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="periods"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("inside period"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=PeriodKind.choices)
    name = models.CharField(_("name"), max_length=60)
    ordinal = models.PositiveSmallIntegerField(_("order"), default=1)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))

    class Meta:
        verbose_name = pgettext_lazy("study period", "study period")
        verbose_name_plural = pgettext_lazy("study period", "study periods")
        ordering = ["year", "start", "-end"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "kind", "ordinal"], name="period_unique_ordinal"),
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="period_end_not_before_start"),
        ]
        indexes = [models.Index(fields=["school", "start", "end"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if self.start and self.end and self.end < self.start:
            errors["end"] = _("The last day must not be before the first day.")
        year = getattr(self, "year", None) if self.year_id else None
        if year and self.start and self.end and (self.start < year.start or self.end > year.end):
            errors["start"] = _("The period must lie inside its academic year (%(start)s - %(end)s).") % {
                "start": year.start,
                "end": year.end,
            }
        parent = self.parent if self.parent_id else None
        if parent and self.start and self.end:
            if parent.year_id != self.year_id:
                errors["parent"] = _("The enclosing period belongs to another academic year.")
            elif self.start < parent.start or self.end > parent.end:
                errors["parent"] = _("The period must lie inside the period that encloses it.")
        if errors:
            raise ValidationError(errors)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday")
    VACATION = "vacation", _("Vacation")
    DAY_OFF = "day_off", _("Day off")
    SHORTENED = "shortened", _("Shortened day")
    WORKING = "working", _("Extra working day")


class TimetableDay(models.IntegerChoices):
    """The weekday whose timetable an extra working day follows (ISO numbers, as timetable entries use)."""

    MONDAY = 1, _("Monday")
    TUESDAY = 2, _("Tuesday")
    WEDNESDAY = 3, _("Wednesday")
    THURSDAY = 4, _("Thursday")
    FRIDAY = 5, _("Friday")
    SATURDAY = 6, _("Saturday")


class SpecialDay(SchoolOwned):
    """A holiday, vacation or other special day range; lesson generation skips the non-working ones.

    An extra working day (kind "working", for example a Saturday worked instead of a Monday) may name the
    weekday whose timetable it follows (``as_weekday``); lesson generation then takes that weekday's lessons.
    """

    year = models.ForeignKey(
        AcademicYear, verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="special_days"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices, default=DayKind.HOLIDAY)
    name = models.CharField(_("name"), max_length=120)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    as_weekday = models.PositiveSmallIntegerField(
        _("works to the timetable of"),
        choices=TimetableDay.choices,
        null=True,
        blank=True,
        help_text=_("Only for an extra working day: for example Monday for a Saturday worked instead of a Monday."),
    )

    class Meta:
        verbose_name = _("holiday or special day")
        verbose_name_plural = _("holidays and special days")
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="specialday_end_not_before_start")]
        indexes = [models.Index(fields=["school", "start"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_day_off(self) -> bool:
        return self.kind in {DayKind.HOLIDAY, DayKind.VACATION, DayKind.DAY_OFF}

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The last day must not be before the first day.")})
        if self.as_weekday is not None and self.kind != DayKind.WORKING:
            raise ValidationError({"as_weekday": _("Only an extra working day follows another weekday's timetable.")})
        year = self.year if self.year_id else None
        if year and self.start and self.end and (self.start < year.start or self.end > year.end):
            raise ValidationError({"start": _("The days must lie inside the academic year.")})


# --- Marking scales -----------------------------------------------------------


class ScaleKind(models.TextChoices):
    TWELVE = "12", _("12-point (Ukraine)")
    FIVE = "5", _("5-point")
    PASS_FAIL = "pass", _("Pass/fail")
    VERBAL = "verbal", _("Verbal levels (primary school)")
    CUSTOM = "custom", _("Custom")


class MarkingScale(SchoolOwned):
    """A marking scale: the set of values a mark may take, each mapped to its level.

    A scale validates a mark (``parse``) and maps it to its level (``level_of``).
    """

    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=8, choices=ScaleKind.choices)

    class Meta:
        verbose_name = _("marking scale")
        verbose_name_plural = _("marking scales")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="scale_unique_name")]

    def __str__(self) -> str:
        return self.name

    def parse(
        self, text: str, *, period_column: bool = False, values: Iterable[ScaleValue] | None = None
    ) -> ScaleValue:
        """Validate typed input and return the matching value, or raise ``ValidationError``.

        Special marks ("н/а", "звільнений") are accepted only in period columns.
        ``values`` may be passed to avoid a query when validating many marks.
        """
        normalized = normalize_mark_text(text)
        if not normalized:
            raise ValidationError(_("Enter a mark."), code="empty")
        candidates = list(values) if values is not None else list(self.values.all())
        for value in candidates:
            if normalized in value.accepted_inputs():
                if value.period_only and not period_column:
                    raise ValidationError(
                        _("“%(mark)s” may be given only as a period mark."),
                        code="period_only",
                        params={"mark": value.code},
                    )
                return value
        allowed = ", ".join(v.code for v in candidates if not v.period_only or period_column)
        raise ValidationError(
            _("“%(mark)s” is not a mark on the scale “%(scale)s”. Allowed: %(allowed)s."),
            code="not_on_scale",
            params={"mark": text.strip()[:20], "scale": self.name, "allowed": allowed},
        )


_MARK_SPACE_RE = re.compile(r"\s+")


def normalize_mark_text(text: str) -> str:
    return _MARK_SPACE_RE.sub("", (text or "").strip().lower())[:32]


class ScaleLevel(models.TextChoices):
    INITIAL = "initial", _("Initial")
    AVERAGE = "average", _("Average")
    SUFFICIENT = "sufficient", _("Sufficient")
    HIGH = "high", _("High")
    FAIL = "fail", _("Unsatisfactory")
    PASS = "pass", _("Passed")
    SPECIAL = "special", _("Special mark")


class ScaleValue(SchoolOwned):
    """One value of a scale: its code as printed, a numeric value for averages and its level."""

    scale = models.ForeignKey(MarkingScale, on_delete=models.CASCADE, related_name="values")
    code = models.CharField(_("code"), max_length=16, help_text=_("As printed in the journal, e.g. 10 or зар."))
    aliases = models.CharField(
        _("other accepted spellings"), max_length=120, blank=True, help_text=_("Comma-separated")
    )
    label = models.CharField(_("label"), max_length=60, blank=True)
    numeric = models.DecimalField(_("numeric value"), max_digits=5, decimal_places=2, null=True, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=ScaleLevel.choices)
    ordinal = models.PositiveSmallIntegerField(_("order"), default=0)
    is_passing = models.BooleanField(_("passing"), default=True)
    period_only = models.BooleanField(_("only as a period mark"), default=False)

    class Meta:
        verbose_name = _("scale value")
        verbose_name_plural = _("scale values")
        ordering = ["scale", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["scale", "code"], name="scalevalue_unique_code")]

    def __str__(self) -> str:
        return self.code

    def accepted_inputs(self) -> set[str]:
        inputs = {normalize_mark_text(self.code)}
        inputs.update(normalize_mark_text(a) for a in self.aliases.split(",") if a.strip())
        return inputs


class YearLevel(SchoolOwned):
    """A year of study (grade 1-12, or a college course)."""

    number = models.PositiveSmallIntegerField(_("number"), validators=[MinValueValidator(1), MaxValueValidator(12)])
    name = models.CharField(_("name"), max_length=40, blank=True)
    scale = models.ForeignKey(
        MarkingScale,
        verbose_name=_("marking scale"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("year level")
        verbose_name_plural = _("year levels")
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="yearlevel_unique_number")]

    def __str__(self) -> str:
        return self.name or str(self.number)


class ClassKind(models.TextChoices):
    CLASS = "class", _("Class")
    GROUP = "group", _("College group")


class SchoolClass(SchoolOwned):
    """A homeroom class (or a college group) in one academic year."""

    year = models.ForeignKey(
        AcademicYear, verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="classes"
    )
    year_level = models.ForeignKey(
        YearLevel, verbose_name=_("year level"), on_delete=models.PROTECT, related_name="classes"
    )
    name = models.CharField(_("name"), max_length=20, help_text=_("For example 5-А"))
    kind = models.CharField(_("kind"), max_length=8, choices=ClassKind.choices, default=ClassKind.CLASS)
    class_teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("class teacher"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="homeroom_classes",
    )

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["year_level__number", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "year", "name"], name="class_unique_name")]
        indexes = [models.Index(fields=["school", "year"])]

    def __str__(self) -> str:
        return self.name


class Subgroup(SchoolOwned):
    """A subgroup of a class (languages, labour training, IT); each subgroup teacher keeps own records (R2.4)."""

    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("class"), on_delete=models.CASCADE, related_name="subgroups"
    )
    name = models.CharField(_("name"), max_length=40)
    students = models.ManyToManyField(
        "people.Student", verbose_name=_("students"), blank=True, related_name="subgroups"
    )

    class Meta:
        verbose_name = _("subgroup")
        verbose_name_plural = _("subgroups")
        ordering = ["school_class", "name"]
        constraints = [models.UniqueConstraint(fields=["school_class", "name"], name="subgroup_unique_name")]

    def __str__(self) -> str:
        return f"{self.school_class} / {self.name}"


class SubjectKind(models.TextChoices):
    SUBJECT = "subject", _("Subject")
    DISCIPLINE = "discipline", _("Discipline")
    MODULE = "module", _("Professional module")
    PRACTICE = "practice", _("Practical training")


class Subject(SchoolOwned):
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=SubjectKind.choices, default=SubjectKind.SUBJECT)
    scale = models.ForeignKey(
        MarkingScale,
        verbose_name=_("marking scale"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="subject_unique_name")]

    def __str__(self) -> str:
        return self.name


class Room(SchoolOwned):
    name = models.CharField(_("name"), max_length=40)
    capacity = models.PositiveSmallIntegerField(_("seats"), null=True, blank=True, validators=[MaxValueValidator(1000)])

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="room_unique_name")]

    def __str__(self) -> str:
        return self.name


class TeachingAssignment(SchoolOwned):
    """Teacher × class (or subgroup) × subject × hours per week: the teacher's workload (R4.4)."""

    year = models.ForeignKey(AcademicYear, verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("teacher"),
        on_delete=models.PROTECT,
        related_name="teaching_assignments",
    )
    school_class = models.ForeignKey(
        SchoolClass, verbose_name=_("class"), on_delete=models.PROTECT, related_name="assignments"
    )
    subgroup = models.ForeignKey(
        Subgroup,
        verbose_name=_("subgroup"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="assignments"
    )
    hours_per_week = models.DecimalField(
        _("hours per week"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("40"))],
    )
    scale = models.ForeignKey(
        MarkingScale,
        verbose_name=_("marking scale"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty to use the subject's, the year level's or the school's scale."),
    )

    class Meta:
        verbose_name = _("teaching assignment")
        verbose_name_plural = _("teaching assignments")
        ordering = ["school_class", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["teacher", "school_class", "subject"],
                condition=Q(subgroup__isnull=True),
                name="assignment_unique_whole_class",
            ),
            models.UniqueConstraint(
                fields=["teacher", "subgroup", "subject"],
                condition=Q(subgroup__isnull=False),
                name="assignment_unique_subgroup",
            ),
        ]
        indexes = [models.Index(fields=["school", "teacher"]), models.Index(fields=["school", "school_class"])]

    def __str__(self) -> str:
        group = self.subgroup or self.school_class
        return f"{self.subject} — {group}"

    def clean(self) -> None:
        if (
            self.subgroup_id
            and self.school_class_id
            and self.subgroup is not None
            and self.subgroup.school_class_id != self.school_class_id
        ):
            raise ValidationError({"subgroup": _("The subgroup belongs to another class.")})
        if self.school_class_id and self.year_id and self.school_class.year_id != self.year_id:
            raise ValidationError({"school_class": _("The class belongs to another academic year.")})

    def effective_scale(self) -> MarkingScale | None:
        """The scale marks of this assignment use: assignment, subject, year level, then school default."""
        return self.scale or self.subject.scale or self.school_class.year_level.scale or self.school.default_scale
