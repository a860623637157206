"""The upload form of the certificate page: the PKCS#12 file, its password, a timestamp authority."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(label=_("PKCS#12 file (.p12, .pfx)"))
    password = forms.CharField(label=_("Password of the file"), required=False, strip=False, max_length=200)
    tsa_url = forms.CharField(label=_("Timestamp authority URL (optional)"), required=False, max_length=500)
