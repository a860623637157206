"""Roster forms: plain forms that parse input; the services validate the business rules and write."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.people.models import ConsentPurpose, Gender, Role, User
from classbook.roster.models import ChangeTarget, DocumentKind
from classbook.schools.models import AcademicYear, SchoolClass

STAFF_ROLE_CHOICES = [
    (r.value, r.label) for r in (Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.SECRETARY, Role.TEACHER)
]


def _model_choice(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's own copy of a model choice field (``fields`` is typed as plain ``Field``)."""
    return cast("forms.ModelChoiceField[Any]", form.fields[name])


class DateInput(forms.DateInput):
    """The browser's date picker, which reads and sends ISO dates whatever the interface language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PersonForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=150, required=False)


class ContactsForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)


class StaffForm(PersonForm, ContactsForm):
    position = forms.CharField(label=_("Position"), max_length=120, required=False)


class NewStaffForm(StaffForm):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=STAFF_ROLE_CHOICES, widget=forms.CheckboxSelectMultiple)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=STAFF_ROLE_CHOICES)


class StudentContactsForm(forms.Form):
    """What a class teacher may change on a student of their class."""

    address = forms.CharField(label=_("Address"), max_length=255, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)


class StudentForm(PersonForm, StudentContactsForm):
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=DateInput)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False)
    personal_file_number = forms.CharField(label=_("Personal file number"), max_length=32, required=False)


class NewStudentForm(StudentForm):
    school_class = forms.ModelChoiceField(label=_("Class"), queryset=SchoolClass.objects.none())
    start = forms.DateField(label=_("In the class from"), required=False, widget=DateInput)

    def __init__(self, *args: Any, classes: QuerySet[SchoolClass], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "school_class").queryset = classes


class MoveForm(forms.Form):
    school_class = forms.ModelChoiceField(label=_("Move to class"), queryset=SchoolClass.objects.none())
    on = forms.DateField(label=_("From"), widget=DateInput, initial=timezone.localdate)

    def __init__(self, *args: Any, classes: QuerySet[SchoolClass], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "school_class").queryset = classes


class DateForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)


class GuardianForm(PersonForm, ContactsForm):
    relation = forms.CharField(label=_("Relation"), max_length=40, required=False, help_text=_("mother, father..."))
    may_see = forms.BooleanField(label=_("May see the child's data"), required=False, initial=True)


class GuardianContactsForm(PersonForm, ContactsForm):
    pass


class LinkGuardianForm(forms.Form):
    guardian = forms.ModelChoiceField(label=_("Parent"), queryset=User.objects.none())
    relation = forms.CharField(label=_("Relation"), max_length=40, required=False)
    may_see = forms.BooleanField(label=_("May see the child's data"), required=False, initial=True)

    def __init__(self, *args: Any, parents: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "guardian").queryset = parents
        self.fields["guardian"].label_from_instance = lambda u: u.full_name  # type: ignore[attr-defined]


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    given_by = forms.CharField(label=_("Given by"), max_length=255, help_text=_("Full name of the parent or guardian"))
    given_on = forms.DateField(label=_("Given on"), widget=DateInput, initial=timezone.localdate)
    document_ref = forms.CharField(label=_("Document reference"), max_length=120, required=False)


class StudentImportForm(forms.Form):
    """A class list to import (R7.1): the academic year its class names belong to and the first day."""

    year: forms.ModelChoiceField[AcademicYear] = forms.ModelChoiceField(
        label=_("Academic year"), queryset=None, empty_label=None
    )
    start = forms.DateField(
        label=_("In the class from"),
        required=False,
        widget=DateInput,
        help_text=_("Empty: today (or the first day of the year, if it has not begun)."),
    )
    file = forms.FileField(label=_("File (CSV or Excel .xlsx)"))

    def __init__(self, *args: Any, years: QuerySet[AcademicYear], initial_year: object = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "year").queryset = years
        if initial_year is not None:
            self.fields["year"].initial = initial_year


# --- The book of certificates issued, parents' change requests, the change feed (R7.1, R7.3, R7.6) ----------


class IssuedDocumentForm(forms.Form):
    """A line of the book of certificates issued; the service checks the numbers and who received it."""

    kind = forms.ChoiceField(label=_("Document"))
    series = forms.CharField(label=_("Series"), max_length=10)
    number = forms.CharField(label=_("Number"), max_length=20)
    issued_on = forms.DateField(label=_("Date of issue"), widget=DateInput())
    received_by_guardian = forms.TypedChoiceField(label=_("Received by"), coerce=int, required=False, empty_value=None)
    received_by_name = forms.CharField(
        label=_("Or another person (name, power of attorney)"), max_length=255, required=False
    )
    receipt_signed = forms.BooleanField(label=_("Receipt signed"), required=False)
    remarks = forms.CharField(label=_("Remarks"), max_length=500, required=False)

    def __init__(self, *args: Any, guardians: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = DocumentKind.choices  # type: ignore[attr-defined]
        self.fields["received_by_guardian"].choices = [("", _("the student")), *guardians]  # type: ignore[attr-defined]


class NewIssuedDocumentForm(IssuedDocumentForm):
    student = forms.IntegerField(label=_("Student"), min_value=1, max_value=2**62)


class CorrectionForm(IssuedDocumentForm):
    reason = forms.CharField(label=_("Reason of the correction"), max_length=500)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31)


class ChangeRequestForm(forms.Form):
    """A parent's request: whose data, the new values (empty: no change) and the reason of a name change."""

    student = forms.TypedChoiceField(label=_("Child"), coerce=int)
    target = forms.ChoiceField(label=_("Whose data"))
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=150, required=False)
    address = forms.CharField(label=_("Address (the child's)"), max_length=255, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail (your own)"), max_length=254, required=False)
    reason = forms.CharField(label=_("Reason (needed for a change of name)"), max_length=500, required=False)

    VALUE_FIELDS = ("last_name", "first_name", "patronymic", "address", "phone", "email")

    def __init__(self, *args: Any, children: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = list(children)  # type: ignore[attr-defined]
        self.fields["target"].choices = ChangeTarget.choices  # type: ignore[attr-defined]

    def changes(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in self.VALUE_FIELDS if self.cleaned_data.get(k)}


class DecisionForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("Decision"), choices=[("1", _("Accept")), ("0", _("Reject"))], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(label=_("Reason of the rejection"), max_length=500, required=False)


class FeedForm(forms.Form):
    since = forms.DateField(label=_("Since"), widget=DateInput(), required=False)
    until = forms.DateField(label=_("Until"), widget=DateInput(), required=False)
