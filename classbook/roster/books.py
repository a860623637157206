"""The book of certificates issued and parents' requests to change personal data: one function per action
(R7.3, R7.6). Transactional, audited, the permission re-checked through ``classbook.access.roster_books``.

Pages, the API and any import call these; none writes the models directly. Nothing here deletes: a line of
the book is corrected (old values kept in the audit log), a request is accepted or rejected (kept).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access import roster_books as rules
from classbook.access.context import SchoolContext
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.params import is_whole_number
from classbook.core.text import clean_text
from classbook.people.models import Student, User
from classbook.roster import services
from classbook.roster.models import ChangeRequest, ChangeTarget, DocumentKind, IssuedDocument, RequestStatus

# --- The book of certificates issued (R7.3) ---------------------------------------------------------------

SERIES = re.compile(r"^[0-9A-ZА-ЯЁЇІЄҐ-]{1,10}$")
NUMBER = re.compile(r"^[0-9A-ZА-ЯЁЇІЄҐ/-]{1,20}$")
EARLIEST_ISSUE = dt.date(1950, 1, 1)
BOOK_FIELDS = ("kind", "series", "number", "issued_on", "received_by_guardian", "received_by_name")
BOOK_FIELDS_ALL = (*BOOK_FIELDS, "receipt_signed", "remarks")


def _document_values(ctx: SchoolContext, student: Student, data: dict[str, Any]) -> dict[str, Any]:
    """The checked values of a line: kind, series and number, a date of issue, who received it."""
    kind = data.get("kind") or ""
    if kind not in DocumentKind.values:
        raise DomainError(_("Choose the kind of document."), code="invalid_kind", field="kind")
    series = clean_text(data.get("series"), field="series", limit=10, required=True, message=_("Enter the series."))
    series = series.upper()
    if not SERIES.match(series):
        raise DomainError(_("The series holds capital letters and digits only."), field="series")
    number = clean_text(data.get("number"), field="number", limit=20, required=True, message=_("Enter the number."))
    number = number.upper()
    if not NUMBER.match(number):
        raise DomainError(_("The number holds digits and letters only."), field="number")
    issued_on = data.get("issued_on")
    if not isinstance(issued_on, dt.date):
        raise DomainError(_("Enter the date of issue."), code="required", field="issued_on")
    if issued_on > timezone.localdate():
        raise DomainError(_("A document cannot be recorded before it is issued."), field="issued_on")
    if issued_on < EARLIEST_ISSUE:
        raise DomainError(_("The date of issue looks wrong."), field="issued_on")
    guardian, name = _receiver(ctx, student, data)
    return {
        "kind": kind,
        "series": series,
        "number": number,
        "issued_on": issued_on,
        "received_by_guardian": guardian,
        "received_by_name": name,
        "receipt_signed": bool(data.get("receipt_signed")),
        "remarks": clean_text(data.get("remarks"), field="remarks", limit=500, required=False),
    }


def _receiver(ctx: SchoolContext, student: Student, data: dict[str, Any]) -> tuple[User | None, str]:
    """The student (nothing given), one of the student's guardians (their name kept as it was that day), or a
    named person with a power of attorney (a name only)."""
    guardian_id = data.get("received_by_guardian")
    name = clean_text(data.get("received_by_name"), field="received_by_name", limit=255, required=False)
    if guardian_id in (None, ""):
        return None, name
    guardian = (
        rules.receiving_guardians(ctx, student).filter(pk=guardian_id).first()
        if is_whole_number(str(guardian_id))
        else None
    )
    if guardian is None:
        raise DomainError(_("Choose one of the student's parents."), field="received_by_guardian")
    return guardian, guardian.full_name


def _check_keeper(ctx: SchoolContext, student: Student) -> None:
    if not rules.may_keep_certificate_book(ctx):
        raise PermissionDeniedError(_("You may not keep the book of certificates issued."))
    if student.school_id != ctx.school.pk:
        raise DomainError(_("Unknown student."), field="student")


def _snapshot(doc: IssuedDocument) -> dict[str, Any]:
    values = {k: getattr(doc, k) for k in BOOK_FIELDS_ALL if k != "received_by_guardian"}
    values["received_by_guardian"] = doc.received_by_guardian_id
    values["issued_on"] = doc.issued_on.isoformat()
    return values


def _taken(ctx: SchoolContext, series: str, number: str, exclude: int | None = None) -> None:
    qs = IssuedDocument.objects.filter(school=ctx.school, series=series, number=number)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ConflictError(
            _("A document %(series)s № %(number)s is already in the book.") % {"series": series, "number": number}
        )


@transaction.atomic
def record_issued_document(*, ctx: SchoolContext, student: Student, data: dict[str, Any]) -> IssuedDocument:
    """Write a line of the book of certificates issued (R7.3): series and number are unique in the school."""
    _check_keeper(ctx, student)
    values = _document_values(ctx, student, data)
    _taken(ctx, values["series"], values["number"])
    doc = IssuedDocument(school=ctx.school, student=student, recorded_by=ctx.user, **values)
    try:
        with transaction.atomic():
            doc.save()
    except IntegrityError as exc:  # two secretaries typing the same number at once
        raise ConflictError(_("This series and number were just recorded by someone else.")) from exc
    log_action(
        "roster.certificate.recorded",
        actor=ctx.user,
        school=ctx.school,
        obj=doc,
        data={"student": student.pk, "new": _snapshot(doc)},
    )
    return doc


@transaction.atomic
def correct_issued_document(
    *, ctx: SchoolContext, document: IssuedDocument, data: dict[str, Any], reason: str, expected_version: int
) -> IssuedDocument:
    """Correct a line of the book: the old and new values and the reason go to the audit log; nothing is
    deleted. ``expected_version`` is the version the user saw (two people correcting the same line)."""
    doc = IssuedDocument.objects.select_for_update().select_related("student").get(pk=document.pk)
    _check_keeper(ctx, doc.student)
    reason = clean_text(
        reason, field="reason", limit=500, required=True, message=_("Give the reason of the correction.")
    )
    if doc.version != expected_version:
        raise ConflictError(_("Someone has corrected this line meanwhile; open it again."))
    values = _document_values(ctx, doc.student, data)
    _taken(ctx, values["series"], values["number"], exclude=doc.pk)
    old = _snapshot(doc)
    for key, value in values.items():
        setattr(doc, key, value)
    new = _snapshot(doc)
    changed = {k: {"old": old[k], "new": new[k]} for k in new if old[k] != new[k]}
    if not changed:
        raise DomainError(_("Nothing has changed."), code="unchanged")
    doc.version += 1
    doc.save()
    log_action(
        "roster.certificate.corrected",
        actor=ctx.user,
        school=ctx.school,
        obj=doc,
        data={"student": doc.student_id, "changes": changed, "reason": reason, "version": doc.version},
    )
    return doc


# --- Parents report changes of personal data (R7.6, seed 004 §4.4.2) --------------------------------------

# What a parent may ask to change: the child's names and contacts, their own names and contacts.
REQUEST_FIELDS: dict[str, tuple[str, ...]] = {
    ChangeTarget.STUDENT: ("last_name", "first_name", "patronymic", "address", "phone"),
    ChangeTarget.GUARDIAN: ("last_name", "first_name", "patronymic", "phone", "email"),
}
NAME_FIELDS = frozenset({"last_name", "first_name", "patronymic"})
FIELD_LIMITS = {"last_name": 150, "first_name": 150, "patronymic": 150, "address": 255, "phone": 32, "email": 254}
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,30}$")


def _check_value(field: str, value: str) -> None:
    if len(value) > FIELD_LIMITS[field]:
        raise DomainError(
            _("The text is too long (%(limit)s characters at most).") % {"limit": FIELD_LIMITS[field]},
            code="too_long",
            field=field,
        )
    if field == "phone" and not PHONE.match(value):
        raise DomainError(_("Enter the phone number in digits, e.g. +380 67 123 45 67."), field=field)
    if field == "email":
        try:
            validate_email(value)
        except ValidationError as exc:
            raise DomainError(_("Enter a valid e-mail address."), field=field) from exc
    if field in ("last_name", "first_name") and not value:
        raise DomainError(_("Enter the last name and the first name."), field=field)


def _current_values(student: Student, target: str, requester: User) -> dict[str, str]:
    if target == ChangeTarget.STUDENT:
        user = student.user
        return {
            "last_name": user.last_name,
            "first_name": user.first_name,
            "patronymic": user.patronymic,
            "address": student.address,
            "phone": student.phone,
        }
    return {k: getattr(requester, k) for k in REQUEST_FIELDS[ChangeTarget.GUARDIAN]}


def _requested_changes(target: str, changes: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    """Only the fields that differ from today's values; an empty field means "no change"."""
    allowed = REQUEST_FIELDS[target]
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise DomainError(
            _("These data cannot be changed by a request: %(fields)s.") % {"fields": ", ".join(unknown)[:200]},
            field=unknown[0],
        )
    wanted = {k: str(v or "").strip() for k, v in changes.items() if str(v or "").strip()}
    wanted = {k: v for k, v in wanted.items() if v != current.get(k, "")}
    if not wanted:
        raise DomainError(_("Enter at least one new value that differs from the current one."), code="unchanged")
    for field, value in wanted.items():
        _check_value(field, value)
    return wanted


@transaction.atomic
def submit_change_request(
    *, ctx: SchoolContext, student: Student, target: str, changes: dict[str, Any], reason: str = ""
) -> ChangeRequest:
    """A parent reports new personal data of their child or of themselves (R7.6). A name change needs a reason
    (the document behind it: a marriage, a court decision). Nothing changes until a reviewer accepts."""
    if not rules.may_request_for(ctx, student):
        raise PermissionDeniedError(_("You may ask for changes of your own children's data only."))
    if target not in ChangeTarget.values:
        raise DomainError(_("Choose whose data change."), code="invalid_target", field="target")
    if not isinstance(changes, dict):
        raise DomainError(_("Enter at least one new value that differs from the current one."), code="unchanged")
    wanted = _requested_changes(target, changes, _current_values(student, target, ctx.user))
    reason = clean_text(reason, field="reason", limit=500, required=False)
    if NAME_FIELDS & set(wanted) and not reason:
        raise DomainError(
            _("A change of name needs its reason (e.g. a marriage certificate)."), code="required", field="reason"
        )
    request = ChangeRequest.objects.create(
        school=ctx.school, student=student, requested_by=ctx.user, target=target, changes=wanted, reason=reason
    )
    log_action(
        "roster.change_request.submitted",
        actor=ctx.user,
        school=ctx.school,
        obj=request,
        data={"student": student.pk, "target": target, "fields": sorted(wanted)},
    )
    return request


def _apply(ctx: SchoolContext, request: ChangeRequest) -> None:
    """The values go through the roster's own services (their audit entries name the request)."""
    reference = {"change_request": request.pk}
    if request.target == ChangeTarget.STUDENT:
        services.update_student(
            acting_user=ctx.user,
            student=request.student,
            data=dict(request.changes),
            fields=tuple(request.changes),
            reference=reference,
        )
    else:
        services.update_guardian(
            acting_user=ctx.user,
            school=ctx.school,
            guardian=request.requested_by,
            data=dict(request.changes),
            reference=reference,
        )


@transaction.atomic
def decide_change_request(
    *, ctx: SchoolContext, request: ChangeRequest, accept: bool, reason: str = ""
) -> ChangeRequest:
    """The class teacher or the secretary accepts a request (the values are applied, audited, with the request
    referenced) or rejects it with a reason the parent reads (R7.6). A decided request stays as it is."""
    locked = (
        ChangeRequest.objects.select_for_update().select_related("student__user", "requested_by").get(pk=request.pk)
    )
    if not rules.may_decide(ctx, locked):
        raise PermissionDeniedError(_("You may not decide this request."))
    if locked.status != RequestStatus.PENDING:
        raise ConflictError(_("This request has already been decided."))
    reason = clean_text(
        reason, field="reason", limit=500, required=not accept, message=_("Give the reason of the rejection.")
    )
    if accept:
        _apply(ctx, locked)
    locked.status = RequestStatus.ACCEPTED if accept else RequestStatus.REJECTED
    locked.decided_by, locked.decided_at, locked.decision_reason = ctx.user, timezone.now(), reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    log_action(
        "roster.change_request.accepted" if accept else "roster.change_request.rejected",
        actor=ctx.user,
        school=ctx.school,
        obj=locked,
        data={"student": locked.student_id, "target": locked.target, "changes": locked.changes, "reason": reason},
    )
    return locked
