"""The filters of the journal filling reports (R6.3, R6.10, R6.11) and the quality formula's form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.reports.attendance_forms import DaysForm
from classbook.reports.filling import MAX_ACTIVITY_DAYS, parse_month
from classbook.reports.models import QualitySettings

GROUP_CHOICES = [("journal", _("Journal")), ("teacher", _("Teacher")), ("class", _("Class"))]


__all__ = ["ActivityForm", "FillingForm", "QualityForm", "parse_month"]


class FillingForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), required=False)
    month = forms.CharField(
        label=_("or a month"), required=False, max_length=7, widget=forms.TextInput(attrs={"type": "month"})
    )
    group_by = forms.ChoiceField(label=_("Lines"), choices=GROUP_CHOICES, initial="journal")
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int, required=False, empty_value=None)
    teacher = forms.TypedChoiceField(label=_("Teacher"), coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        periods: list[tuple[str, str]],
        classes: Iterable[Any] = (),
        teachers: Iterable[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        self.fields["period"].choices = [("", "—"), *periods]  # type: ignore[attr-defined]
        self.fields["school_class"].choices = every + [(c.pk, f"{c} ({c.year.name})") for c in classes]  # type: ignore[attr-defined]
        self.fields["teacher"].choices = every + [(t.pk, t.short_name) for t in teachers]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        month = data.get("month") or ""
        if month and parse_month(month) is None:
            self.add_error("month", _("Enter a month as YYYY-MM."))
        elif not month and not data.get("period"):
            self.add_error("period", _("Choose a period or a month."))
        return data


class ActivityForm(DaysForm):
    max_days = MAX_ACTIVITY_DAYS


class QualityForm(forms.ModelForm):
    class Meta:
        model = QualitySettings
        fields = ["w_topic", "w_homework", "w_register", "w_timely", "w_accumulation", "w_remarks"]
