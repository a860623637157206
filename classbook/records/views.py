"""Pages of the record books (R7.2, R7.3, R7.5): the book of orders, personal files, the alphabetical book.

Thin: who may is a rule of ``classbook.access.records``; rows come from scopes through ``records.queries``;
every change goes through ``records.services``. A refused rule is a translated message and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from classbook.access import records as rules
from classbook.access import scopes
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core.errors import DomainError
from classbook.records import documents, forms, queries, services
from classbook.records.models import Order


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _to_order(ctx: SchoolContext, order: Order) -> HttpResponse:
    return redirect("records:order", school=ctx.school.slug, order_id=order.pk)


# --- the book of orders (R7.5) -------------------------------------------------------------------------------


@school_view(rule=rules.may_read_orders)
def order_list(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    years = queries.years(ctx)
    form = forms.YearChoiceForm(request.GET or None, years=years)
    year, kind = queries.default_year(ctx), ""
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"] or year
        kind = form.cleaned_data["kind"] or ""
    context: dict[str, Any] = {
        "form": form,
        "year": year,
        "orders": queries.order_list(ctx, year=year, kind=kind),
        "may_draft": rules.may_draft_orders(ctx),
    }
    if rules.may_close_years(ctx):
        context["close_form"] = forms.CloseYearForm(years=years)
    return render(request, "records/order_list.html", context)


def _order_form(ctx: SchoolContext, data: Any = None, initial: Any = None) -> forms.OrderForm:
    return forms.OrderForm(
        data,
        initial=initial,
        years=queries.years(ctx),
        students=queries.students_for_orders(ctx),
        classes=queries.classes_for_orders(ctx),
        signed=rules.orders(ctx).filter(signed_at__isnull=False).order_by("-date", "-number"),
    )


def _save(request: HttpRequest, ctx: SchoolContext, form: forms.OrderForm, order: Order | None) -> Order | None:
    if not form.is_valid():
        return None
    try:
        if order is None:
            return services.create_order(acting_user=ctx.user, school=ctx.school, data=form.to_input())
        return services.update_order(acting_user=ctx.user, order=order, data=form.to_input())
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return None


@school_view(rule=rules.may_draft_orders)
def order_new(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    year = queries.default_year(ctx)
    number = services.suggested_number(ctx.school, year) if year else 1
    form = _order_form(ctx, request.POST or None, forms.OrderForm.initial_for(None, year, number))
    if request.method == "POST":
        order = _save(request, ctx, form, None)
        if order is not None:
            messages.success(request, _("The draft order is saved. The director signs it."))
            return _to_order(ctx, order)
    return render(request, "records/order_form.html", {"form": form, "order": None, "suggested": number})


@school_view(rule=rules.may_read_orders)
def order_detail(request: HttpRequest, ctx: SchoolContext, order_id: int) -> HttpResponse:
    order = queries.order_detail(ctx, order_id)
    context = {
        "order": order,
        "may_edit": rules.may_draft_orders(ctx) and not order.is_signed,
        "may_sign": rules.may_sign_orders(ctx) and not order.is_signed,
        "corrections": list(rules.orders(ctx).filter(corrects=order).order_by("date", "number")),
    }
    return render(request, "records/order_detail.html", context)


@school_view(rule=rules.may_draft_orders)
def order_edit(request: HttpRequest, ctx: SchoolContext, order_id: int) -> HttpResponse:
    order = queries.order_detail(ctx, order_id)
    if order.is_signed:
        messages.error(request, _("A signed order cannot be changed; issue a correcting order instead."))
        return _to_order(ctx, order)
    form = _order_form(ctx, request.POST or None, forms.OrderForm.initial_for(order, order.year, order.number))
    if request.method == "POST":
        saved = _save(request, ctx, form, order)
        if saved is not None:
            messages.success(request, _("Saved."))
            return _to_order(ctx, saved)
    return render(request, "records/order_form.html", {"form": form, "order": order, "suggested": order.number})


@require_POST
@school_view(rule=rules.may_draft_orders)
def order_delete(request: HttpRequest, ctx: SchoolContext, order_id: int) -> HttpResponse:
    order = queries.order_detail(ctx, order_id)
    try:
        services.delete_draft(acting_user=ctx.user, order=order)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _to_order(ctx, order)
    messages.success(request, _("The draft is deleted."))
    return redirect("records:orders", school=ctx.school.slug)


@require_POST
@school_view(rule=rules.may_sign_orders)
def order_sign(request: HttpRequest, ctx: SchoolContext, order_id: int) -> HttpResponse:
    order = queries.order_detail(ctx, order_id)
    try:
        services.sign_order(acting_user=ctx.user, order=order)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The order is signed."))
    return _to_order(ctx, order)


@school_view(rule=rules.may_read_orders)
def order_book_pdf(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = forms.YearChoiceForm(request.GET or None, years=queries.years(ctx))
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Choose the school year from the list."))
        return redirect("records:orders", school=ctx.school.slug)
    year = (form.cleaned_data.get("year") if form.is_bound else None) or queries.default_year(ctx)
    if year is None:
        messages.error(request, _("The school has no school year yet."))
        return redirect("records:orders", school=ctx.school.slug)
    pdf = documents.order_book_pdf(ctx.school, year, queries.book_of_orders(ctx, year))
    return _pdf(pdf, f"orders-{year.name.replace('/', '-')}.pdf")


@require_POST
@school_view(rule=rules.may_close_years)
def close_year(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = forms.CloseYearForm(request.POST, years=queries.years(ctx))
    if not form.is_valid():
        messages.error(request, _("Choose the school year from the list and a valid day."))
    else:
        try:
            count = services.close_year(
                acting_user=ctx.user, year=form.cleaned_data["year"], on=form.cleaned_data.get("on")
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The year is closed: %(n)s enrolments ended.") % {"n": count})
    return redirect("records:orders", school=ctx.school.slug)


# --- personal files (annex 5) and the alphabetical book (annex 6) ---------------------------------------------


@school_view(rule=rules.may_read_personal_files)
def personal_file(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    return render(request, "records/personal_file.html", {"file": queries.personal_file(ctx, student_id)})


@school_view(rule=rules.may_read_personal_files)
def personal_file_pdf(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """The printable personal file; the same PDF is handed over when the student moves to another school."""
    file = queries.personal_file(ctx, student_id)
    number = file.student.personal_file_number or str(file.student.pk)
    return _pdf(documents.personal_file_pdf(ctx.school, file), f"personal-file-{number}.pdf")


@school_view(rule=scopes.may_read_alphabetical_book)
def alphabetical_book_pdf(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    rows = queries.alphabetical_book(ctx)
    return _pdf(documents.alphabetical_book_pdf(ctx.school, rows), "alphabetical-book.pdf")
