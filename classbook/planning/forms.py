"""Forms of the plan pages (input parsing only; the services validate the business rules)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CopyForm(forms.Form):
    source = forms.TypedChoiceField(label=_("Copy from"), coerce=int)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, sources=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(p.pk, label) for p, label in sources]  # type: ignore[attr-defined]


class PublishForm(forms.Form):
    title = forms.CharField(label=_("Title in the shared base"), max_length=200, required=False)


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("What should be changed"), max_length=500)


class DeadlineForm(forms.Form):
    deadline = forms.DateField(
        label=_("Plans due by"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class FilterForm(forms.Form):
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int, required=False, empty_value=None)
    teacher = forms.TypedChoiceField(label=_("Teacher"), coerce=int, required=False, empty_value=None)
    subject = forms.TypedChoiceField(label=_("Subject"), coerce=int, required=False, empty_value=None)
    as_of = forms.DateField(
        label=_("As of"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, classes=(), teachers=(), subjects=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        all_ = [("", _("All"))]
        self.fields["school_class"].choices = all_ + [(c.pk, str(c)) for c in classes]  # type: ignore[attr-defined]
        self.fields["teacher"].choices = all_ + [(t.pk, t.full_name) for t in teachers]  # type: ignore[attr-defined]
        self.fields["subject"].choices = all_ + [(s.pk, str(s)) for s in subjects]  # type: ignore[attr-defined]
