"""Forms of the administration area. Every choice of a related row is scoped to the school in
``__init__`` (through ``classbook.access``), so a POSTed id of another school's row is a form error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from classbook.access import scopes, structure
from classbook.access.context import SchoolContext
from classbook.people.models import Student, User
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    Room,
    School,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

Scoper = Callable[[SchoolContext], QuerySet[Any]]


def _years(ctx: SchoolContext) -> QuerySet[AcademicYear]:
    return scopes.directory(ctx, AcademicYear)


def _scales(ctx: SchoolContext) -> QuerySet[MarkingScale]:
    return scopes.directory(ctx, MarkingScale)


def class_label(school_class: SchoolClass) -> str:
    return f"{school_class.name} ({school_class.year.name})"


class ScopedForm(forms.ModelForm):
    """A model form whose related choices come from the school of ``ctx`` only."""

    scoped: ClassVar[dict[str, Scoper]] = {}

    def __init__(self, *args: Any, ctx: SchoolContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx = ctx
        for name, scoper in self.scoped.items():
            self.fields[name].queryset = scoper(ctx)  # type: ignore[attr-defined]
        if "school_class" in self.fields:
            # Class names repeat every year ("5-А"); the year tells them apart.
            self.fields["school_class"].label_from_instance = class_label  # type: ignore[attr-defined]


class SchoolSettingsForm(ScopedForm):
    scoped = {"default_scale": _scales}

    class Meta:
        model = School
        fields = [
            "name",
            "short_name",
            "kind",
            "country",
            "holiday_rule",
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
            "average_decimals",
            "offline_window_hours",
        ]
        widgets = {"entry_deadline": TIME}


class YearForm(ScopedForm):
    class Meta:
        model = AcademicYear
        fields = ["name", "start", "end", "is_current"]
        widgets = {"start": DATE, "end": DATE}

    def validate_constraints(self) -> None:
        # Marking a year current unmarks the previous one (the service does it in the same transaction).
        return None


class PeriodForm(ScopedForm):
    scoped = {"year": _years, "parent": lambda ctx: scopes.directory(ctx, StudyPeriod).select_related("year")}

    class Meta:
        model = StudyPeriod
        fields = ["year", "parent", "kind", "name", "ordinal", "start", "end"]
        widgets = {"start": DATE, "end": DATE}


class SpecialDayForm(ScopedForm):
    scoped = {"year": _years}

    class Meta:
        model = SpecialDay
        fields = ["year", "kind", "name", "start", "end", "as_weekday"]
        widgets = {"start": DATE, "end": DATE}


class YearLevelForm(ScopedForm):
    scoped = {"scale": _scales}

    class Meta:
        model = YearLevel
        fields = ["number", "name", "scale"]
        help_texts = {"scale": _("For example verbal levels in the first grades.")}


class ClassForm(ScopedForm):
    scoped = {
        "year": _years,
        "year_level": lambda ctx: scopes.directory(ctx, YearLevel),
        "class_teacher": structure.teachers,
    }

    class Meta:
        model = SchoolClass
        fields = ["year", "year_level", "name", "kind", "class_teacher"]


class SubgroupForm(ScopedForm):
    scoped = {"school_class": lambda ctx: scopes.classes(ctx).select_related("year")}

    class Meta:
        model = Subgroup
        fields = ["school_class", "name"]


class SubjectForm(ScopedForm):
    scoped = {"scale": _scales}

    class Meta:
        model = Subject
        fields = ["name", "short_name", "kind", "scale"]


class RoomForm(ScopedForm):
    class Meta:
        model = Room
        fields = ["name", "capacity"]


class AssignmentForm(ScopedForm):
    scoped = {
        "teacher": structure.teachers,
        "school_class": lambda ctx: scopes.classes(ctx),
        "subgroup": lambda ctx: scopes.subgroups(ctx),
        "subject": lambda ctx: scopes.directory(ctx, Subject),
        "scale": _scales,
    }

    class Meta:
        model = TeachingAssignment
        fields = ["teacher", "school_class", "subgroup", "subject", "hours_per_week", "scale"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        school_class = self.cleaned_data.get("school_class")
        if school_class is not None:
            # The assignment belongs to its class's year; the model's checks compare against it.
            self.instance.year_id = school_class.year_id
        return self.cleaned_data


class CapitalisedLabelsForm(forms.Form):
    """A form whose labels are lower-case names in the catalogue (a label of its own field, not a model's
    verbose name, which Django capitalises itself): the page shows them with a capital letter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if field.label:
                field.label = capfirst(field.label)


class SubgroupStudentsForm(CapitalisedLabelsForm):
    students: forms.ModelMultipleChoiceField[Student] = forms.ModelMultipleChoiceField(
        label=_("students"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, ctx: SchoolContext, subgroup: Subgroup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["students"].queryset = scopes.class_students(ctx, subgroup.school_class)  # type: ignore[attr-defined]


class CustomScaleForm(CapitalisedLabelsForm):
    name = forms.CharField(label=_("name"), max_length=80)
    values = forms.CharField(
        label=_("values"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "One value per line: code, level, number (optional). Levels: initial, average, sufficient, high, "
            "fail, pass. For example: A, high, 5"
        ),
    )


class YearChoiceForm(forms.Form):
    year: forms.ModelChoiceField[AcademicYear] = forms.ModelChoiceField(
        label=_("Academic year"), queryset=None, required=False
    )

    def __init__(self, *args: Any, ctx: SchoolContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].queryset = _years(ctx)  # type: ignore[attr-defined]


class AssignmentFilterForm(YearChoiceForm):
    teacher: forms.ModelChoiceField[User] = forms.ModelChoiceField(label=_("Teacher"), queryset=None, required=False)
    school_class: forms.ModelChoiceField[SchoolClass] = forms.ModelChoiceField(
        label=_("Class"), queryset=None, required=False
    )

    def __init__(self, *args: Any, ctx: SchoolContext, **kwargs: Any) -> None:
        super().__init__(*args, ctx=ctx, **kwargs)
        self.fields["teacher"].queryset = structure.teachers(ctx)  # type: ignore[attr-defined]
        self.fields["school_class"].queryset = scopes.classes(ctx)  # type: ignore[attr-defined]
        self.fields["school_class"].label_from_instance = class_label  # type: ignore[attr-defined]


class IdListField(forms.Field):
    """A list of ids posted under one name (the held-back checkboxes of the year-opening preview)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> frozenset[int]:
        if not value:
            return frozenset()
        try:
            return frozenset(int(v) for v in value)
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Choose students from the list.")) from None


class OpenYearForm(CapitalisedLabelsForm):
    """The year-opening wizard (R4.3): the new year's dates and the choices the preview then shows."""

    name = forms.CharField(label=_("name of the new year"), max_length=20, help_text=_("For example 2027/2028"))
    start = forms.DateField(label=_("first day"), widget=DATE)
    end = forms.DateField(label=_("last day"), widget=DATE)
    final_level = forms.IntegerField(
        label=_("final year level"),
        min_value=1,
        max_value=12,
        help_text=_("Classes of this level graduate and are not copied."),
    )
    first_classes = forms.CharField(
        label=_("new first-year classes"),
        required=False,
        max_length=500,
        help_text=_("Names separated by commas, created empty, for example 1-А, 1-Б. Leave empty for none."),
    )
    copy_timetable = forms.BooleanField(
        label=_("copy the weekly timetable"),
        required=False,
        initial=True,
        help_text=_("Valid from the new year's first day; lessons are generated afterwards as usual."),
    )
    held_back_list = forms.CharField(
        label=_("hold back by a list"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: one student per line, by personal file number or full name."),
    )
    day_changes = forms.CharField(
        label=_("add or move days"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Optional, after the preview: one day per line, “DD.MM.YYYY Name” or “DD.MM.YYYY - DD.MM.YYYY Name”. "
            "The name of a day in the preview moves it; another name adds a holiday."
        ),
    )
    held_back = IdListField(required=False)
