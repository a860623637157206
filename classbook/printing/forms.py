"""The printing page's choices: subjects, days (or a study period), sections, a certified copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

# Longest range one request prints: a school year (a few days' margin).
MAX_DAYS = 400


def range_error(start: dt.date, end: dt.date) -> str | None:
    """What is wrong with the days asked for, or None (the page and the API say the same)."""
    if end < start:
        return str(_("The last day is before the first day."))
    if (end - start).days > MAX_DAYS:
        return str(_("Print at most one school year at a time."))
    return None


class PrintForm(forms.Form):
    period = forms.ChoiceField(label=_("Study period"), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    journals = forms.TypedMultipleChoiceField(
        label=_("Subjects"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    sections = forms.MultipleChoiceField(label=_("Sections"), required=False, widget=forms.CheckboxSelectMultiple)
    certify = forms.BooleanField(label=_("Certified copy (with my signature block)"), required=False)

    def __init__(
        self,
        *args: Any,
        journals: list[tuple[int, str]],
        periods: list[tuple[str, str, dt.date, dt.date]],
        sections: list[tuple[str, str]],
        default: tuple[dt.date, dt.date],
        may_certify: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.period_spans = {key: (start, end) for key, _name, start, end in periods}
        self.fields["period"].choices = [("", _("Days below")), *[(k, n) for k, n, _s, _e in periods]]  # type: ignore[attr-defined]
        self.fields["journals"].choices = journals  # type: ignore[attr-defined]
        self.fields["sections"].choices = sections  # type: ignore[attr-defined]
        self.fields["start"].initial, self.fields["end"].initial = default
        self.fields["journals"].initial = [pk for pk, _name in journals]
        self.fields["sections"].initial = [key for key, _label in sections]
        if not may_certify:
            del self.fields["certify"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period")
        if period:
            data["start"], data["end"] = self.period_spans[period]
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            raise forms.ValidationError(_("Choose a study period or the first and the last day."))
        error = range_error(start, end)
        if error:
            raise forms.ValidationError(error)
        if not data.get("sections"):
            raise forms.ValidationError(_("Choose at least one section to print."))
        return data


class VerifyForm(forms.Form):
    code = forms.CharField(label=_("Verification code"), max_length=20)
