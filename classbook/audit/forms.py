"""The audit log's filter form (GET): person, action, object, dates. The view checks the values against
the read model (``queries.valid_action``, ``queries.person_of_school``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditFilterForm(forms.Form):
    person = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=150,
        help_text=_("Login name or number of anyone who has or had a role in this school."),
    )
    person_role = forms.ChoiceField(
        label=_("as"),
        required=False,
        choices=[
            ("any", _("acting or acted upon")),
            ("actor", _("acting")),
            ("subject", _("acted upon")),
        ],
    )
    action = forms.CharField(label=pgettext_lazy("audit", "Action"), required=False, max_length=100)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    object_id = forms.CharField(label=_("Object number"), required=False, max_length=64)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The last day is before the first day."))
        return data
