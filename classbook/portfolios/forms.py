"""Forms that parse the portfolio pages' input; the rules are in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from classbook.people.models import Student
from classbook.portfolios.models import Audience, EntryKind, Sharing
from classbook.schools.models import SchoolClass


class EntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("Description"), max_length=2000, required=False, widget=forms.Textarea)
    file = forms.FileField(label=_("File"), required=False)

    def __init__(self, *args: Any, accept: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if accept:
            self.fields["file"].widget.attrs["accept"] = accept


class RequestForm(forms.Form):
    audience = forms.ChoiceField(choices=Audience.choices)


class DecideForm(forms.Form):
    sharing = forms.ChoiceField(choices=[(Sharing.FAMILY, Sharing.FAMILY.label), *Audience.choices])


class ProjectForm(forms.Form):
    school_class = forms.ModelChoiceField(label=_("Class"), queryset=SchoolClass.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=2000, required=False, widget=forms.Textarea)
    members = forms.ModelMultipleChoiceField(
        label=_("Members"), queryset=Student.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, classes: QuerySet[SchoolClass], students: QuerySet[Student], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes  # type: ignore[attr-defined]
        self.fields["members"].queryset = students  # type: ignore[attr-defined]
