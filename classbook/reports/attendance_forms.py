"""The filters of the attendance reports (R6.2). The summary sheet of attendance uses ``forms.SummaryForm``
(a class and a period or the year), like the summary sheet of grades."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.reports.attendance import MAX_DAYS

GROUP_CHOICES = [("class", _("Class")), ("student", _("Student")), ("subject", _("Subject"))]


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The four weeks up to today: from the Monday three weeks before this week's."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(weeks=3), today


class DaysForm(forms.Form):
    """A first and a last day, in order, at most ``max_days`` apart (inclusive)."""

    max_days = MAX_DAYS
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The last day is before the first day."))
            elif (end - start).days + 1 > self.max_days:
                self.add_error("end", _("A report covers at most %(days)s days.") % {"days": self.max_days})
        return data


class _RangeForm(DaysForm):
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, classes: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        self.fields["school_class"].choices = every + [(c.pk, f"{c} ({c.year.name})") for c in classes]  # type: ignore[attr-defined]


class AttendanceForm(_RangeForm):
    group_by = forms.ChoiceField(label=_("Lines"), choices=GROUP_CHOICES, initial="class")
    subject = forms.TypedChoiceField(label=_("Subject"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, subjects: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = [("", _("All"))] + [(s.pk, str(s)) for s in subjects]  # type: ignore[attr-defined]


class ConsecutiveForm(_RangeForm):
    at_least = forms.IntegerField(label=_("School days in a row, at least"), min_value=2, max_value=60, initial=3)


class RegistersForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
