from __future__ import annotations

from django import forms

from classbook.people.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "phone", "language"]
