"""Forms of the account pages. Login and password forms are Django's own, extended with throttling (R1.5)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from classbook.people.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "phone", "language"]
        # Not Django's "email address" (uk "Email адреса", half English): the school's word for it.
        labels = {"email": _("E-mail")}


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing attempts while the username or address is throttled (R1.5).

    The view tells the form whether the attempt is throttled; the check comes before the password is
    tried, so a throttled attacker learns nothing, not even a correct password. Failures are counted by
    the ``user_login_failed`` signal (``signals.py``).
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed attempts. Please wait %(minutes)s minutes and try again."),
    }

    remember = forms.BooleanField(
        label=_("Remember this device"),
        required=False,
        help_text=_("Students and parents, on your own phone or computer only: you stay logged in for weeks."),
    )

    def __init__(self, *args: Any, throttled: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.throttled = throttled

    def clean(self) -> dict[str, Any]:
        if self.throttled:
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": settings.CLASSBOOK_LOGIN_WINDOW_MINUTES},
            )
        return super().clean()


class ActivationForm(forms.Form):
    """Step 1 of the first login: the code from the slip (and, if the person likes, their username)."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        required=False,
        help_text=_("As printed on your slip. You may leave it empty."),
    )
    code = forms.CharField(
        label=_("Activation code"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}),
    )


class TOTPCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the authenticator app"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not re.fullmatch(r"\d{6}", code):
            raise ValidationError(_("Enter the 6 digits shown by your authenticator app."), code="format")
        return code


class SecondStepForm(forms.Form):
    """The login's second step: 6 digits from the app, or a recovery code (checked by the view)."""

    code = forms.CharField(
        label=_("Code from the authenticator app, or a recovery code"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=80, help_text=_("What the token is for, e.g. a script."))
    expires_in_days = forms.IntegerField(
        label=_("Valid for, days"), min_value=1, max_value=3650, required=False, help_text=_("Empty: until revoked.")
    )


MAX_SELECTED = 500


class IssueCodesForm(forms.Form):
    """The people selected on the codes page: ids only; the view checks each against the access scope."""

    user = forms.CharField(required=False)

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.raw_ids = data.getlist("user") if data is not None else []

    def clean(self) -> dict[str, Any]:
        ids = self.raw_ids
        if not ids:
            raise ValidationError(_("Select at least one person."), code="empty")
        if len(ids) > MAX_SELECTED:
            raise ValidationError(
                _("Select at most %(max)s people at once."), code="too_many", params={"max": MAX_SELECTED}
            )
        if any(not re.fullmatch(r"\d{1,18}", value or "") for value in ids):
            raise ValidationError(_("The selection is not valid. Reload the page and try again."), code="invalid")
        return {"ids": sorted({int(v) for v in ids})}


class CodesFilterForm(forms.Form):
    """Filters of the codes page; invalid values are ignored rather than failing the page."""

    school_class = forms.TypedChoiceField(label=_("Class"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(
        label=_("Who"),
        required=False,
        choices=[("", _("Everyone")), ("staff", _("Staff")), ("students", _("Students")), ("parents", _("Parents"))],
    )
    q = forms.CharField(label=_("Name"), required=False, max_length=100, strip=True)

    def __init__(self, *args: Any, class_choices: list[tuple[int, str]], allow_all: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        empty = [("", _("All classes"))] if allow_all else []
        field = self.fields["school_class"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = empty + [(str(pk), name) for pk, name in class_choices]
        field.required = not allow_all
