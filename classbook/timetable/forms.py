"""Forms of the timetable pages (input parsing only; the services validate the business rules)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.timetable.models import ChangeKind, Parity, Weekday


class EntryForm(forms.Form):
    assignment = forms.TypedChoiceField(label=_("Teaching assignment"), coerce=int)
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=Weekday.choices, coerce=int)
    number = forms.IntegerField(label=_("Lesson number"), min_value=0, max_value=15)
    room = forms.TypedChoiceField(label=_("Room"), coerce=int, required=False, empty_value=None)
    parity = forms.ChoiceField(label=_("Weeks"), choices=Parity.choices, initial=Parity.EVERY)
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, assignments=(), rooms=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["assignment"].choices = [(a.pk, f"{a} · {a.teacher.short_name}") for a in assignments]  # type: ignore[attr-defined]
        self.fields["room"].choices = [("", "—"), *((r.pk, str(r)) for r in rooms)]  # type: ignore[attr-defined]


class ChangeEntryForm(forms.Form):
    """Change an entry from a date on: lessons before that day and lessons with data stay as they are."""

    from_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=Weekday.choices, coerce=int)
    number = forms.IntegerField(label=_("Lesson number"), min_value=0, max_value=15)
    room = forms.TypedChoiceField(label=_("Room"), coerce=int, required=False, empty_value=None)
    parity = forms.ChoiceField(label=_("Weeks"), choices=Parity.choices)

    def __init__(self, *args, rooms=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [("", "—"), *((r.pk, str(r)) for r in rooms)]  # type: ignore[attr-defined]


class RemoveForm(forms.Form):
    from_date = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class GenerateForm(forms.Form):
    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))


class BellForm(forms.Form):
    schedule = forms.TypedChoiceField(label=_("Bell schedule"), coerce=int)
    number = forms.IntegerField(label=_("Lesson number"), min_value=0, max_value=15)
    start = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}))


class ScheduleForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("name of a thing", "Name"), max_length=60)
    is_default = forms.BooleanField(label=_("Default schedule"), required=False)


class LessonChangeForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happened"), choices=ChangeKind.choices)
    substitute = forms.TypedChoiceField(label=_("Substitute"), coerce=int, required=False, empty_value=None)
    merged_with = forms.IntegerField(label=_("Merged with lesson (number in the list)"), required=False)
    new_date = forms.DateField(label=_("New date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    new_number = forms.IntegerField(label=_("New lesson number"), required=False, min_value=0, max_value=15)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, teachers=(), merge_choices=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["substitute"].choices = [("", "—"), *((t.pk, t.full_name) for t in teachers)]  # type: ignore[attr-defined]
        self.fields["merged_with"] = forms.TypedChoiceField(
            label=_("Merged with"),
            coerce=int,
            required=False,
            empty_value=None,
            choices=[("", "—"), *merge_choices],
        )
