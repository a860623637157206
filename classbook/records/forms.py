"""Forms of the book of orders: they parse input; ``records.services`` checks the rules and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.people.models import Student
from classbook.records.models import LineInput, Order, OrderInput, OrderKind, StudyForm
from classbook.schools.models import AcademicYear, SchoolClass


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class StudentChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return obj.user.full_name


class OrderForm(forms.Form):
    """One order. On the page its students share one class, reason or form of study (the API takes a list of
    lines, each with its own); an arrival of a new student names them in the "new student" fields."""

    year = forms.ModelChoiceField(label=_("School year"), queryset=AcademicYear.objects.none())
    number = forms.IntegerField(label=_("Number"), min_value=1, max_value=99999)
    date = forms.DateField(label=_("Date of the order"), widget=DateInput())
    effective_on = forms.DateField(label=_("Takes effect on"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=OrderKind.choices)
    text = forms.CharField(label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}))
    students = StudentChoice(label=_("Students"), queryset=Student.objects.none(), required=False)
    target_class = forms.ModelChoiceField(label=_("To class"), queryset=SchoolClass.objects.none(), required=False)
    study_form = forms.ChoiceField(label=_("Form of study"), choices=[("", "—"), *StudyForm.choices], required=False)
    reason = forms.CharField(label=_("Reason (departure: where to)"), max_length=255, required=False)
    new_last_name = forms.CharField(label=_("New student: last name"), max_length=150, required=False)
    new_first_name = forms.CharField(label=_("New student: first name"), max_length=150, required=False)
    new_patronymic = forms.CharField(label=_("New student: patronymic"), max_length=150, required=False)
    new_birth_date = forms.DateField(label=_("New student: birth date"), widget=DateInput(), required=False)
    corrects = forms.ModelChoiceField(label=_("Corrects the order"), queryset=Order.objects.none(), required=False)

    def __init__(
        self,
        *args: Any,
        years: QuerySet[AcademicYear],
        students: QuerySet[Student],
        classes: QuerySet[SchoolClass],
        signed: QuerySet[Order],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].queryset = years  # type: ignore[attr-defined]
        self.fields["students"].queryset = students  # type: ignore[attr-defined]
        self.fields["target_class"].queryset = classes  # type: ignore[attr-defined]
        self.fields["corrects"].queryset = signed  # type: ignore[attr-defined]
        self.fields["target_class"].label_from_instance = lambda c: f"{c.name} ({c.year.name})"  # type: ignore[attr-defined]

    def to_input(self) -> OrderInput:
        data = self.cleaned_data
        target = data["target_class"].pk if data.get("target_class") else None
        form, reason = data.get("study_form") or "", data.get("reason") or ""

        def line(student_id: int | None = None, new: dict[str, Any] | None = None) -> LineInput:
            return LineInput(
                student_id=student_id, new_student=new or {}, target_class_id=target, study_form=form, reason=reason
            )

        lines = [line(s.pk) for s in data.get("students") or []]
        if data.get("new_last_name") or data.get("new_first_name"):
            new = {
                "last_name": data.get("new_last_name") or "",
                "first_name": data.get("new_first_name") or "",
                "patronymic": data.get("new_patronymic") or "",
                "birth_date": data.get("new_birth_date"),
            }
            lines.append(line(None, new))
        return OrderInput(
            year_id=data["year"].pk,
            number=data["number"],
            date=data["date"],
            effective_on=data["effective_on"],
            kind=data["kind"],
            text=data["text"],
            lines=lines,
            corrects_id=data["corrects"].pk if data.get("corrects") else None,
        )

    @staticmethod
    def initial_for(order: Order | None, year: AcademicYear | None, number: int) -> dict[str, Any]:
        today = timezone.localdate()
        if order is None:
            return {"year": year, "number": number, "date": today, "effective_on": today}
        lines = list(order.lines.all())
        first = lines[0] if lines else None
        new: dict[str, Any] = next((ln.new_student for ln in lines if ln.student_id is None), {})
        return {
            "year": order.year,
            "number": order.number,
            "date": order.date,
            "effective_on": order.effective_on,
            "kind": order.kind,
            "text": order.text,
            "students": [ln.student_id for ln in lines if ln.student_id],
            "target_class": first.target_class_id if first else None,
            "study_form": first.study_form if first else "",
            "reason": first.reason if first else "",
            "new_last_name": new.get("last_name", ""),
            "new_first_name": new.get("first_name", ""),
            "new_patronymic": new.get("patronymic", ""),
            "new_birth_date": new.get("birth_date"),
            "corrects": order.corrects_id,
        }


class YearChoiceForm(forms.Form):
    year = forms.ModelChoiceField(label=_("School year"), queryset=AcademicYear.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *OrderKind.choices], required=False)

    def __init__(self, *args: Any, years: QuerySet[AcademicYear], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].queryset = years  # type: ignore[attr-defined]


class CloseYearForm(forms.Form):
    year = forms.ModelChoiceField(label=_("School year"), queryset=AcademicYear.objects.none())
    on = forms.DateField(label=_("Last day in its classes"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, years: QuerySet[AcademicYear], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].queryset = years  # type: ignore[attr-defined]
