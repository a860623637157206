"""Forms of the school's account administration (issue 9): a reason, and the administrator's re-authentication."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from classbook.people.account_queries import STATES
from classbook.people.credentials import REASON_MAX


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or username"), max_length=100, required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Everyone")), (STATES[0], _("Active")), (STATES[1], _("Deactivated"))],
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the audit log and shown to the person."),
    )


class TwoFactorResetForm(ReasonForm):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Your two-factor code"),
        max_length=32,
        required=False,
        help_text=_("The code from your own authenticator app, if you use two-factor login."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
