"""Roster pages: staff, students, guardians, consents (R1.7, R1.8, R7.2-R7.4).

Thin views: rows come from ``classbook.access.scopes`` (unknown and forbidden both 404), page
access is checked before anything else (403), every change goes through ``roster.services``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from classbook.access import roster_books, scopes
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core import exports
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number
from classbook.people.models import Student
from classbook.records import queries as record_queries
from classbook.roster import book_print, books, feed, forms, imports, queries, services
from classbook.schools.models import AcademicYear


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


def _form_errors(form: Any) -> str:
    return " ".join(
        f"{form.fields[k].label if k in form.fields else ''}: {' '.join(v)}" for k, v in form.errors.items()
    )


def _to_card(ctx: SchoolContext, student_id: int) -> HttpResponse:
    return redirect("roster:student", school=ctx.school.slug, student_id=student_id)


def _run(request: HttpRequest, action: Any, success: str) -> bool:
    """Call a service; a refused business rule becomes an error message, not a 500."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


# --- index -------------------------------------------------------------------------------------------


@school_view()
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    if scopes.may_manage_staff(ctx) and not scopes.may_view_roster(ctx):
        return redirect("roster:staff", school=ctx.school.slug)
    _require(scopes.may_view_roster(ctx))
    return redirect("roster:students", school=ctx.school.slug)


# --- staff (R1.7, R1.8) ------------------------------------------------------------------------------


@school_view(rule=scopes.may_manage_staff)
def staff_list(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    people = queries.staff_list(ctx)
    for person in people:
        person.role_rows = [(m, queries.is_active_membership(m)) for m in person.staff_roles]  # type: ignore[attr-defined]
    return render(request, "roster/staff_list.html", {"people": people})


@school_view(rule=scopes.may_manage_staff)
def staff_add(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = forms.NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.add_staff_member(
                acting_user=ctx.user, school=ctx.school, data=data, roles=data["roles"], position=data["position"]
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(
                request, _("%(name)s is added. Login: %(login)s.") % {"name": user, "login": user.username}
            )
            return redirect("roster:staff_member", school=ctx.school.slug, user_id=user.pk)
    return render(request, "roster/staff_form.html", {"form": form, "person": None})


@school_view(rule=scopes.may_manage_staff)
def staff_member(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    person = scopes.get_or_404(scopes.staff_people(ctx), pk=user_id)
    roles = list(scopes.staff_memberships(ctx).filter(user=person).order_by("role"))
    position = next((m.position for m in roles if m.position), "")
    initial = {k: getattr(person, k) for k in services.STAFF_FIELDS} | {"position": position}
    form = forms.StaffForm(request.POST or None, initial=initial)
    if request.method == "POST":
        _require(scopes.may_write_roster(ctx))
        if form.is_valid():
            data = form.cleaned_data
            ok = _run(
                request,
                lambda: services.update_staff_member(
                    acting_user=ctx.user, school=ctx.school, user=person, data=data, position=data["position"]
                ),
                _("Saved."),
            )
            if ok:
                return redirect("roster:staff_member", school=ctx.school.slug, user_id=person.pk)
    context = {
        "form": form,
        "person": person,
        "role_rows": [(m, queries.is_active_membership(m)) for m in roles],
        "role_form": forms.RoleForm(),
    }
    return render(request, "roster/staff_form.html", context)


def _role_action(request: HttpRequest, ctx: SchoolContext, user_id: int, grant: bool) -> HttpResponse:
    person = scopes.get_or_404(scopes.staff_people(ctx), pk=user_id)
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        service = services.grant_role if grant else services.revoke_role
        done = _("The role is given.") if grant else _("The role is taken away.")
        _run(
            request,
            lambda: service(acting_user=ctx.user, school=ctx.school, user=person, role=form.cleaned_data["role"]),
            done,
        )
    return redirect("roster:staff_member", school=ctx.school.slug, user_id=person.pk)


@require_POST
@school_view(rule=scopes.may_manage_staff)
def role_grant(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    return _role_action(request, ctx, user_id, grant=True)


@require_POST
@school_view(rule=scopes.may_manage_staff)
def role_revoke(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    return _role_action(request, ctx, user_id, grant=False)


# --- students (R7.2, R7.3) ---------------------------------------------------------------------------


def _selected_class(request: HttpRequest, ctx: SchoolContext) -> Any:
    classes = list(scopes.roster_classes(ctx))
    wanted = request.GET.get("class", "")
    chosen = next((c for c in classes if str(c.pk) == wanted), None)
    return classes, chosen or (classes[0] if classes else None)


@school_view()
def student_list(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Students by class (alphabetically, those who left greyed) or found by name."""
    _require(scopes.may_view_roster(ctx))
    query = request.GET.get("q", "").strip()[:100]
    classes, chosen = _selected_class(request, ctx)
    context: dict[str, Any] = {"classes": classes, "chosen": chosen, "q": query, "found": None, "rows": []}
    if query:
        context["found"] = queries.search_students(ctx, query)
    elif chosen is not None:
        context["rows"] = queries.class_roster(ctx, chosen)
    context["can_manage"] = scopes.may_manage_students(ctx)
    return render(request, "roster/student_list.html", context)


@school_view(rule=scopes.may_read_alphabetical_book)
def alphabetical_book(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The alphabetical book of students (R7.3), printable, with the arrival and departure orders (R7.5); its
    official layout (annex 6) is the records app's PDF."""
    students = queries.alphabetical_book(ctx)
    refs = record_queries.order_references(ctx)
    for student in students:
        student.arrival_order, student.departure_order, _where = refs.get(student.pk, ("", "", ""))  # type: ignore[attr-defined]
    return render(request, "roster/book.html", {"students": students, "today": timezone.localdate()})


@school_view(rule=scopes.may_manage_students)
def student_add(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    classes = scopes.roster_classes(ctx)
    form = forms.NewStudentForm(
        request.POST or None, classes=classes, initial={"school_class": request.GET.get("class")}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        school_class, start = data.pop("school_class"), data.pop("start")
        try:
            student = services.add_student(acting_user=ctx.user, school_class=school_class, data=data, start=start)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(
                request, _("%(name)s is added. Login: %(login)s.") % {"name": student, "login": student.user.username}
            )
            return _to_card(ctx, student.pk)
    return render(request, "roster/student_form.html", {"form": form, "student": None})


@school_view(rule=scopes.may_manage_students)
def student_import(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Class lists from a spreadsheet (R7.1): check the file, then import it; all or nothing."""
    years = scopes.directory(ctx, AcademicYear).order_by("-start")
    current = years.filter(is_current=True).first()
    form = forms.StudentImportForm(request.POST or None, request.FILES or None, years=years, initial_year=current)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        dry_run = "check" in request.POST
        try:
            report = imports.import_students(
                acting_user=ctx.user,
                school=ctx.school,
                year=form.cleaned_data["year"],
                file_name=upload.name,
                data=upload.read(imports.MAX_UPLOAD_BYTES + 1),
                start=form.cleaned_data["start"],
                dry_run=dry_run,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            if report.ok and not dry_run:
                messages.success(
                    request,
                    _("%(n)s students imported; %(g)s guardian accounts created, %(l)s existing linked.")
                    % {"n": report.created, "g": report.guardians_created, "l": report.guardians_linked},
                )
                return redirect("roster:students", school=ctx.school.slug)
    context = {"form": form, "report": report, "columns": imports.COLUMNS, "checked": "check" in request.POST}
    return render(request, "roster/student_import.html", context)


@school_view(rule=scopes.may_manage_students)
def student_import_template(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """An empty class list with the headers in the user's language (CSV, opens in Excel)."""
    response = HttpResponse(imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="class-list.csv"'
    return response


def _card_context(request: HttpRequest, ctx: SchoolContext, student: Student) -> dict[str, Any]:
    card = queries.student_card(ctx, student)
    manage = scopes.may_manage_students(ctx)
    current = queries.current_of(card.enrolments)
    year_id = current.school_class.year_id if current else None
    context: dict[str, Any] = {
        "card": card,
        "student": student,
        "current": current,
        "manage": manage,
        "can_edit": scopes.may_edit_student_contacts(ctx, student),
        "can_consent": scopes.may_manage_consents(ctx, student),
        "show_contacts": scopes.may_see_contacts(ctx, current.school_class_id if current else None),
    }
    if manage:
        context["move_form"] = forms.MoveForm(classes=queries.class_choices(ctx, year_id=year_id))
        context["withdraw_form"] = forms.DateForm()
        context["guardian_form"] = forms.GuardianForm()
        context["link_form"] = forms.LinkGuardianForm(parents=scopes.school_parents(ctx))
    if context["can_consent"]:
        context["consent_form"] = forms.ConsentForm()
        context["open_consent"] = request.GET.get("consent") == "1"
    return context


@school_view()
def student_card(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """The personal file of a student (R7.3): data, class history, guardians, consents."""
    _require(scopes.may_view_roster(ctx))
    student = scopes.get_or_404(scopes.roster_students(ctx), pk=student_id)
    return render(request, "roster/student_card.html", _card_context(request, ctx, student))


@school_view(writes=True)
def student_edit(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """Secretaries edit the whole personal file; a class teacher the contacts of their own class."""
    _require(scopes.may_view_roster(ctx))
    student = scopes.get_or_404(scopes.roster_students(ctx), pk=student_id)
    _require(scopes.may_edit_student_contacts(ctx, student))
    full = scopes.edits_whole_student_file(ctx)
    form_class = forms.StudentForm if full else forms.StudentContactsForm
    fields = (*services.STUDENT_USER_FIELDS, *services.STUDENT_FIELDS) if full else services.STUDENT_CONTACT_FIELDS
    initial = {k: getattr(student, k) for k in services.STUDENT_FIELDS}
    initial |= {k: getattr(student.user, k) for k in services.STUDENT_USER_FIELDS}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in fields}
        try:
            services.update_student(acting_user=ctx.user, student=student, data=data, fields=fields)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Saved."))
            return _to_card(ctx, student.pk)
    return render(request, "roster/student_form.html", {"form": form, "student": student})


def _managed_student(ctx: SchoolContext, student_id: int) -> Student:
    return scopes.get_or_404(scopes.roster_students(ctx), pk=student_id)


def _card_form_action(
    request: HttpRequest,
    ctx: SchoolContext,
    student: Student,
    form: Any,
    action: Callable[[dict[str, Any]], Any],
    success: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """A small form posted from the student's card: validate, call the service, back to the card."""
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        data = form.cleaned_data
        _run(request, lambda: action(data), success(data))
    return _to_card(ctx, student.pk)


@require_POST
@school_view(rule=scopes.may_manage_students)
def student_move(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    student = _managed_student(ctx, student_id)
    return _card_form_action(
        request,
        ctx,
        student,
        forms.MoveForm(request.POST, classes=scopes.roster_classes(ctx)),
        lambda data: services.move_student(
            acting_user=ctx.user, student=student, to_class=data["school_class"], on=data["on"]
        ),
        lambda data: _("The student is moved to %(class)s.") % {"class": data["school_class"]},
    )


@require_POST
@school_view(rule=scopes.may_manage_students)
def student_withdraw(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    student = _managed_student(ctx, student_id)
    return _card_form_action(
        request,
        ctx,
        student,
        forms.DateForm(request.POST),
        lambda data: services.withdraw_student(acting_user=ctx.user, student=student, on=data["on"]),
        lambda data: _("The student has left the school."),
    )


# --- guardians -----------------------------------------------------------------------------------------


@require_POST
@school_view(rule=scopes.may_manage_students)
def guardian_add(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    student = _managed_student(ctx, student_id)
    return _card_form_action(
        request,
        ctx,
        student,
        forms.GuardianForm(request.POST),
        lambda data: services.add_guardian(
            acting_user=ctx.user, student=student, data=data, relation=data["relation"], may_see=data["may_see"]
        ),
        lambda data: _("The guardian is added."),
    )


@require_POST
@school_view(rule=scopes.may_manage_students)
def guardian_link(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    student = _managed_student(ctx, student_id)
    return _card_form_action(
        request,
        ctx,
        student,
        forms.LinkGuardianForm(request.POST, parents=scopes.school_parents(ctx)),
        lambda data: services.link_guardian(
            acting_user=ctx.user,
            student=student,
            guardian=data["guardian"],
            relation=data["relation"],
            may_see=data["may_see"],
        ),
        lambda data: _("The guardian is linked."),
    )


@require_POST
@school_view(rule=scopes.may_manage_students)
def guardian_access(request: HttpRequest, ctx: SchoolContext, link_id: int) -> HttpResponse:
    link = scopes.get_or_404(scopes.roster_guardian_links(ctx), pk=link_id)
    may_see = request.POST.get("may_see") == "1"
    _run(
        request,
        lambda: services.set_guardian_may_see(acting_user=ctx.user, link=link, may_see=may_see),
        _("Saved."),
    )
    return _to_card(ctx, link.student_id)


@require_POST
@school_view(rule=scopes.may_manage_students)
def guardian_end(request: HttpRequest, ctx: SchoolContext, link_id: int) -> HttpResponse:
    link = scopes.get_or_404(scopes.roster_guardian_links(ctx), pk=link_id)
    _run(
        request,
        lambda: services.end_guardian_link(acting_user=ctx.user, link=link),
        _("The guardian link is ended."),
    )
    return _to_card(ctx, link.student_id)


@school_view(writes=True)
def guardian_edit(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    """Parents' contact data: secretaries and the class teacher of one of their children (R7.6)."""
    _require(scopes.may_view_roster(ctx))
    guardian = scopes.get_or_404(scopes.roster_guardians(ctx), pk=user_id)
    _require(scopes.may_edit_guardian_contacts(ctx, guardian))
    form = forms.GuardianContactsForm(
        request.POST or None, initial={k: getattr(guardian, k) for k in services.GUARDIAN_FIELDS}
    )
    if request.method == "POST" and form.is_valid():
        ok = _run(
            request,
            lambda: services.update_guardian(
                acting_user=ctx.user, school=ctx.school, guardian=guardian, data=form.cleaned_data
            ),
            _("Saved."),
        )
        if ok:
            return _back_to(ctx, request.GET.get("student", ""))
    return render(request, "roster/guardian_form.html", {"form": form, "guardian": guardian})


def _back_to(ctx: SchoolContext, student_id: str) -> HttpResponse:
    """Back to the child's card we came from (only a number is accepted: no open redirect)."""
    if is_whole_number(student_id):
        return _to_card(ctx, int(student_id))
    return redirect("roster:students", school=ctx.school.slug)


# --- consents (R7.4) -----------------------------------------------------------------------------------


@require_POST
@school_view(writes=True)
def consent_add(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    _require(scopes.may_view_roster(ctx))
    student = scopes.get_or_404(scopes.roster_students(ctx), pk=student_id)
    _require(scopes.may_manage_consents(ctx, student))
    return _card_form_action(
        request,
        ctx,
        student,
        forms.ConsentForm(request.POST),
        lambda data: services.record_consent(acting_user=ctx.user, student=student, **data),
        lambda data: _("The consent is recorded."),
    )


@require_POST
@school_view(writes=True)
def consent_withdraw(request: HttpRequest, ctx: SchoolContext, consent_id: int) -> HttpResponse:
    _require(scopes.may_view_roster(ctx))
    consent = scopes.get_or_404(scopes.roster_consents(ctx), pk=consent_id)
    _require(scopes.may_manage_consents(ctx, consent.student))
    _run(
        request,
        lambda: services.withdraw_consent(acting_user=ctx.user, consent=consent),
        _("The consent is withdrawn."),
    )
    return _to_card(ctx, consent.student_id)


@school_view()
def consent_list(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Students of a class without a valid personal-data consent (R7.4)."""
    _require(scopes.may_view_roster(ctx))  # MANAGE_CONSENTS holders all see every student
    classes, chosen = _selected_class(request, ctx)
    missing = queries.students_without_consent(ctx, chosen) if chosen else []
    return render(request, "roster/consents.html", {"classes": classes, "chosen": chosen, "missing": missing})


# --- a class page for its class teacher ----------------------------------------------------------------


@school_view()
def class_page(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """The class list with guardians and consent status: the class teacher's data-entry page."""
    _require(scopes.may_view_roster(ctx))
    school_class = scopes.get_or_404(scopes.roster_classes(ctx), pk=class_id)
    rows = [r for r in queries.class_roster(ctx, school_class, with_guardians=True) if r.current]
    show_contacts = scopes.may_see_contacts(ctx, school_class.pk)
    return render(
        request, "roster/class_page.html", {"school_class": school_class, "rows": rows, "show_contacts": show_contacts}
    )


# --- The book of certificates issued (R7.3) ----------------------------------------------------------------


def _year_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("year", "").strip()
    return int(raw) if is_whole_number(raw) and 1950 <= int(raw) <= 2200 else None


@school_view(rule=roster_books.may_read_certificate_book)
def certificate_book(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The book of certificates issued, in the order of issue; printable as a PDF."""
    year = _year_param(request)
    context = {
        "rows": queries.certificate_book(ctx, year),
        "year": year,
        "may_keep": roster_books.may_keep_certificate_book(ctx),
    }
    return render(request, "roster/certificate_book.html", context)


@school_view(rule=roster_books.may_read_certificate_book)
def certificate_book_pdf(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    pdf = book_print.certificate_book_pdf(ctx, _year_param(request), base_url=request.build_absolute_uri("/"))
    return exports.download_pdf(pdf, "certificate-book")


def _document_form_action(
    request: HttpRequest, form: forms.IssuedDocumentForm, action: Callable[[dict[str, Any]], Any]
) -> bool:
    """Run the service with the form's data; a refused rule becomes the field's error."""
    if not form.is_valid():
        return False
    try:
        action(dict(form.cleaned_data))
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return False
    return True


@school_view(rule=roster_books.may_keep_certificate_book)
def certificate_add(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    raw = request.POST.get("student") or request.GET.get("student") or ""
    student = scopes.get_or_404(roster_books.certificate_students(ctx), pk=raw)
    form = forms.NewIssuedDocumentForm(
        request.POST or None,
        guardians=queries.guardian_choices(ctx, student),
        initial={"student": student.pk, "issued_on": timezone.localdate()},
    )
    if request.method == "POST" and _document_form_action(
        request, form, lambda data: books.record_issued_document(ctx=ctx, student=student, data=data)
    ):
        messages.success(request, _("The document is recorded in the book."))
        return redirect("roster:certificates", school=ctx.school.slug)
    return render(request, "roster/certificate_form.html", {"form": form, "student": student, "document": None})


@school_view(rule=roster_books.may_read_certificate_book)
def certificate_correct(request: HttpRequest, ctx: SchoolContext, document_id: int) -> HttpResponse:
    document = scopes.get_or_404(roster_books.issued_documents(ctx), pk=document_id)
    initial = {k: getattr(document, k) for k in books.BOOK_FIELDS_ALL if k != "received_by_guardian"}
    initial |= {"received_by_guardian": document.received_by_guardian_id or "", "version": document.version}
    if document.received_by_guardian_id:
        initial["received_by_name"] = ""
    form = forms.CorrectionForm(
        request.POST or None, guardians=queries.guardian_choices(ctx, document.student), initial=initial
    )
    if request.method == "POST":
        _require(roster_books.may_keep_certificate_book(ctx))
        if _document_form_action(
            request,
            form,
            lambda data: books.correct_issued_document(
                ctx=ctx,
                document=document,
                data=data,
                reason=data.get("reason", ""),
                expected_version=data.get("version") or 0,
            ),
        ):
            messages.success(request, _("The line is corrected; the old values are kept in the audit log."))
            return redirect("roster:certificates", school=ctx.school.slug)
    context = {
        "form": form,
        "student": document.student,
        "document": document,
        "may_keep": roster_books.may_keep_certificate_book(ctx),
    }
    return render(request, "roster/certificate_form.html", context)


# --- Parents report changes of personal data (R7.6) ---------------------------------------------------------


@school_view(rule=roster_books.may_request_changes)
def my_change_requests(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """A parent asks for a change of their child's or their own data and sees the outcome of each request."""
    form = forms.ChangeRequestForm(request.POST or None, children=queries.child_choices(ctx))
    if request.method == "POST" and form.is_valid():
        student = scopes.get_or_404(roster_books.requestable_children(ctx), pk=form.cleaned_data["student"])
        try:
            books.submit_change_request(
                ctx=ctx,
                student=student,
                target=form.cleaned_data["target"],
                changes=form.changes(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("Your request is sent; the class teacher or the secretary will answer it."))
            return redirect("roster:my_requests", school=ctx.school.slug)
    context = {"form": form, "requests": queries.own_change_requests(ctx)}
    return render(request, "roster/my_requests.html", context)


@school_view(rule=roster_books.may_review_change_requests)
def change_requests(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Requests waiting for the class teacher or the secretary, and the recently decided ones."""
    context = {
        "pending": queries.pending_change_requests(ctx),
        "decided": queries.decided_change_requests(ctx),
        "decision_form": forms.DecisionForm(),
    }
    return render(request, "roster/change_requests.html", context)


@require_POST
@school_view(rule=roster_books.may_review_change_requests)
def change_request_decide(request: HttpRequest, ctx: SchoolContext, request_id: int) -> HttpResponse:
    change = scopes.get_or_404(roster_books.reviewable_change_requests(ctx), pk=request_id)
    form = forms.DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
    else:
        accept = form.cleaned_data["accept"]
        _run(
            request,
            lambda: books.decide_change_request(
                ctx=ctx, request=change, accept=accept, reason=form.cleaned_data["reason"]
            ),
            _("The request is accepted and the data changed.") if accept else _("The request is rejected."),
        )
    return redirect("roster:change_requests", school=ctx.school.slug)


# --- The weekly change feed (R7.1) --------------------------------------------------------------------------


@school_view(rule=roster_books.may_read_change_feed)
def change_feed(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """What changed in the class lists and the staff list since a day; CSV and XLSX of the same rows."""
    form = forms.FeedForm(request.GET or None)
    rows: list[feed.FeedRow] = []
    since = until = None
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if form.is_bound else {}
        try:
            since, until = feed.check_range(data.get("since"), data.get("until"))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            rows = feed.change_feed(ctx, since, until)
            fmt = request.GET.get("format", "")
            if fmt in ("csv", "xlsx"):
                name = f"changes-{since.isoformat()}-{until.isoformat()}"
                return exports.export(fmt, _("Changes"), feed.headers(), [r.cells() for r in rows], name)
    context = {"form": form, "rows": rows, "since": since, "until": until, "headers": feed.headers()}
    return render(request, "roster/change_feed.html", context, status=200 if not form.errors else 400)
