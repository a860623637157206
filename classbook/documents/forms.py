"""Forms of the documents and catalogue pages; the rules themselves are in ``services`` (the API uses the same)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from classbook.core import uploads
from classbook.documents.models import Audience, DocumentKind, ResourceKind, ResourceState
from classbook.schools.models import Room

POLICY = uploads.POLICIES["school_document"]


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=DocumentKind.choices)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    audiences = forms.MultipleChoiceField(
        label=_("Published to (none: only the administration and the secretary see it)"),
        choices=Audience.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class VersionForm(forms.Form):
    file = forms.FileField(label=_("File"), widget=forms.ClearableFileInput(attrs={"accept": POLICY.accept}))
    note = forms.CharField(label=_("What changed"), max_length=500, required=False)


class NewDocumentForm(DocumentForm, VersionForm):
    pass


class ResourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ResourceKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    inventory_number = forms.CharField(label=_("Inventory number"), max_length=40, required=False)
    room = forms.ModelChoiceField(label=_("Room"), queryset=Room.objects.none(), required=False)
    location = forms.CharField(label=_("Place"), max_length=120, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100_000, initial=1)
    state = forms.ChoiceField(label=_("State"), choices=ResourceState.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, rooms: QuerySet[Room], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]
