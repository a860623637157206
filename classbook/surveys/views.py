"""Survey pages under ``/s/<school>/surveys/`` (R9.3).

Thin: surveys come from ``classbook.access.surveys`` scopes, writes go through ``surveys.services``,
results from ``surveys.queries``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access import surveys as rules
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import classes as visible_classes
from classbook.access.scopes import get_or_404
from classbook.core import exports
from classbook.core.errors import DomainError
from classbook.core.params import whole_number, whole_numbers
from classbook.reports import charts
from classbook.surveys import queries, services
from classbook.surveys.forms import QuestionForm, SurveyForm
from classbook.surveys.models import Audience, QuestionKind, Survey, SurveyStatus

BAR_COLOUR = "#2b6cb0"


def _back(ctx: SchoolContext, survey: Survey) -> HttpResponse:
    return redirect("surveys:detail", school=ctx.school.slug, survey_id=survey.pk)  # type: ignore[return-value]


@require_GET
@school_view(rule=rules.may_open_surveys)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Surveys open for me (answered or not) and, for the administration, every survey of the school."""
    open_list = list(rules.open_surveys(ctx).order_by("closes_on", "pk"))
    answered = queries.answered_survey_ids(ctx, [s.pk for s in open_list])
    managed = list(rules.managed_surveys(ctx)[:200]) if rules.may_read_results(ctx) else []
    counts = queries.respondent_count([s.pk for s in managed]) if managed else {}
    return render(
        request,
        "surveys/index.html",
        {
            "ctx": ctx,
            "open_list": [(s, s.pk in answered) for s in open_list],
            "managed": [(s, counts.get(s.pk, 0)) for s in managed],
            "may_manage": rules.may_manage_surveys(ctx),
        },
    )


def _form_values(form: SurveyForm) -> dict[str, Any]:
    d = form.cleaned_data
    return {
        "title": d["title"],
        "description": d["description"],
        "opens_on": d["opens_on"],
        "closes_on": d["closes_on"],
        "anonymous": d["anonymous"],
        "audiences": d["audiences"],
        "classes": list(d["classes"]),
    }


def _save_form(form: SurveyForm, save: Any) -> Survey | None:
    if not form.is_valid():
        return None
    try:
        survey: Survey = save(**_form_values(form))
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return None
    return survey


@school_view(rule=rules.may_manage_surveys)
def new(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = SurveyForm(request.POST or None, classes=visible_classes(ctx))
    if request.method == "POST":
        survey = _save_form(form, lambda **v: services.create_survey(acting_user=ctx.user, school=ctx.school, **v))
        if survey is not None:
            messages.success(request, _("The survey was created; add its questions."))
            return _back(ctx, survey)
    else:
        today = timezone.localdate()
        form.initial = {"opens_on": today, "closes_on": today, "anonymous": True}
    return render(request, "surveys/form.html", {"ctx": ctx, "form": form})


@require_POST
@school_view(rule=rules.may_manage_surveys)
def may_template(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    survey = services.create_may_survey(acting_user=ctx.user, school=ctx.school)
    messages.success(request, _("The May satisfaction survey was created as a draft; check it and publish it."))
    return _back(ctx, survey)


@school_view(rule=rules.may_read_results)
def detail(request: HttpRequest, ctx: SchoolContext, survey_id: int) -> HttpResponse:
    """The survey, its questions and, in draft, the forms that change them."""
    survey = get_or_404(rules.managed_surveys(ctx), pk=survey_id)
    may_edit = rules.may_manage_surveys(ctx) and survey.is_draft
    form = SurveyForm(request.POST or None, classes=visible_classes(ctx)) if may_edit else None
    if form is not None and request.method == "POST":
        saved = _save_form(form, lambda **v: services.update_survey(acting_user=ctx.user, survey=survey, **v))
        if saved is not None:
            messages.success(request, _("The survey was saved."))
            return _back(ctx, saved)
    elif form is not None:
        form.initial = {
            "title": survey.title,
            "description": survey.description,
            "opens_on": survey.opens_on,
            "closes_on": survey.closes_on,
            "anonymous": survey.anonymous,
            "audiences": survey.audiences,
            "classes": list(survey.classes.all()),
        }
    return render(
        request,
        "surveys/detail.html",
        {
            "ctx": ctx,
            "survey": survey,
            "questions": list(survey.questions.prefetch_related("choices").order_by("position")),
            "survey_classes": list(survey.classes.order_by("name")),
            "form": form,
            "question_form": QuestionForm() if may_edit else None,
            "may_manage": rules.may_manage_surveys(ctx),
            "respondents": queries.respondent_count([survey.pk]).get(survey.pk, 0),
        },
    )


def _run(request: HttpRequest, action: Any, success: str) -> None:
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, success)


@require_POST
@school_view(rule=rules.may_manage_surveys)
def add_question(request: HttpRequest, ctx: SchoolContext, survey_id: int) -> HttpResponse:
    survey = get_or_404(rules.managed_surveys(ctx), pk=survey_id)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Check the question: %(errors)s")
            % {"errors": "; ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
        return _back(ctx, survey)
    d = form.cleaned_data
    _run(
        request,
        lambda: services.add_question(
            acting_user=ctx.user,
            survey=survey,
            kind=d["kind"],
            text=d["text"],
            required=d["required"],
            scale_max=d["scale_max"] or 5,
            choices=d["choices"].splitlines(),
        ),
        _("The question was added."),
    )
    return _back(ctx, survey)


@require_POST
@school_view(rule=rules.may_manage_surveys)
def question_action(request: HttpRequest, ctx: SchoolContext, question_id: int) -> HttpResponse:
    """Delete a question or move it up or down (``action`` in the form)."""
    question = get_or_404(rules.managed_questions(ctx), pk=question_id)
    action = request.POST.get("action")
    if action == "delete":
        _run(
            request,
            lambda: services.delete_question(acting_user=ctx.user, question=question),
            _("The question was deleted."),
        )
    elif action in ("up", "down"):
        _run(
            request,
            lambda: services.move_question(acting_user=ctx.user, question=question, up=action == "up"),
            _("The order was changed."),
        )
    return _back(ctx, question.survey)


@require_POST
@school_view(rule=rules.may_manage_surveys)
def change_status(request: HttpRequest, ctx: SchoolContext, survey_id: int) -> HttpResponse:
    """Publish, close or delete (a draft) a survey: ``action`` in the form."""
    survey = get_or_404(rules.managed_surveys(ctx), pk=survey_id)
    action = request.POST.get("action")
    if action == "publish":
        _run(
            request,
            lambda: services.publish_survey(acting_user=ctx.user, survey=survey),
            _("The survey was published."),
        )
    elif action == "close":
        _run(request, lambda: services.close_survey(acting_user=ctx.user, survey=survey), _("The survey was closed."))
    elif action == "delete":
        try:
            services.delete_survey(acting_user=ctx.user, survey=survey)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The survey was deleted."))
            return redirect("surveys:index", school=ctx.school.slug)  # type: ignore[return-value]
    return _back(ctx, survey)


def _posted_answers(survey: Survey, post: Any) -> dict[int, services.AnswerValue]:
    """The form's values by question: option ids, a number, a text; unreadable numbers as None (refused later
    only when the question is required)."""
    out: dict[int, services.AnswerValue] = {}
    for q in survey.questions.all():
        name = f"q{q.pk}"
        if q.kind == QuestionKind.TEXT:
            out[q.pk] = post.get(name, "")
            continue
        values = post.getlist(name) if q.kind == QuestionKind.MULTIPLE else [post.get(name, "")]
        numbers = whole_numbers([v.strip() for v in values])
        if q.kind == QuestionKind.SCALE:
            out[q.pk] = numbers[0] if numbers else None
        else:
            out[q.pk] = numbers
    return out


@school_view(rule=rules.may_open_surveys)
def answer(request: HttpRequest, ctx: SchoolContext, survey_id: int) -> HttpResponse:
    """The form of an open survey; one answer per person."""
    survey = get_or_404(rules.open_surveys(ctx), pk=survey_id)
    done = survey.pk in queries.answered_survey_ids(ctx, [survey.pk])
    errors: dict[str, str] = {}
    posted: Any = {}
    if request.method == "POST" and not done:
        posted = request.POST
        try:
            services.submit_response(ctx=ctx, survey=survey, answers=_posted_answers(survey, request.POST))
        except DomainError as exc:
            errors[exc.field or "__all__"] = str(exc.message)
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Thank you! Your answers were recorded."))
            return redirect("surveys:index", school=ctx.school.slug)  # type: ignore[return-value]
    questions = list(survey.questions.prefetch_related("choices").order_by("position"))
    return render(
        request,
        "surveys/answer.html",
        {
            "ctx": ctx,
            "survey": survey,
            "done": done,
            "questions": [_field(q, posted, errors) for q in questions],
            "error": errors.get("__all__"),
        },
    )


def _field(q: Any, posted: Any, errors: dict[str, str]) -> dict[str, Any]:
    name = f"q{q.pk}"
    chosen = set(posted.getlist(name)) if hasattr(posted, "getlist") else set()
    return {
        "q": q,
        "name": name,
        "error": errors.get(name),
        "chosen": chosen,
        "text": posted.get(name, "") if posted else "",
        "scale": [str(n) for n in range(1, q.scale_max + 1)],
    }


def _slice(request: HttpRequest, ctx: SchoolContext) -> tuple[str, int | None]:
    group = request.GET.get("group", "")
    raw = request.GET.get("class", "")
    class_id = whole_number(raw)
    return (group if group in Audience.values else ""), class_id


@require_GET
@school_view(rule=rules.may_read_results)
def results(request: HttpRequest, ctx: SchoolContext, survey_id: int) -> HttpResponseBase:
    """Counts, per cents and charts per question, for the whole survey or one group or class; XLSX and CSV."""
    survey = get_or_404(rules.managed_surveys(ctx), pk=survey_id)
    group, class_id = _slice(request, ctx)
    res = queries.results(survey, group=group, class_id=class_id)
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        if res.hidden:
            messages.error(
                request,
                _("Fewer than %(count)s people answered here: the results are hidden.") % {"count": queries.MIN_GROUP},
            )
            return redirect(request.path)
        head, rows = queries.table(res)
        return exports.export(fmt, _("Survey results"), head, rows, f"survey-{survey.pk}")
    return render(
        request,
        "surveys/results.html",
        {
            "ctx": ctx,
            "survey": survey,
            "res": res,
            "group": group,
            "class_id": class_id,
            "min_group": queries.MIN_GROUP,
            "items": [(qr, _chart(qr) if qr.options else "") for qr in res.questions],
            "is_published": survey.status != SurveyStatus.DRAFT,
        },
    )


def _chart(qr: queries.QuestionResult) -> str:
    series = [charts.Series("p", _("per cent of those who answered"), BAR_COLOUR)]
    rows: list[tuple[str, dict[str, Decimal | None]]] = [
        (f"{o.label} ({o.count})", {"p": o.percent}) for o in qr.options
    ]
    return charts.bars(f"chart-q{qr.question.pk}", qr.question.text, series, rows)
