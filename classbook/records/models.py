"""The school's book of orders on the movement of students (R7.5, R7.2).

An order is drafted by the secretary and signed by the director. Only a signed order changes enrolments, on
its effective day (``services.apply_order``); a signed order is never edited — a correcting order is issued.
Words: an *order* (наказ / приказ) has *lines*, one per student it names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned


class OrderKind(models.TextChoices):
    ARRIVAL = "arrival", pgettext_lazy("order kind", "Arrival")
    DEPARTURE = "departure", pgettext_lazy("order kind", "Departure")
    TRANSFER = "transfer", pgettext_lazy("order kind", "Transfer to another class")
    STUDY_FORM = "study_form", pgettext_lazy("order kind", "Transfer to individual or family form")
    HELD_BACK = "held_back", pgettext_lazy("order kind", "Held back")
    GRADUATION = "graduation", pgettext_lazy("order kind", "Graduation")
    EXEMPTION = "exemption", pgettext_lazy("order kind", "Exemption from attestation")
    YEAR_END = "year_end", pgettext_lazy("order kind", "End of the school year")


# Kinds whose lines name a class the student goes to.
KINDS_WITH_CLASS = frozenset({OrderKind.ARRIVAL, OrderKind.TRANSFER, OrderKind.HELD_BACK})
# Kinds whose lines need a reason (departure: where to; exemption: why; study form: which form).
KINDS_WITH_REASON = frozenset({OrderKind.DEPARTURE, OrderKind.EXEMPTION, OrderKind.STUDY_FORM})


class StudyForm(models.TextChoices):
    INDIVIDUAL = "individual", _("individual form")
    FAMILY = "family", _("family (home) form")
    DAYTIME = "daytime", _("daytime form")


class Order(SchoolOwned):
    """One order of the book of orders on the movement of students."""

    year = models.ForeignKey(
        "schools.AcademicYear", verbose_name=_("academic year"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.PositiveIntegerField(_("number"))
    date = models.DateField(_("date of the order"))
    effective_on = models.DateField(_("takes effect on"))
    kind = models.CharField(_("kind"), max_length=12, choices=OrderKind.choices)
    text = models.TextField(_("text"), max_length=4000)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects the order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    # When the enrolment changes were made (on the effective day, or at signing when that day has come).
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-date", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "number"], name="order_unique_number"),
            models.CheckConstraint(condition=Q(effective_on__gte=models.F("date")), name="order_effective_after_date"),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, applied_at__isnull=True) | Q(signed_at__isnull=False),
                name="order_applied_only_signed",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "year", "date"]),
            models.Index(fields=["school", "signed_at", "applied_at", "effective_on"], name="order_due"),
        ]

    def __str__(self) -> str:
        return f"№ {self.number} — {self.date:%d.%m.%Y}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def reference(self) -> str:
        """How books cite the order: "№ 12 від 01.09.2026" (in the reader's language)."""
        return _("No. %(number)s of %(date)s") % {"number": self.number, "date": self.date.strftime("%d.%m.%Y")}


class OrderLine(SchoolOwned):
    """A student named in an order, with what the order does to them.

    An arrival of a new student names them by ``new_student`` (names, birth date) until the order is applied,
    which creates the student and fills ``student``.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    student = models.ForeignKey(
        "people.Student", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    new_student = models.JSONField(_("new student"), default=dict, blank=True)
    target_class = models.ForeignKey(
        "schools.SchoolClass", verbose_name=_("to class"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    study_form = models.CharField(_("study form"), max_length=12, choices=StudyForm.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("line of an order")
        verbose_name_plural = _("lines of orders")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "order", "student"],
                condition=Q(student__isnull=False),
                name="orderline_one_per_student",
            )
        ]
        indexes = [models.Index(fields=["school", "student"])]

    @property
    def name(self) -> str:
        if self.student is not None:
            return self.student.user.full_name
        data = self.new_student
        return " ".join(str(data.get(k) or "") for k in ("last_name", "first_name", "patronymic")).strip()


# What the pages and the API hand to ``services.create_order`` / ``update_order`` (plain data, checked there).


@dataclass
class LineInput:
    """A student named in an order: an existing student (``student_id``) or, for an arrival, a new one."""

    student_id: int | None = None
    new_student: dict[str, Any] = field(default_factory=dict)
    target_class_id: int | None = None
    study_form: str = ""
    reason: str = ""


@dataclass
class OrderInput:
    year_id: int
    number: int
    date: dt.date
    effective_on: dt.date
    kind: str
    text: str
    lines: list[LineInput] = field(default_factory=list)
    corrects_id: int | None = None
