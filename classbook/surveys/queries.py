"""Read models of surveys: the respondent's list and the results (R9.3), one module for page, exports and API.

The small-group rule (docs/surveys.md): for an anonymous survey a slice of the results (the whole survey,
one audience group, one class) is shown only when at least ``MIN_GROUP`` people answered in it, so a
count or a free text never points to one person; the sizes of smaller classes are shown as "fewer than".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, QuerySet

from classbook.access.context import SchoolContext
from classbook.surveys.models import Answer, Audience, Participation, Question, QuestionKind, Response, Survey

MIN_GROUP = 5


@dataclass
class OptionResult:
    label: str
    count: int
    percent: Decimal


@dataclass
class QuestionResult:
    question: Question
    answered: int
    options: list[OptionResult] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    average: Decimal | None = None


@dataclass
class SliceSize:
    key: str
    label: str
    count: int | None  # None: fewer than MIN_GROUP in an anonymous survey


@dataclass
class Results:
    survey: Survey
    respondents: int
    hidden: bool  # the small-group rule hides this slice
    questions: list[QuestionResult]
    groups: list[SliceSize]
    classes: list[SliceSize]


def _percent(count: int, total: int) -> Decimal:
    if not total:
        return Decimal(0)
    return (Decimal(100) * count / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _sizes(survey: Survey, rows: list[tuple[Any, int]], labels: dict[Any, str]) -> list[SliceSize]:
    def shown(n: int) -> int | None:
        return None if survey.anonymous and n < MIN_GROUP else n

    return [SliceSize(str(key), labels.get(key, str(key)), shown(n)) for key, n in rows if key is not None]


def results(survey: Survey, *, group: str = "", class_id: int | None = None) -> Results:
    """Counts and percentages per question for the whole survey or one slice (a group, a class). 5 queries."""
    base: QuerySet[Response] = Response.objects.filter(survey=survey)
    if group:
        base = base.filter(group=group)
    if class_id:
        base = base.filter(school_class_id=class_id)
    group_rows = list(
        Response.objects.filter(survey=survey).values_list("group").annotate(n=Count("pk")).order_by("group")
    )
    class_rows = list(
        Response.objects.filter(survey=survey, school_class__isnull=False)
        .values_list("school_class_id", "school_class__name")
        .annotate(n=Count("pk"))
        .order_by("school_class__name")
    )
    respondents = base.count()
    hidden = survey.anonymous and respondents < MIN_GROUP
    questions = list(survey.questions.prefetch_related("choices").order_by("position"))
    out = Results(
        survey=survey,
        respondents=respondents,
        hidden=hidden,
        questions=[],
        groups=_sizes(survey, [(g, n) for g, n in group_rows], {str(k): str(v) for k, v in Audience.choices}),
        classes=_sizes(survey, [(c, n) for c, _name, n in class_rows], {c: name for c, name, _n in class_rows}),
    )
    if not hidden:
        out.questions = _question_results(questions, base)
    return out


def _question_results(questions: list[Question], responses: QuerySet[Response]) -> list[QuestionResult]:
    answers = Answer.objects.filter(response__in=responses)
    counts = Counter(
        {
            (q, c, n): k
            for q, c, n, k in answers.values_list("question_id", "choice_id", "number")
            .annotate(k=Count("pk"))
            .order_by()
        }
    )
    answered = dict(answers.values_list("question_id").annotate(k=Count("response_id", distinct=True)).order_by())
    texts: dict[int, list[str]] = {}
    for qid, text in answers.exclude(text="").order_by("question_id", "text").values_list("question_id", "text"):
        texts.setdefault(qid, []).append(text)
    return [_one(q, counts, answered.get(q.pk, 0), texts.get(q.pk, [])) for q in questions]


def _one(q: Question, counts: Counter[tuple[Any, Any, Any]], answered: int, texts: list[str]) -> QuestionResult:
    result = QuestionResult(question=q, answered=answered, texts=texts)
    if q.has_choices:
        for c in q.choices.all():
            n = counts.get((q.pk, c.pk, None), 0)
            result.options.append(OptionResult(c.text, n, _percent(n, answered)))
    elif q.kind == QuestionKind.SCALE:
        total = 0
        for value in range(1, q.scale_max + 1):
            n = counts.get((q.pk, None, value), 0)
            total += n * value
            result.options.append(OptionResult(str(value), n, _percent(n, answered)))
        if answered:
            result.average = (Decimal(total) / answered).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return result


def answered_survey_ids(ctx: SchoolContext, survey_ids: list[int]) -> set[int]:
    """Which of these surveys the person has answered (their participation rows: who, never what)."""
    return set(
        Participation.objects.filter(user=ctx.user, survey_id__in=survey_ids).values_list("survey_id", flat=True)
    )


def respondent_count(survey_ids: list[int]) -> dict[int, int]:
    """Number of people who answered each survey (a participation is one person)."""
    rows = Participation.objects.filter(survey_id__in=survey_ids).values_list("survey_id").annotate(n=Count("pk"))
    return dict(rows.order_by())


def table(res: Results) -> tuple[list[str], list[list[object]]]:
    """The results as one table for XLSX and CSV: a line per option (or scale value), then the free texts."""
    from django.utils.translation import gettext as _

    head = [_("No."), _("Question"), _("Answer"), _("Count"), _("Per cent")]
    rows: list[list[object]] = []
    for qr in res.questions:
        q = qr.question
        for o in qr.options:
            rows.append([q.position, q.text, o.label, o.count, float(o.percent)])
        if qr.average is not None:
            rows.append([q.position, q.text, _("average"), qr.answered, float(qr.average)])
        for t in qr.texts:
            rows.append([q.position, q.text, t, "", ""])
    return head, rows
