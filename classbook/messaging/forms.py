"""Parsing page input of messaging (the rules and limits are checked again in ``services``)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core import uploads
from classbook.messaging.models import BODY_MAX, SUBJECT_MAX, Audience


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": uploads.POLICIES["message"].accept}))
        kwargs.setdefault("required", False)
        # An empty file is refused by the service, with the message every door gives.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):  # type: ignore[no-untyped-def]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _choices(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's own copy of a choice field (``fields`` is typed as plain ``Field``)."""
    return cast(forms.ChoiceField, form.fields[name])


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=BODY_MAX)
    # The form metaclass moves declared fields into ``base_fields``, so the instance's ``files`` (the
    # uploads) is not shadowed at runtime; the stubs only see the class attribute.
    files = MultipleFileField(label=_("Files"))  # type: ignore[assignment]


class ConversationForm(MessageForm):
    # The subject line of a message ("Тема"), not a school subject ("Предмет").
    subject = forms.CharField(label=pgettext_lazy("message", "Subject"), max_length=SUBJECT_MAX, required=False)
    recipients = forms.TypedMultipleChoiceField(label=_("To"), coerce=int, widget=forms.CheckboxSelectMultiple)

    field_order = ["recipients", "subject", "body", "files"]

    def __init__(self, *args, recipients=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # ``recipients``: ``queries.Recipient`` rows (each with the person's role for the child), in their order.
        _choices(self, "recipients").choices = [
            (
                r.user.pk,
                f"{r.user.full_name or r.user.username} — {r.role}" if r.role else r.user.full_name or r.user.username,
            )
            for r in recipients
        ]


class AnnouncementForm(forms.Form):
    audience = forms.ChoiceField(label=_("Audience"), choices=Audience.choices)
    year_level = forms.TypedChoiceField(label=_("Year level"), coerce=int, required=False, empty_value=None)
    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int, required=False, empty_value=None)
    title = forms.CharField(label=_("Title"), max_length=SUBJECT_MAX)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}), max_length=BODY_MAX)
    event_start = forms.DateTimeField(
        label=_("Event starts"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    event_end = forms.DateTimeField(
        label=_("Event ends"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)

    def __init__(self, *args, audiences=(), levels=(), classes=(), **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        _choices(self, "audience").choices = [(a, label) for a, label in Audience.choices if a in audiences]
        _choices(self, "year_level").choices = [("", "—")] + [(lv.pk, str(lv)) for lv in levels]
        _choices(self, "school_class").choices = [("", "—")] + [(c.pk, str(c)) for c in classes]


class TopicForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=SUBJECT_MAX)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 5}), max_length=BODY_MAX)
    open_to_parents = forms.BooleanField(label=_("Parents take part"), required=False, initial=True)
    open_to_students = forms.BooleanField(label=_("Students take part"), required=False)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 3}), max_length=BODY_MAX)
