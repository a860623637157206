"""Plan pages (R3.1-R3.3): the teacher's plans, one plan beside its lessons (import, copy, bind, confirm,
submit, publish), the shared base, the deputy's status per teacher with the deadline, and the programme
completion (R3.2)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from classbook.access import planning as scopes
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.journal import lessons as journal_lessons
from classbook.access.scopes import classes as school_classes
from classbook.access.scopes import directory, get_or_404
from classbook.core.collation import by_name
from classbook.core.errors import DomainError
from classbook.planning import files, queries, services
from classbook.planning.files import PlanFileError
from classbook.planning.forms import CopyForm, DeadlineForm, FilterForm, ImportForm, PublishForm, ReturnForm
from classbook.schools.models import AcademicYear, Subject, TeachingAssignment


def _require_plans(ctx: SchoolContext) -> None:
    if not scopes.may_open_plans(ctx):
        raise PermissionDenied


def _assignment(ctx: SchoolContext, assignment_id: int) -> TeachingAssignment:
    _require_plans(ctx)
    return get_or_404(scopes.plan_assignments(ctx), pk=assignment_id)


def _own_assignment(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> TeachingAssignment:
    assignment = _assignment(ctx, assignment_id)
    if not scopes.may_write_plan(ctx, assignment):
        raise PermissionDenied
    return assignment


def _current_year(ctx: SchoolContext) -> AcademicYear | None:
    return directory(ctx, AcademicYear).filter(is_current=True).order_by("-start").first()


def _source_label(plan: Any) -> str:
    if plan.is_shared:
        return _("Shared base: %(title)s (%(name)s)") % {"title": plan.title, "name": plan.created_by.short_name}
    a = plan.assignment
    return f"{a.subgroup or a.school_class} · {a.teacher.short_name} · {plan.year.name}"


@school_view(staff=True)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The plans the user may open this year: own (a teacher), own class's (a class teacher), all (deputies)."""
    _require_plans(ctx)
    year = _current_year(ctx)
    qs = scopes.plan_assignments(ctx)
    if year is not None:
        qs = qs.filter(year=year)
    due = queries.deadline(ctx.school.pk, year) if year else None
    today = timezone.localdate()
    status = queries.plan_status(qs, due=due or today, today=today)
    mine = [row for s in status for row in s.assignments if row["assignment"].teacher_id == ctx.user.pk]
    others = [row for s in status for row in s.assignments if row["assignment"].teacher_id != ctx.user.pk]
    return render(
        request,
        "planning/index.html",
        {
            "ctx": ctx,
            "year": year,
            "deadline": due,
            "mine": mine,
            "others": others,
            "reads_all": scopes.reads_all(ctx),
            "may_approve": scopes.may_approve(ctx),
        },
    )


def _detail_context(request: HttpRequest, ctx: SchoolContext, assignment: TeachingAssignment) -> dict[str, Any]:
    today = timezone.localdate()
    view = queries.plan_view(assignment, today)
    may_edit = scopes.may_write_plan(ctx, assignment)
    sources = [(p, _source_label(p)) for p in scopes.copy_sources(ctx, assignment)] if may_edit else []
    version = view.plan.version if view.plan else None
    return {
        "ctx": ctx,
        "assignment": assignment,
        "view": view,
        "plan": view.plan,
        "deadline": queries.deadline(ctx.school.pk, assignment.year),
        "may_edit": may_edit,
        "may_approve": scopes.may_approve(ctx),
        "import_form": ImportForm(initial={"version": version}),
        "copy_form": CopyForm(initial={"version": version}, sources=sources) if sources else None,
        "publish_form": PublishForm(),
        "return_form": ReturnForm(),
        "today": today,
    }


@school_view(staff=True)
def plan_detail(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _assignment(ctx, assignment_id)
    return render(request, "planning/plan.html", _detail_context(request, ctx, assignment))


def _back(ctx: SchoolContext, assignment: TeachingAssignment) -> HttpResponse:
    return redirect(reverse("planning:plan", kwargs={"school": ctx.school.slug, "assignment_id": assignment.pk}))


def _version(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


@require_POST
@school_view(staff=True, writes=True)
def import_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, ctx, assignment_id)
    form = ImportForm(request.POST, request.FILES)
    context = _detail_context(request, ctx, assignment)
    if not form.is_valid():
        context["import_form"] = form
        return render(request, "planning/plan.html", context, status=422)
    upload = form.cleaned_data["file"]
    try:
        services.import_plan_file(
            acting_user=ctx.user,
            assignment=assignment,
            filename=upload.name or "",
            content=upload.read(files.MAX_FILE_BYTES + 1),
            expected_version=_version(request.POST.get("version")),
        )
    except PlanFileError as exc:
        context.update(import_error=str(exc.message), import_rows=exc.errors)
        return render(request, "planning/plan.html", context, status=422)
    except DomainError as exc:
        context.update(import_error=str(exc.message))
        return render(request, "planning/plan.html", context, status=422)
    messages.success(request, _("The plan was imported and bound to the lessons."))
    return _back(ctx, assignment)


def _act(
    request: HttpRequest, ctx: SchoolContext, assignment: TeachingAssignment, action: Any, done: str
) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, done)
    return _back(ctx, assignment)


@require_POST
@school_view(staff=True, writes=True)
def copy_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, ctx, assignment_id)
    sources = scopes.copy_sources(ctx, assignment)
    form = CopyForm(request.POST, sources=[(p, "") for p in sources])
    if not form.is_valid():
        messages.error(request, _("Choose a plan to copy from."))
        return _back(ctx, assignment)
    source = get_or_404(sources, pk=form.cleaned_data["source"])
    return _act(
        request,
        ctx,
        assignment,
        lambda: services.copy_plan(
            acting_user=ctx.user,
            assignment=assignment,
            source=source,
            expected_version=_version(request.POST.get("version")),
        ),
        _("The plan was copied and bound to the lessons."),
    )


@require_POST
@school_view(staff=True, writes=True)
def bind_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, ctx, assignment_id)
    return _act(
        request,
        ctx,
        assignment,
        lambda: services.bind_plan(acting_user=ctx.user, assignment=assignment),
        _("The plan was bound to the lessons again. Topics already in the journal were kept."),
    )


@require_POST
@school_view(staff=True, writes=True)
def confirm_topics(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    """Confirm the suggested topics of the chosen lessons (or of every given lesson still unconfirmed)."""
    assignment = _assignment(ctx, assignment_id)
    ids = [int(v) for v in request.POST.getlist("lesson") if v.isascii() and v.isdigit() and len(v) < 12]
    qs = journal_lessons(ctx).filter(assignment=assignment).select_related("assignment", "school")
    if request.POST.get("all"):
        ids = queries.plan_view(assignment, timezone.localdate()).to_confirm
    chosen = list(qs.filter(pk__in=ids).order_by("date", "number", "pk"))
    if not chosen:
        messages.error(request, _("Choose the lessons whose topics you confirm."))
        return _back(ctx, assignment)
    try:
        count = services.confirm_topics(acting_user=ctx.user, lessons=chosen)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Topics confirmed in the journal: %(count)d.") % {"count": count})
    return _back(ctx, assignment)


@require_POST
@school_view(staff=True, writes=True)
def submit_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, ctx, assignment_id)
    return _act(
        request,
        ctx,
        assignment,
        lambda: services.submit_plan(acting_user=ctx.user, assignment=assignment),
        _("The plan was submitted for approval."),
    )


@require_POST
@school_view(staff=True, writes=True)
def publish_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _own_assignment(request, ctx, assignment_id)
    form = PublishForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    return _act(
        request,
        ctx,
        assignment,
        lambda: services.publish_plan(acting_user=ctx.user, assignment=assignment, title=title),
        _("A copy of the plan is now in the shared base."),
    )


@require_POST
@school_view(rule=scopes.may_approve)
def approve_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _assignment(ctx, assignment_id)
    plan = get_or_404(scopes.plans(ctx), assignment=assignment)
    return _act(
        request,
        ctx,
        assignment,
        lambda: services.approve_plan(acting_user=ctx.user, plan=plan),
        _("The plan was approved."),
    )


@require_POST
@school_view(rule=scopes.may_approve)
def return_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> HttpResponse:
    assignment = _assignment(ctx, assignment_id)
    plan = get_or_404(scopes.plans(ctx), assignment=assignment)
    form = ReturnForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        ctx,
        assignment,
        lambda: services.return_plan(acting_user=ctx.user, plan=plan, note=note),
        _("The plan was returned to the teacher."),
    )


def _file_response(rows: list[list[str]], fmt: str, name: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(
            files.to_xlsx(rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    elif fmt == "csv":
        response = HttpResponse(files.to_csv(rows), content_type="text/csv; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@school_view(staff=True)
def template_file(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    _require_plans(ctx)
    return _file_response(files.template_rows(), fmt, "plan-template")


@school_view(staff=True)
def export_plan(request: HttpRequest, ctx: SchoolContext, assignment_id: int, fmt: str) -> HttpResponse:
    assignment = _assignment(ctx, assignment_id)
    view = queries.plan_view(assignment, timezone.localdate())
    return _file_response(files.topics_table(view.topics), fmt, f"plan-{assignment.pk}")


@school_view(staff=True)
def base(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's shared base of plans by subject and year level (R3.3)."""
    _require_plans(ctx)
    plans = scopes.shared_plans(ctx).order_by("subject__name", "year_level__number", "-created_at")
    return render(request, "planning/base.html", {"ctx": ctx, "plans": plans})


@school_view(staff=True)
def base_plan(request: HttpRequest, ctx: SchoolContext, plan_id: int) -> HttpResponse:
    _require_plans(ctx)
    plan = get_or_404(scopes.shared_plans(ctx), pk=plan_id)
    may_withdraw = scopes.may_withdraw_shared(ctx, plan)
    return render(
        request,
        "planning/base_plan.html",
        {"ctx": ctx, "plan": plan, "topics": plan.topics.order_by("position"), "may_withdraw": may_withdraw},
    )


@require_POST
@school_view(staff=True, writes=True)
def withdraw(request: HttpRequest, ctx: SchoolContext, plan_id: int) -> HttpResponse:
    _require_plans(ctx)
    plan = get_or_404(scopes.shared_plans(ctx), pk=plan_id)
    try:
        services.withdraw_shared(acting_user=ctx.user, plan=plan)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(reverse("planning:base_plan", kwargs={"school": ctx.school.slug, "plan_id": plan.pk}))
    messages.success(request, _("The plan was taken out of the shared base."))
    return redirect(reverse("planning:base", kwargs={"school": ctx.school.slug}))


@school_view(rule=scopes.reads_all)
def status(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Who handed in their plans, who is late, who is missing; the deadline (R3.1)."""
    year = _current_year(ctx)
    if year is None:
        raise Http404
    form = DeadlineForm(request.POST or None)
    if request.method == "POST":
        if not scopes.may_approve(ctx):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.set_deadline(acting_user=ctx.user, year=year, deadline=form.cleaned_data["deadline"])
            except DomainError as exc:
                form.add_error("deadline", str(exc.message))
            else:
                messages.success(request, _("The deadline was saved."))
                return redirect(reverse("planning:status", kwargs={"school": ctx.school.slug}))
    due = queries.deadline(ctx.school.pk, year)
    if not form.is_bound:
        form = DeadlineForm(initial={"deadline": due})
    today = timezone.localdate()
    rows = queries.plan_status(scopes.plan_assignments(ctx).filter(year=year), due=due, today=today)
    return render(
        request,
        "planning/status.html",
        {
            "ctx": ctx,
            "year": year,
            "deadline": due,
            "overdue": today > due,
            "rows": rows,
            "form": form,
            "may_approve": scopes.may_approve(ctx),
            "late_teachers": sum(1 for r in rows if r.is_late),
        },
        status=422 if form.errors else 200,
    )


@school_view(staff=True)
def completion(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Programme completion (R3.2): planned vs conducted hours, by lesson type, with the gaps."""
    _require_plans(ctx)
    year = _current_year(ctx)
    qs = scopes.plan_assignments(ctx)
    if year is not None:
        qs = qs.filter(year=year)
    reads_all = scopes.reads_all(ctx)
    form = FilterForm(
        request.GET or None,
        classes=school_classes(ctx).filter(year=year).order_by("year_level__number", "name") if reads_all else [],
        teachers=by_name({a.teacher for a in qs}) if reads_all else [],
        subjects=directory(ctx, Subject).order_by("name") if reads_all else [],
    )
    as_of = timezone.localdate()
    if form.is_bound and not form.is_valid():
        # An unknown class, teacher or subject: say so instead of showing every journal.
        return render(
            request,
            "planning/completion.html",
            {
                "ctx": ctx,
                "rows": [],
                "totals": queries.totals([]),
                "form": form,
                "as_of": as_of,
                "reads_all": reads_all,
                "types": queries.COUNTED_TYPES,
            },
            status=422,
        )
    if form.is_valid():
        data = form.cleaned_data
        if data.get("school_class"):
            qs = qs.filter(school_class_id=data["school_class"])
        if data.get("teacher"):
            qs = qs.filter(teacher_id=data["teacher"])
        if data.get("subject"):
            qs = qs.filter(subject_id=data["subject"])
        as_of = data.get("as_of") or as_of
    rows = queries.completion(qs, as_of=as_of)
    only_gaps = request.GET.get("gaps") == "1"
    shown = [r for r in rows if r.has_gap] if only_gaps else rows
    return render(
        request,
        "planning/completion.html",
        {
            "ctx": ctx,
            "rows": shown,
            "totals": queries.totals(rows),
            "form": form,
            "as_of": as_of,
            "only_gaps": only_gaps,
            "reads_all": reads_all,
            "types": queries.COUNTED_TYPES,
        },
    )
