"""The filters of the curriculum reports (R6.4) and of a college group's results (R6.2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.reports.curriculum import CurriculumLines
from classbook.reports.forms import ProgressForm, _PeriodForm


class CurriculumForm(ProgressForm):
    """The progress report's filters, with the curriculum statistics' lines (a journal, no year level)."""

    group_by = forms.ChoiceField(label=_("Lines"), choices=CurriculumLines.choices, initial=CurriculumLines.CLASS)


class YearTableForm(_PeriodForm):
    """A period or, by default, the year (its annual grades)."""


class GroupForm(_PeriodForm):
    school_class = forms.TypedChoiceField(label=_("Group"), coerce=int)

    def __init__(self, *args: Any, groups: Iterable[Any] = (), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["school_class"].choices = [(g.pk, f"{g} ({g.year.name})") for g in groups]  # type: ignore[attr-defined]
