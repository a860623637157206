"""Forms of the archive pages: "build now" and the school's archive settings."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.archive.models import ArchiveKind, ArchiveSettings
from classbook.schools.models import StudyPeriod


class BuildForm(forms.Form):
    kind = forms.ChoiceField(label=_("Archive"), choices=ArchiveKind.choices)
    period = forms.TypedChoiceField(label=_("Semester"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, semesters: list[StudyPeriod], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.semesters = {p.pk: p for p in semesters}
        period = self.fields["period"]
        assert isinstance(period, forms.TypedChoiceField)
        period.choices = [("", "—"), *[(p.pk, p.name) for p in semesters]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ArchiveKind.SEMESTER and data.get("period") is None:
            self.add_error("period", _("Choose the semester to archive."))
        return data

    def chosen_period(self) -> StudyPeriod | None:
        pk = self.cleaned_data.get("period")
        return self.semesters.get(pk) if pk is not None else None


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ArchiveSettings
        fields = [
            "time_zone",
            "weekly_weekday",
            "weekly_time",
            "year_deadline_month",
            "year_deadline_day",
            "journal_retention_years",
            "summary_retention_years",
        ]

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("Not a known time zone (for example Europe/Kyiv).")) from None
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("weekly_weekday") is not None and data["weekly_weekday"] > 6:
            self.add_error("weekly_weekday", _("Choose a day from 0 (Monday) to 6 (Sunday)."))
        month, day = data.get("year_deadline_month"), data.get("year_deadline_day")
        if month is not None and day is not None and not (1 <= month <= 12 and 1 <= day <= 31):
            self.add_error("year_deadline_day", _("Not a date of the year."))
        for name in ("journal_retention_years", "summary_retention_years"):
            if data.get(name) is not None and not 1 <= data[name] <= 100:
                self.add_error(name, _("Between 1 and 100 years."))
        return data
