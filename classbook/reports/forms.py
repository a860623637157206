"""The reports' filters and the school's report settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from classbook.reports.models import GroupBy, ReportSettings
from classbook.schools.models import AcademicYear, StudyPeriod


def period_choices(years: Iterable[AcademicYear], periods: Iterable[StudyPeriod]) -> list[tuple[str, str]]:
    """One list of every year's periods and the year itself (its annual grades): "p<id>" and "y<id>"."""
    by_year: dict[int, list[StudyPeriod]] = {}
    for p in periods:
        by_year.setdefault(p.year_id, []).append(p)
    out = []
    for year in years:
        out += [(f"p{p.pk}", f"{year.name} · {p.name}") for p in by_year.get(year.pk, [])]
        out.append((f"y{year.pk}", f"{year.name} · {pgettext('study period', 'Year')}"))
    return out


class _PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"))

    def __init__(self, *args: Any, periods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = periods  # type: ignore[attr-defined]


class ProgressForm(_PeriodForm):
    group_by = forms.ChoiceField(label=_("Lines"), choices=GroupBy.choices, initial=GroupBy.CLASS)
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int, required=False, empty_value=None)
    subject = forms.TypedChoiceField(label=_("Subject"), coerce=int, required=False, empty_value=None)
    teacher = forms.TypedChoiceField(label=_("Teacher"), coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        classes: Iterable[Any] = (),
        subjects: Iterable[Any] = (),
        teachers: Iterable[Any] = (),
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        every = [("", _("All"))]
        self.fields["school_class"].choices = every + [(c.pk, str(c)) for c in classes]  # type: ignore[attr-defined]
        self.fields["subject"].choices = every + [(s.pk, str(s)) for s in subjects]  # type: ignore[attr-defined]
        self.fields["teacher"].choices = every + [(t.pk, t.short_name) for t in teachers]  # type: ignore[attr-defined]


class SummaryForm(_PeriodForm):
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int)

    def __init__(self, *args: Any, classes: Iterable[Any] = (), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["school_class"].choices = [(c.pk, f"{c} ({c.year.name})") for c in classes]  # type: ignore[attr-defined]


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ReportSettings
        fields = ["basis", "not_attested_fails", "include_departed", "show_sou"]
        widgets = {"basis": forms.RadioSelect}
