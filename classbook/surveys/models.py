"""Surveys of the school's people (R9.3): the May satisfaction survey of the administration, teachers,
students and parents, and any other.

Anonymity is a property of the tables, not of the pages (docs/surveys.md "Anonymity"):

- the answer tables (``Response``, ``Answer``) have no foreign key to a person, no user id and no
  timestamp at all, and random UUID keys, so neither a column nor the order of the keys joins them to
  the participation rows, the audit log or the session log;
- "this person has answered" is a ``Participation`` row (survey, user). For a named survey it points to
  the person's response; for an anonymous one it cannot (a check constraint on the copied flag).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CLOSED = "closed", pgettext_lazy("survey", "Closed")


class Audience(models.TextChoices):
    """Who a survey asks, by role. A person with several roles answers once, as the first group that fits."""

    ADMINISTRATION = "administration", _("Administration")
    TEACHERS = "teachers", _("Teachers")
    STUDENTS = "students", _("Students")
    PARENTS = "parents", _("Parents")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    SCALE = "scale", _("Scale")
    TEXT = "text", _("Free text")


class Survey(SchoolOwned):
    """A survey: its questions are frozen once it is published; it takes answers between its days."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    opens_on = models.DateField(_("open from"))
    closes_on = models.DateField(_("open until"))
    anonymous = models.BooleanField(_("anonymous"), default=True)
    for_administration = models.BooleanField(_("administration"), default=False)
    for_teachers = models.BooleanField(_("teachers"), default=False)
    for_students = models.BooleanField(_("students"), default=False)
    for_parents = models.BooleanField(_("parents"), default=False)
    # Empty: every class. Otherwise students and parents of these classes and their teachers.
    classes = models.ManyToManyField("schools.SchoolClass", verbose_name=_("classes"), blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-opens_on", "-id"]
        indexes = [models.Index(fields=["school", "status", "closes_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(opens_on__lte=F("closes_on")), name="survey_days_in_order"),
            models.CheckConstraint(condition=~Q(title=""), name="survey_has_title"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audiences(self) -> list[str]:
        flags = {
            Audience.ADMINISTRATION: self.for_administration,
            Audience.TEACHERS: self.for_teachers,
            Audience.STUDENTS: self.for_students,
            Audience.PARENTS: self.for_parents,
        }
        return [str(a) for a, on in flags.items() if on]

    @property
    def is_draft(self) -> bool:
        return self.status == SurveyStatus.DRAFT


class Question(SchoolOwned):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=500)
    required = models.BooleanField(_("required"), default=True)
    scale_max = models.PositiveSmallIntegerField(_("scale up to"), default=5)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position", "school"], name="question_unique_position"),
            models.CheckConstraint(condition=Q(scale_max__in=[5, 10]), name="question_scale_5_or_10"),
            models.CheckConstraint(condition=~Q(text=""), name="question_has_text"),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def has_choices(self) -> bool:
        return self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Choice(SchoolOwned):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("answer option"), max_length=200)

    class Meta:
        verbose_name = _("answer option")
        verbose_name_plural = _("answer options")
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position", "school"], name="choice_unique_position")
        ]

    def __str__(self) -> str:
        return self.text


class Response(SchoolOwned):
    """One person's answers to one survey. No person, no time: see the module's docstring.

    ``group`` and ``school_class`` say which part of the audience answered, for results by role and by
    class; for an anonymous survey those are shown only for groups of ``MIN_GROUP`` or more (queries.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    group = models.CharField(_("group"), max_length=16, choices=Audience.choices)
    school_class = models.ForeignKey(
        "schools.SchoolClass", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [models.Index(fields=["survey", "group"]), models.Index(fields=["survey", "school_class"])]


class Answer(SchoolOwned):
    """The answer to one question: a chosen option (one row per option of a multiple choice), a number on
    the scale or a text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    choice = models.ForeignKey(Choice, null=True, blank=True, on_delete=models.CASCADE, related_name="answers")
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True, max_length=2000)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [models.Index(fields=["question", "choice"])]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question", "school"],
                condition=Q(choice__isnull=True),
                name="answer_one_per_question",
            ),
            models.UniqueConstraint(fields=["response", "choice", "school"], name="answer_choice_once"),
        ]


class Participation(SchoolOwned):
    """ "This person has answered this survey": one row per person, enforced by the database.

    ``response`` is set only for a named survey (``anonymous`` is copied from the survey, and a check
    constraint refuses a link for an anonymous one). No timestamp, and a random key: the row says who, not when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    anonymous = models.BooleanField()
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="participation"
    )

    class Meta:
        verbose_name = _("survey participation")
        verbose_name_plural = _("survey participations")
        constraints = [
            models.UniqueConstraint(fields=["survey", "user", "school"], name="participation_once_per_person"),
            models.CheckConstraint(
                condition=Q(anonymous=False) | Q(response__isnull=True), name="participation_anonymous_unlinked"
            ),
        ]
