"""Forms of the absences page, absence reports and flagged marks (they parse input, nothing else)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.core import uploads
from classbook.core.params import is_whole_number
from classbook.journal.models import AbsenceReasonKind

KIND_CHOICES = [("", "—"), *AbsenceReasonKind.choices]


class ReasonForm(forms.Form):
    """One reason for the absences ticked on the page; ``absence`` values are ``"<id>:<version>"``."""

    absence = forms.MultipleChoiceField(required=False)
    kind = forms.ChoiceField(label=_("Kind of reason"), choices=KIND_CHOICES, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    excused = forms.BooleanField(label=_("Valid (excused) reason"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The values are checked against the scoped rows in the view, not against a fixed list.
        self.fields["absence"].valid_value = lambda value: True  # type: ignore[attr-defined]

    def pairs(self) -> list[tuple[int, int]] | None:
        """``[(attendance id, version)]``, or None when a value is malformed."""
        result = []
        for value in self.cleaned_data["absence"]:
            pk, _sep, version = str(value).partition(":")
            if not (is_whole_number(pk) and is_whole_number(version)):
                return None
            result.append((int(pk), int(version)))
        return result


class AbsenceReportForm(forms.Form):
    student = forms.TypedChoiceField(label=_("Child"), coerce=int)
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind of reason"), choices=AbsenceReasonKind.choices)
    text = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: illness, medical certificate No 123 of 5 October."),
    )
    # An empty file is refused by the service, with the message every door gives.
    document = forms.FileField(
        label=_("Document (optional)"),
        required=False,
        allow_empty_file=True,
        help_text=_("PDF, JPEG or PNG, up to 5 MB."),
        widget=forms.FileInput(attrs={"accept": uploads.POLICIES["absence_document"].accept}),
    )

    def __init__(self, *args: Any, students: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["student"]).choices = students


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("reject", _("Reject"))])
    excused = forms.BooleanField(required=False)
    comment = forms.CharField(max_length=500, required=False)


class FlagForm(forms.Form):
    comment = forms.CharField(max_length=500)


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("confirm", _("Confirmed as it is")), ("correct", _("Corrected"))])
    text = forms.CharField(max_length=32, required=False)
    answer = forms.CharField(max_length=500, required=False)
