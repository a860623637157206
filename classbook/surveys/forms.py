"""Forms of the survey pages; the rules themselves are in ``services`` (the API uses the same)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from classbook.schools.models import SchoolClass
from classbook.surveys.models import Audience, QuestionKind


class SurveyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    opens_on = forms.DateField(label=_("Open from"), widget=forms.DateInput(attrs={"type": "date"}))
    closes_on = forms.DateField(label=_("Open until"), widget=forms.DateInput(attrs={"type": "date"}))
    anonymous = forms.BooleanField(label=_("Anonymous (answers are not linked to people)"), required=False)
    audiences = forms.MultipleChoiceField(
        label=_("Who is asked"), choices=Audience.choices, widget=forms.CheckboxSelectMultiple
    )
    classes = forms.ModelMultipleChoiceField(
        label=_("Only these classes (none chosen: every class)"),
        queryset=SchoolClass.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, classes: QuerySet[SchoolClass], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classes"].queryset = classes  # type: ignore[attr-defined]


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    text = forms.CharField(label=_("Question"), max_length=500)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    scale_max = forms.TypedChoiceField(
        label=_("Scale up to"), choices=[(5, "5"), (10, "10")], coerce=int, initial=5, required=False
    )
    choices = forms.CharField(
        label=_("Answer options, one per line"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
