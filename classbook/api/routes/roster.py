"""The roster API: staff, students, guardians, consents of a school (R1.7, R1.8, R7.2-R7.4).

Mounted under ``/api/v1/schools/{school}/...`` (the same prefix as the schools router):

- ``GET  /schools/{school}/staff`` — the staff directory (name, roles, position); managers of staff
  also get login, contacts and revoked roles. ``GET /schools/{school}/staff/{id}``.
- ``GET  /schools/{school}/students?class_id=&q=&without_consent=`` — students the caller may see on the roster;
  ``POST`` creates a student in a class. ``GET|PATCH /schools/{school}/students/{id}``;
  ``POST .../{id}/move``, ``POST .../{id}/withdraw``.
- ``GET|POST /schools/{school}/students/{id}/guardians`` (link an existing parent with ``guardian_id``
  or create a new one with names); ``PATCH|DELETE .../guardians/{link_id}`` (switch "may see"; end).
- ``GET|POST /schools/{school}/students/{id}/consents``; ``POST .../consents/{consent_id}/withdraw``.

Lists answer the API's one page shape and take ``limit``/``offset``/``sort`` (``classbook.api.pagination``).
Access is the pages' access (``classbook.access``); writes go through ``classbook.roster.services``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from classbook.access import scopes
from classbook.access.context import SchoolContext, resolve_school
from classbook.api.contract import ErrorDetail, ErrorOut
from classbook.api.errors import error_body
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.people.models import Consent, ConsentPurpose, Gender, GuardianLink, Student, User
from classbook.roster import imports, queries, services
from classbook.schools.models import AcademicYear

router = Router(tags=["roster"])

Name = Field(..., min_length=1, max_length=150)
OptName = Field("", max_length=150)


# --- schemas ---------------------------------------------------------------------------------------


STAFF_SORTS = Sorts("name", name=("last_name", "first_name", "patronymic"), id="id")
STUDENT_SORTS = Sorts(
    "name", name=("user__last_name", "user__first_name", "user__patronymic"), birth_date="birth_date", id="id"
)
GUARDIAN_SORTS = Sorts("name", name="full_name", relation="relation", id="id")
CONSENT_SORTS = Sorts("-given_on", given_on="given_on", purpose="purpose", id="id")


class StaffQuery(ListQuery):
    sort: str = STAFF_SORTS.field()


class StudentFilter(ListQuery):
    class_id: int | None = Field(None, ge=1, le=2**62)
    q: str = Field("", max_length=100, description="A part of the surname, first name or patronymic")
    without_consent: bool = Field(False, description="Only students without a personal-data consent (R7.4)")
    sort: str = STUDENT_SORTS.field()


class GuardianQuery(ListQuery):
    sort: str = GUARDIAN_SORTS.field()


class ConsentQuery(ListQuery):
    sort: str = CONSENT_SORTS.field()


class StaffOut(Schema):
    id: int
    full_name: str
    roles: list[str]
    position: str
    username: str | None = None
    email: str | None = None
    phone: str | None = None
    revoked_roles: list[str] | None = None


StaffPage = Page[StaffOut]


class ClassRef(Schema):
    id: int
    name: str


class StudentOut(Schema):
    id: int
    username: str
    last_name: str
    first_name: str
    patronymic: str
    birth_date: dt.date | None
    gender: str
    address: str
    phone: str
    personal_file_number: str
    left_on: dt.date | None
    current_class: ClassRef | None = None


StudentPage = Page[StudentOut]


class GuardianOut(Schema):
    id: int  # the link's id
    guardian_id: int
    full_name: str
    relation: str
    phone: str
    email: str
    may_see: bool
    ended_on: dt.date | None


class EnrolmentOut(Schema):
    class_id: int
    class_name: str
    start: dt.date
    end: dt.date | None


class StudentDetail(StudentOut):
    enrolments: list[EnrolmentOut]
    guardians: list[GuardianOut]


class StudentIn(Schema):
    class_id: int
    last_name: str = Name
    first_name: str = Name
    patronymic: str = OptName
    birth_date: dt.date | None = None
    gender: Gender | None = None
    address: str = Field("", max_length=255)
    phone: str = Field("", max_length=32)
    personal_file_number: str = Field("", max_length=32)
    start: dt.date | None = None


class StudentPatch(Schema):
    last_name: str | None = Field(None, min_length=1, max_length=150)
    first_name: str | None = Field(None, min_length=1, max_length=150)
    patronymic: str | None = Field(None, max_length=150)
    birth_date: dt.date | None = None
    gender: Gender | None = None
    address: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=32)
    personal_file_number: str | None = Field(None, max_length=32)


class MoveIn(Schema):
    class_id: int
    on: dt.date


class WithdrawIn(Schema):
    on: dt.date


class GuardianIn(Schema):
    """Either ``guardian_id`` (a parent already in the school) or the names of a new parent."""

    guardian_id: int | None = None
    last_name: str = OptName
    first_name: str = OptName
    patronymic: str = OptName
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    relation: str = Field("", max_length=40)
    may_see: bool = True


class GuardianPatch(Schema):
    may_see: bool


class ConsentIn(Schema):
    purpose: ConsentPurpose = ConsentPurpose.PERSONAL_DATA
    given_by: str = Field(..., min_length=1, max_length=255)
    given_on: dt.date
    document_ref: str = Field("", max_length=120)


class ConsentOut(Schema):
    id: int
    purpose: str
    given_by: str
    given_on: dt.date
    document_ref: str
    withdrawn_on: dt.date | None


ConsentPage = Page[ConsentOut]


# --- helpers -----------------------------------------------------------------------------------------


def _ctx(request: HttpRequest, school: str, *, write: bool = False) -> SchoolContext:
    ctx = resolve_school(request.user, school)
    if write and not scopes.may_write_roster(ctx):
        raise PermissionDenied
    return ctx


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


def _roster_ctx(request: HttpRequest, school: str, *, write: bool = False) -> SchoolContext:
    ctx = _ctx(request, school, write=write)
    _require(scopes.may_view_roster(ctx))
    return ctx


def _student_out(ctx: SchoolContext, student: Student) -> dict[str, Any]:
    user = student.user
    current = getattr(student, "current_class", None)
    hidden = {} if scopes.may_see_contacts(ctx, current.pk if current else None) else {"address": "", "phone": ""}
    return {
        "id": student.pk,
        "username": user.username,
        "last_name": user.last_name,
        "first_name": user.first_name,
        "patronymic": user.patronymic,
        **{k: getattr(student, k) for k in ("birth_date", "gender", "address", "phone", "personal_file_number")},
        "left_on": student.left_on,
        "current_class": {"id": current.pk, "name": current.name} if current else None,
        **hidden,
    }


def _guardian_out(link: GuardianLink, *, contacts: bool = True) -> dict[str, Any]:
    g = link.guardian
    return {
        "id": link.pk,
        "guardian_id": g.pk,
        "full_name": g.full_name,
        "relation": link.relation,
        "phone": g.phone if contacts else "",
        "email": g.email if contacts else "",
        "may_see": link.may_see,
        "ended_on": link.ended_on,
    }


def _consent_out(c: Consent) -> dict[str, Any]:
    return {k: getattr(c, k) for k in ("id", "purpose", "given_by", "given_on", "document_ref", "withdrawn_on")}


def _student_detail(ctx: SchoolContext, student: Student) -> dict[str, Any]:
    card = queries.student_card(ctx, student)
    current = queries.current_of(card.enrolments)
    student.current_class = current.school_class if current else None  # type: ignore[attr-defined]
    return {
        **_student_out(ctx, student),
        "enrolments": [
            {"class_id": e.school_class_id, "class_name": e.school_class.name, "start": e.start, "end": e.end}
            for e in card.enrolments
        ],
        "guardians": [
            _guardian_out(link, contacts=scopes.may_see_contacts(ctx, current.school_class_id if current else None))
            for link in card.guardian_links
        ],
    }


def _roster_student(ctx: SchoolContext, student_id: int) -> Student:
    return scopes.get_or_404(scopes.roster_students(ctx), pk=student_id)


def _visible_class(ctx: SchoolContext, class_id: int) -> Any:
    """A class named in a request body: unknown and other-school ids are a field error, not a 404 of the URL."""
    school_class = scopes.roster_classes(ctx).filter(pk=class_id).first()
    if school_class is None:
        raise DomainError(_("Unknown class."), field="class_id")
    return school_class


# --- staff -------------------------------------------------------------------------------------------


def _staff_row(user: User, manager: bool) -> dict[str, Any]:
    today = timezone.localdate()
    current = [m for m in user.staff_roles if m.is_active and (m.until is None or m.until >= today)]  # type: ignore[attr-defined]
    row: dict[str, Any] = {
        "id": user.pk,
        "full_name": user.full_name,
        "roles": sorted({m.role for m in current}),
        "position": next((m.position for m in current if m.position), ""),
    }
    if manager:
        revoked = {m.role for m in user.staff_roles} - set(row["roles"])  # type: ignore[attr-defined]
        row.update(username=user.username, email=user.email, phone=user.phone, revoked_roles=sorted(revoked))
    return row


def _staff_qs(ctx: SchoolContext) -> tuple[QuerySet[User], bool]:
    manager = scopes.may_manage_staff(ctx)
    people = scopes.staff_people(ctx) if manager else scopes.staff(ctx)
    roles = scopes.staff_memberships(ctx) if manager else scopes.staff_directory_memberships(ctx)
    return people.prefetch_related(Prefetch("memberships", queryset=roles, to_attr="staff_roles")), manager


@router.get("/{slug:school}/staff", response=StaffPage, summary="Staff directory (full data for managers of staff)")
def staff_list(request: HttpRequest, school: str, params: Query[StaffQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(scopes.may_read_staff_directory(ctx))
    qs, manager = _staff_qs(ctx)
    return paginate(request, qs, params, STAFF_SORTS, lambda u: _staff_row(u, manager))


@router.get("/{slug:school}/staff/{int:user_id}", response=StaffOut, summary="A staff member")
def staff_detail(request: HttpRequest, school: str, user_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(scopes.may_read_staff_directory(ctx))
    qs, manager = _staff_qs(ctx)
    return _staff_row(scopes.get_or_404(qs, pk=user_id), manager)


# --- students ----------------------------------------------------------------------------------------


@router.get("/{slug:school}/students", response=StudentPage, summary="Students (by class, or found by name)")
def student_list(request: HttpRequest, school: str, params: Query[StudentFilter]) -> dict[str, Any]:
    ctx = _roster_ctx(request, school)
    qs = scopes.roster_students(ctx)
    if params.class_id is not None:
        qs = qs.filter(enrolments__school_class_id=params.class_id, enrolments__end__isnull=True)
    if params.q.strip():
        qs = qs.filter(queries.name_filter(params.q))
    if params.without_consent:
        qs = queries.only_without_consent(qs, ctx.school.pk)
    return paginate(
        request,
        qs.select_related("user"),
        params,
        STUDENT_SORTS,
        lambda s: _student_out(ctx, s),
        rows_out=lambda rows: queries.with_current_class(ctx, rows),
    )


@router.post("/{slug:school}/students", response={201: StudentDetail}, summary="Add a student into a class")
def student_create(request: HttpRequest, school: str, payload: StudentIn) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    data = payload.dict()
    school_class = _visible_class(ctx, data.pop("class_id"))
    start = data.pop("start")
    data["gender"] = data["gender"] or ""
    student = services.add_student(acting_user=ctx.user, school_class=school_class, data=data, start=start)
    return Status(201, _student_detail(ctx, _roster_student(ctx, student.pk)))


class ImportErrorOut(Schema):
    row: int = Field(description="Row number as the spreadsheet shows it (the header is row 1); 0: the whole file")
    column: str
    message: str


class ImportOut(Schema):
    ok: bool
    rows: int
    created: int
    guardians_created: int
    guardians_linked: int
    per_class: dict[str, int]
    errors: list[ImportErrorOut]


class ImportRefusedDetail(ErrorDetail):
    report: ImportOut | None = Field(None, description="The file's check: every bad row (code `import_refused`)")


class ImportRefused(ErrorOut):
    """422: the one error shape; a file with bad rows carries the whole report in ``error.report``."""

    error: ImportRefusedDetail


@router.post(
    "/{slug:school}/students/import",
    response={200: ImportOut, 422: ImportRefused},
    summary="Import class lists from a CSV or XLSX file (all or nothing; dry_run only checks)",
)
def student_import(
    request: HttpRequest,
    school: str,
    file: UploadedFile = File(...),  # noqa: B008 - ninja's way of declaring a file part
    year_id: int = Form(...),
    start: dt.date | None = Form(None),  # noqa: B008
    dry_run: bool = Form(False),
) -> Status[dict[str, Any]] | dict[str, Any]:
    ctx = _ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    year = scopes.directory(ctx, AcademicYear).filter(pk=year_id).first()
    if year is None:
        raise DomainError(_("Unknown academic year."), field="year_id")
    report = imports.import_students(
        acting_user=ctx.user,
        school=ctx.school,
        year=year,
        file_name=file.name or "",
        data=file.read(imports.MAX_UPLOAD_BYTES + 1),
        start=start,
        dry_run=dry_run,
    )
    body = {
        "ok": report.ok,
        "rows": report.rows,
        "created": report.created,
        "guardians_created": report.guardians_created,
        "guardians_linked": report.guardians_linked,
        "per_class": report.per_class,
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in report.errors],
    }
    if report.ok:
        return body
    message = _("%(count)d problem(s) in the file; nothing was imported. Fix them and upload the file again.") % {
        "count": len(report.errors)
    }
    return Status(422, error_body("import_refused", message, report=body))


@router.get("/{slug:school}/students/{int:student_id}", response=StudentDetail, summary="A student with guardians")
def student_detail(request: HttpRequest, school: str, student_id: int) -> dict[str, Any]:
    ctx = _roster_ctx(request, school)
    return _student_detail(ctx, _roster_student(ctx, student_id))


@router.patch("/{slug:school}/students/{int:student_id}", response=StudentDetail, summary="Edit a student")
def student_update(request: HttpRequest, school: str, student_id: int, payload: StudentPatch) -> dict[str, Any]:
    ctx = _roster_ctx(request, school, write=True)
    student = _roster_student(ctx, student_id)
    _require(scopes.may_edit_student_contacts(ctx, student))
    full = scopes.edits_whole_student_file(ctx)
    fields = (*services.STUDENT_USER_FIELDS, *services.STUDENT_FIELDS) if full else services.STUDENT_CONTACT_FIELDS
    data = payload.dict(exclude_unset=True)
    if "gender" in data:
        data["gender"] = data["gender"] or ""
    services.update_student(acting_user=ctx.user, student=student, data=data, fields=fields)
    return _student_detail(ctx, _roster_student(ctx, student_id))


@router.post("/{slug:school}/students/{int:student_id}/move", response=StudentDetail, summary="Move to a class")
def student_move(request: HttpRequest, school: str, student_id: int, payload: MoveIn) -> dict[str, Any]:
    ctx = _roster_ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    student = _roster_student(ctx, student_id)
    to_class = _visible_class(ctx, payload.class_id)
    services.move_student(acting_user=ctx.user, student=student, to_class=to_class, on=payload.on)
    return _student_detail(ctx, _roster_student(ctx, student_id))


@router.post("/{slug:school}/students/{int:student_id}/withdraw", response=StudentDetail, summary="Withdraw")
def student_withdraw(request: HttpRequest, school: str, student_id: int, payload: WithdrawIn) -> dict[str, Any]:
    ctx = _roster_ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    student = _roster_student(ctx, student_id)
    services.withdraw_student(acting_user=ctx.user, student=student, on=payload.on)
    return _student_detail(ctx, _roster_student(ctx, student_id))


# --- guardians ---------------------------------------------------------------------------------------


@router.get("/{slug:school}/students/{int:student_id}/guardians", response=Page[GuardianOut], summary="Guardians")
def guardian_list(request: HttpRequest, school: str, student_id: int, params: Query[GuardianQuery]) -> dict[str, Any]:
    ctx = _roster_ctx(request, school)
    student = _roster_student(ctx, student_id)
    card = queries.student_card(ctx, student)
    current = queries.current_of(card.enrolments)
    contacts = scopes.may_see_contacts(ctx, current.school_class_id if current else None)
    links = [_guardian_out(link, contacts=contacts) for link in card.guardian_links]
    return paginate(request, links, params, GUARDIAN_SORTS)


@router.post(
    "/{slug:school}/students/{int:student_id}/guardians", response={201: GuardianOut}, summary="Add or link a guardian"
)
def guardian_create(request: HttpRequest, school: str, student_id: int, payload: GuardianIn) -> Status[dict[str, Any]]:
    ctx = _roster_ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    student = _roster_student(ctx, student_id)
    if payload.guardian_id is not None:
        guardian = scopes.school_parents(ctx).filter(pk=payload.guardian_id).first()
        if guardian is None:
            raise DomainError(_("This person is not a parent in this school."), field="guardian_id")
        link = services.link_guardian(
            acting_user=ctx.user, student=student, guardian=guardian, relation=payload.relation, may_see=payload.may_see
        )
    else:
        data = payload.dict(include={"last_name", "first_name", "patronymic", "email", "phone"})
        link = services.add_guardian(
            acting_user=ctx.user, student=student, data=data, relation=payload.relation, may_see=payload.may_see
        )
    return Status(201, _guardian_out(link))


def _link(ctx: SchoolContext, student_id: int, link_id: int) -> GuardianLink:
    return scopes.get_or_404(scopes.roster_guardian_links(ctx), pk=link_id, student_id=student_id)


@router.patch(
    "/{slug:school}/students/{int:student_id}/guardians/{int:link_id}", response=GuardianOut, summary="May see?"
)
def guardian_update(
    request: HttpRequest, school: str, student_id: int, link_id: int, payload: GuardianPatch
) -> dict[str, Any]:
    ctx = _roster_ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    link = services.set_guardian_may_see(
        acting_user=ctx.user, link=_link(ctx, student_id, link_id), may_see=payload.may_see
    )
    return _guardian_out(link)


@router.delete(
    "/{slug:school}/students/{int:student_id}/guardians/{int:link_id}", response=GuardianOut, summary="End a link"
)
def guardian_end(request: HttpRequest, school: str, student_id: int, link_id: int) -> dict[str, Any]:
    ctx = _roster_ctx(request, school, write=True)
    _require(scopes.may_manage_students(ctx))
    link = services.end_guardian_link(acting_user=ctx.user, link=_link(ctx, student_id, link_id))
    return _guardian_out(link)


# --- consents ----------------------------------------------------------------------------------------


@router.get("/{slug:school}/students/{int:student_id}/consents", response=ConsentPage, summary="Consents")
def consent_list(request: HttpRequest, school: str, student_id: int, params: Query[ConsentQuery]) -> dict[str, Any]:
    ctx = _roster_ctx(request, school)
    student = _roster_student(ctx, student_id)
    return paginate(request, scopes.roster_consents(ctx).filter(student=student), params, CONSENT_SORTS, _consent_out)


@router.post(
    "/{slug:school}/students/{int:student_id}/consents", response={201: ConsentOut}, summary="Record a consent"
)
def consent_create(request: HttpRequest, school: str, student_id: int, payload: ConsentIn) -> Status[dict[str, Any]]:
    ctx = _roster_ctx(request, school, write=True)
    student = _roster_student(ctx, student_id)
    _require(scopes.may_manage_consents(ctx, student))
    consent = services.record_consent(acting_user=ctx.user, student=student, **payload.dict())
    return Status(201, _consent_out(consent))


@router.post(
    "/{slug:school}/students/{int:student_id}/consents/{int:consent_id}/withdraw",
    response=ConsentOut,
    summary="Withdraw a consent",
)
def consent_withdraw(request: HttpRequest, school: str, student_id: int, consent_id: int) -> dict[str, Any]:
    ctx = _roster_ctx(request, school, write=True)
    student = _roster_student(ctx, student_id)
    _require(scopes.may_manage_consents(ctx, student))
    consent = scopes.get_or_404(scopes.roster_consents(ctx), pk=consent_id, student=student)
    return _consent_out(services.withdraw_consent(acting_user=ctx.user, consent=consent))
