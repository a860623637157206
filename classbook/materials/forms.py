"""Forms of the materials pages; the rules themselves are in ``services`` (the API uses the same)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.access import materials as access
from classbook.access.context import SchoolContext
from classbook.core import uploads
from classbook.journal.models import Lesson
from classbook.materials.models import MAX_QUOTA_MB, Audience, MaterialKind
from classbook.schools.models import SchoolClass, Subgroup, Subject, YearLevel


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Title"), max_length=100, required=False)
    subject = forms.ModelChoiceField(label=_("Subject"), queryset=Subject.objects.none(), required=False)
    year_level = forms.ModelChoiceField(label=_("Year level"), queryset=YearLevel.objects.none(), required=False)
    kind = forms.ChoiceField(
        label=pgettext_lazy("material", "Kind"), choices=[("", "—"), *MaterialKind.choices], required=False
    )

    def __init__(self, *args: Any, ctx: SchoolContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = access.material_subjects(ctx)  # type: ignore[attr-defined]
        self.fields["year_level"].queryset = access.material_year_levels(ctx)  # type: ignore[attr-defined]
        if not access.may_read_analytics(ctx):
            kind = self.fields["kind"]
            assert isinstance(kind, forms.ChoiceField)
            kind.choices = [
                ("", "—"),
                *((v, label) for v, label in MaterialKind.choices if v != MaterialKind.ANALYTICAL),
            ]


class LessonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Lesson) -> str:
        a = obj.assignment
        group = a.subgroup or a.school_class
        return f"{obj.date:%d.%m.%Y} · {obj.number or ''} · {a.subject} · {group}"


class MaterialForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=pgettext_lazy("material", "Kind"), choices=MaterialKind.choices)
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    subject = forms.ModelChoiceField(label=_("Subject"), queryset=Subject.objects.none(), required=False)
    year_level = forms.ModelChoiceField(label=_("Year level"), queryset=YearLevel.objects.none(), required=False)


class PublishForm(MaterialForm):
    audience = forms.ChoiceField(label=_("Publish to"), choices=Audience.choices)
    school_class = forms.ModelChoiceField(label=_("Class"), queryset=SchoolClass.objects.none(), required=False)
    subgroup = forms.ModelChoiceField(label=_("Subgroup"), queryset=Subgroup.objects.none(), required=False)
    lesson = LessonChoiceField(label=_("Lesson"), queryset=Lesson.objects.none(), required=False)
    file = forms.FileField(label=_("File"), required=False)
    url = forms.CharField(label=_("or a link"), max_length=500, required=False)

    def __init__(self, *args: Any, ctx: SchoolContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = access.material_subjects(ctx)  # type: ignore[attr-defined]
        self.fields["year_level"].queryset = access.material_year_levels(ctx)  # type: ignore[attr-defined]
        self.fields["school_class"].queryset = access.target_classes(ctx)  # type: ignore[attr-defined]
        self.fields["subgroup"].queryset = access.target_subgroups(ctx)  # type: ignore[attr-defined]
        # The lessons of the last week and the next two: a lesson further away is found through the journal.
        today = timezone.localdate()
        lessons = access.target_lessons(ctx).filter(
            date__gte=today - dt.timedelta(days=7), date__lte=today + dt.timedelta(days=14)
        )
        self.fields["lesson"].queryset = lessons.select_related(  # type: ignore[attr-defined]
            "assignment__subject", "assignment__school_class", "assignment__subgroup"
        ).order_by("date", "number", "pk")
        self.fields["file"].widget.attrs["accept"] = uploads.POLICIES["material"].accept


class EditForm(MaterialForm):
    url = forms.CharField(label=pgettext_lazy("web address", "Link"), max_length=500, required=False)

    def __init__(self, *args: Any, ctx: SchoolContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = access.material_subjects(ctx)  # type: ignore[attr-defined]
        self.fields["year_level"].queryset = access.material_year_levels(ctx)  # type: ignore[attr-defined]


class QuotaForm(forms.Form):
    quota_mb = forms.IntegerField(label=_("Storage quota, MB"), min_value=1, max_value=MAX_QUOTA_MB)
