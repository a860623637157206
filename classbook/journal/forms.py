"""Forms of the school's journal rules, work types and attendance codes (R2.2, R2.5-R2.8)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.journal.models import AttendanceCode, JournalPolicy, WorkType


class JournalPolicyForm(forms.ModelForm):
    class Meta:
        model = JournalPolicy
        fields = [
            "correction_window_days",
            "min_marks_one_hour",
            "min_marks_more_hours",
            "accumulation_policy",
            "annual_grade_rule",
            "director_corrects",
            "deputy_corrects",
            "admin_corrects",
            "weighted_averages",
            "allow_future_marks",
        ]
        help_texts = {
            # The school's one weighting rule (issue 10): the diary has no switch of its own any more.
            "weighted_averages": _(
                "One rule for the whole school: the journal, the diary, the information letters and the class "
                "teacher's notices show the same average."
            ),
        }


class WorkTypeForm(forms.ModelForm):
    class Meta:
        model = WorkType
        fields = ["code", "name", "short_name", "weight", "allows_several", "is_control", "is_active", "ordinal"]

    def clean_weight(self) -> Decimal:
        # A weight multiplies the mark in the weighted average (R2.6): zero or negative makes no sense.
        weight = self.cleaned_data["weight"]
        if weight is not None and weight <= 0:
            raise forms.ValidationError(_("The weight must be greater than zero."))
        return weight


class AttendanceCodeForm(forms.ModelForm):
    class Meta:
        model = AttendanceCode
        fields = ["code", "name", "counts_as_absent", "is_excused", "is_late", "reason_kind", "is_active", "ordinal"]
