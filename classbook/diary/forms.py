"""Forms of the diary's pages."""

from __future__ import annotations

from django import forms

from classbook.diary.models import DiaryPolicy


class DiaryPolicyForm(forms.ModelForm):
    class Meta:
        model = DiaryPolicy
        fields = ["show_average"]
