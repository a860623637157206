"""The book of orders and the movement of students it drives (R7.5, R7.2): one function per business action.

- The secretary drafts an order (``create_order``, ``update_order``, ``delete_draft``); a draft changes nothing.
- The director signs it (``sign_order``): signed by whom and when, audited. A signed order is never edited:
  a mistake is put right by a correcting order (``corrects``).
- A signed movement order changes enrolments on its effective day (``apply_order``): at signing when that
  day has come, otherwise ``apply_due_orders`` (``manage.py apply_orders``, daily) applies it on the day.
  Arrival opens an enrolment (and creates the student), departure closes it (the student's journal entries and
  personal file stay, read-only), transfer closes one and opens another, graduation closes them all, held back
  keeps the student in the same year level next year, the year-end order closes the year.
- ``close_year`` ends the year's open enrolments (the year-end order, or after the year's last day once a later
  year is open), so nobody is in two classes at once.

The pages, the API and the command call these; who may is decided in ``classbook.access.records`` and checked
here again, so no door skips it. Enrolment changes reuse the roster's services (``move_student``...).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access import records as rules
from classbook.access.context import build_context
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.people.models import Enrolment, Membership, Role, Student, User
from classbook.records.models import (
    KINDS_WITH_CLASS,
    LineInput,
    Order,
    OrderInput,
    OrderKind,
    OrderLine,
    StudyForm,
)
from classbook.roster import services as roster
from classbook.roster.events import announce_enrolment
from classbook.schools.models import AcademicYear, School, SchoolClass

MAX_LINES = 200


# --- access -----------------------------------------------------------------------------------------------


def _ctx_or_refuse(acting_user: User, school: School, rule: Any, message: Any) -> None:
    ctx = build_context(acting_user, school)
    if ctx is None or not rule(ctx):
        raise PermissionDeniedError(message)


def _require_drafter(acting_user: User, school: School) -> None:
    _ctx_or_refuse(acting_user, school, rules.may_draft_orders, _("Only the secretary drafts orders."))


# --- numbers ----------------------------------------------------------------------------------------------


def suggested_number(school: School, year: AcademicYear) -> int:
    """The next free number of the year's book of orders (numbering starts again every school year)."""
    last = Order.objects.filter(school=school, year=year).aggregate(m=Max("number"))["m"]
    return (last or 0) + 1


# --- validation -------------------------------------------------------------------------------------------

NEW_STUDENT_KEYS = ("last_name", "first_name", "patronymic", "birth_date", "gender")


def _year(school: School, year_id: int) -> AcademicYear:
    year = AcademicYear.objects.filter(school=school, pk=year_id).first()
    if year is None:
        raise DomainError(_("Choose the school year from the list."), field="year")
    return year


def _check_header(school: School, data: OrderInput, year: AcademicYear) -> Order | None:
    if data.kind not in OrderKind.values:
        raise DomainError(_("Choose the kind of the order from the list."), field="kind")
    if not 1 <= data.number <= 99999:
        raise DomainError(_("The number must be between 1 and 99999."), field="number")
    if not (data.text or "").strip():
        raise DomainError(_("Write the text of the order."), field="text")
    if len(data.text) > 4000:
        raise DomainError(_("The text is longer than 4000 characters."), field="text")
    if data.effective_on < data.date:
        raise DomainError(_("An order cannot take effect before its date."), field="effective_on")
    if not year.start <= data.effective_on <= year.end:
        raise DomainError(
            _("The order must take effect inside the school year %(year)s.") % {"year": year.name},
            field="effective_on",
        )
    if data.date > timezone.localdate() + dt.timedelta(days=366):
        raise DomainError(_("The date of the order is too far ahead."), field="date")
    corrects = None
    if data.corrects_id is not None:
        corrects = Order.objects.filter(school=school, pk=data.corrects_id, signed_at__isnull=False).first()
        if corrects is None:
            raise DomainError(_("Only a signed order of the school can be corrected."), field="corrects")
    return corrects


def _new_student_data(raw: dict[str, Any]) -> dict[str, Any]:
    data = {k: raw.get(k) for k in NEW_STUDENT_KEYS if raw.get(k) not in (None, "")}
    for key in ("last_name", "first_name", "patronymic", "gender"):
        if key in data:
            data[key] = str(data[key]).strip()[:150]
    if not data.get("last_name") or not data.get("first_name"):
        raise DomainError(_("Name the new student: last name and first name."), field="lines")
    birth = data.get("birth_date")
    if birth is not None:
        if isinstance(birth, str):
            try:
                birth = dt.date.fromisoformat(birth)
            except ValueError:
                raise DomainError(_("The birth date of the new student is not a date."), field="lines") from None
        if not isinstance(birth, dt.date):
            raise DomainError(_("The birth date of the new student is not a date."), field="lines")
        data["birth_date"] = birth.isoformat()
    return data


def _check_line(school: School, kind: str, year: AcademicYear, line: LineInput, no: int) -> OrderLine:
    """One line as a row (not saved), or a refusal naming the line's number."""

    def refuse(message: Any) -> DomainError:
        return DomainError(_("Line %(no)s: %(problem)s") % {"no": no, "problem": message}, field="lines")

    row = OrderLine(school=school, study_form=line.study_form or "", reason=(line.reason or "").strip()[:255])
    if line.student_id is not None:
        student = Student.objects.filter(school=school, pk=line.student_id).select_related("user").first()
        if student is None:
            raise refuse(_("the student is not a student of this school."))
        if kind != OrderKind.ARRIVAL and student.left_on is not None:
            raise refuse(_("%(name)s has left the school.") % {"name": student.user.full_name})
        row.student = student
    elif kind == OrderKind.ARRIVAL:
        try:
            row.new_student = _new_student_data(line.new_student)
        except DomainError as exc:
            raise refuse(exc.message) from None
    else:
        raise refuse(_("choose the student."))
    if kind in KINDS_WITH_CLASS:
        _check_target(school, kind, year, line, row, refuse)
    elif line.target_class_id is not None:
        raise refuse(_("this kind of order names no class."))
    if kind in (OrderKind.DEPARTURE, OrderKind.EXEMPTION) and not row.reason:
        raise refuse(_("give the reason (for a departure: where the student goes)."))
    if kind == OrderKind.STUDY_FORM and row.study_form not in StudyForm.values:
        raise refuse(_("choose the form of study."))
    if kind != OrderKind.STUDY_FORM and row.study_form:
        raise refuse(_("only a transfer to another form names the form of study."))
    return row


def _check_target(school: School, kind: str, year: AcademicYear, line: LineInput, row: OrderLine, refuse: Any) -> None:
    if line.target_class_id is None:
        if kind == OrderKind.HELD_BACK:
            return  # the next year is not open yet: the year opening keeps the student in the same level
        raise refuse(_("choose the class."))
    target = SchoolClass.objects.filter(school=school, pk=line.target_class_id).select_related("year", "year_level")
    target_class = target.first()
    if target_class is None:
        raise refuse(_("the class is not a class of this school."))
    if kind == OrderKind.HELD_BACK:
        if target_class.year.start <= year.start:
            raise refuse(_("a held-back student goes to a class of the next school year."))
    elif target_class.year_id != year.pk:
        raise refuse(_("the class belongs to another school year."))
    row.target_class = target_class


def _check_lines(school: School, data: OrderInput, year: AcademicYear) -> list[OrderLine]:
    if data.kind == OrderKind.YEAR_END:
        if data.lines:
            raise DomainError(_("An order ending the school year names no students."), field="lines")
        return []
    if not data.lines:
        raise DomainError(_("Name at least one student."), field="lines")
    if len(data.lines) > MAX_LINES:
        raise DomainError(_("At most %(n)s students in one order.") % {"n": MAX_LINES}, field="lines")
    rows = [_check_line(school, data.kind, year, line, no) for no, line in enumerate(data.lines, start=1)]
    ids = [r.student_id for r in rows if r.student_id is not None]
    if len(ids) != len(set(ids)):
        raise DomainError(_("A student is named twice."), field="lines")
    return rows


# --- drafts -----------------------------------------------------------------------------------------------


def _snapshot(order: Order, rows: list[OrderLine]) -> dict[str, Any]:
    return {
        "number": order.number,
        "date": order.date.isoformat(),
        "effective_on": order.effective_on.isoformat(),
        "kind": order.kind,
        "text": order.text,
        "corrects": order.corrects_id,
        "lines": [
            {
                "student": r.student_id,
                "new_student": r.new_student,
                "class": r.target_class_id,
                "form": r.study_form,
                "reason": r.reason,
            }
            for r in rows
        ],
    }


def _save_lines(order: Order, rows: list[OrderLine]) -> None:
    for row in rows:
        row.order = order
    OrderLine.objects.bulk_create(rows)


def _number_taken(school: School, year: AcademicYear, number: int, exclude: int | None = None) -> None:
    qs = Order.objects.filter(school=school, year=year, number=number)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ConflictError(
            _("The number %(number)s is taken in %(year)s; the next free one is %(next)s.")
            % {"number": number, "year": year.name, "next": suggested_number(school, year)},
        )


@transaction.atomic
def create_order(*, acting_user: User, school: School, data: OrderInput) -> Order:
    """Draft an order (R7.5). Nothing changes for the students until the director signs it."""
    _require_drafter(acting_user, school)
    year = _year(school, data.year_id)
    corrects = _check_header(school, data, year)
    rows = _check_lines(school, data, year)
    _number_taken(school, year, data.number)
    order = Order(
        school=school,
        year=year,
        number=data.number,
        date=data.date,
        effective_on=data.effective_on,
        kind=data.kind,
        text=data.text.strip(),
        corrects=corrects,
        created_by=acting_user,
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:  # two drafts took the number at once
        raise ConflictError(_("The number %(number)s is taken.") % {"number": data.number}) from None
    _save_lines(order, rows)
    log_action("records.order.created", actor=acting_user, school=school, obj=order, data=_snapshot(order, rows))
    return order


def _locked_draft(order: Order) -> Order:
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.is_signed:
        raise ConflictError(_("A signed order cannot be changed; issue a correcting order instead."))
    return order


@transaction.atomic
def update_order(*, acting_user: User, order: Order, data: OrderInput) -> Order:
    """Change a draft (its lines are replaced). A signed order is refused."""
    _require_drafter(acting_user, order.school)
    order = _locked_draft(order)
    school = order.school
    year = _year(school, data.year_id)
    corrects = _check_header(school, data, year)
    if corrects is not None and corrects.pk == order.pk:
        raise DomainError(_("An order cannot correct itself."), field="corrects")
    rows = _check_lines(school, data, year)
    _number_taken(school, year, data.number, exclude=order.pk)
    old = _snapshot(order, list(order.lines.all()))
    order.year, order.number, order.date, order.effective_on = year, data.number, data.date, data.effective_on
    order.kind, order.text, order.corrects = data.kind, data.text.strip(), corrects
    order.save()
    order.lines.all().delete()
    _save_lines(order, rows)
    log_action(
        "records.order.updated",
        actor=acting_user,
        school=school,
        obj=order,
        data={"old": old, "new": _snapshot(order, rows)},
    )
    return order


@transaction.atomic
def delete_draft(*, acting_user: User, order: Order) -> None:
    """Throw a draft away (it never was an order: it was not signed). The audit log keeps what it said."""
    _require_drafter(acting_user, order.school)
    order = _locked_draft(order)
    snapshot = _snapshot(order, list(order.lines.all()))
    log_action("records.order.deleted", actor=acting_user, school=order.school, obj=order, data={"old": snapshot})
    order.delete()


# --- signing and applying ---------------------------------------------------------------------------------


@transaction.atomic
def sign_order(*, acting_user: User, order: Order) -> Order:
    """The director signs (R7.5): signed by and at, audited. When its day has come the order takes effect at
    once — in the same transaction: an order that cannot take effect is not signed, and nothing changes."""
    _ctx_or_refuse(acting_user, order.school, rules.may_sign_orders, _("Only the director signs orders."))
    order = _locked_draft(order)
    if order.corrects_id is not None and order.corrects_id == order.pk:
        raise DomainError(_("An order cannot correct itself."))
    order.signed_by, order.signed_at = acting_user, timezone.now()
    order.save(update_fields=["signed_by", "signed_at"])
    log_action(
        "records.order.signed",
        actor=acting_user,
        school=order.school,
        obj=order,
        data={"number": order.number, "kind": order.kind, "effective_on": order.effective_on.isoformat()},
    )
    if order.effective_on <= timezone.localdate():
        _apply(order, acting_user)
    return order


def _apply(order: Order, acting_user: User | None) -> None:
    lines = list(order.lines.select_related("student__user", "target_class__year", "target_class__year_level"))
    day = order.effective_on
    done: list[dict[str, Any]] = []
    if order.kind == OrderKind.YEAR_END:
        closed = _close(order.year, day)
        done.append({"closed": closed})
    for line in lines:
        done.append(_apply_line(order, line, day, acting_user))
    order.applied_at = timezone.now()
    order.save(update_fields=["applied_at"])
    log_action(
        "records.order.applied",
        actor=acting_user,
        school=order.school,
        obj=order,
        data={"number": order.number, "kind": order.kind, "on": day.isoformat(), "lines": done},
    )


def _apply_line(order: Order, line: OrderLine, day: dt.date, acting_user: Any) -> dict[str, Any]:
    kind = order.kind
    if kind == OrderKind.ARRIVAL:
        return _arrive(line, day, acting_user)
    student = line.student
    assert student is not None  # only arrivals name new students
    if kind in (OrderKind.DEPARTURE, OrderKind.GRADUATION):
        return _leave(student, day, acting_user)
    if kind == OrderKind.TRANSFER:
        assert line.target_class is not None
        new = roster.move_student(acting_user=acting_user, student=student, to_class=line.target_class, on=day)
        return {"student": student.pk, "enrolment": new.pk}
    if kind == OrderKind.HELD_BACK:
        return _hold_back(order, line)
    return {"student": student.pk}  # a form of study or an exemption: recorded, no class changes


def _arrive(line: OrderLine, day: dt.date, acting_user: Any) -> dict[str, Any]:
    target = line.target_class
    assert target is not None
    if line.student is None:
        data = dict(line.new_student)
        if data.get("birth_date"):
            data["birth_date"] = dt.date.fromisoformat(data["birth_date"])
        student = roster.add_student(acting_user=acting_user, school_class=target, data=data, start=day)
        line.student = student
        line.save(update_fields=["student"])
        return {"student": student.pk, "class": target.pk, "new": True}
    student = Student.objects.select_for_update().get(pk=line.student.pk)
    if Enrolment.objects.filter(student=student, end__isnull=True).exists():
        raise DomainError(_("%(name)s is in a class already.") % {"name": student.user.full_name})
    if Enrolment.objects.filter(student=student, school_class=target).exists():
        raise ConflictError(
            _("%(name)s was in this class before; choose another class.") % {"name": student.user.full_name}
        )
    Enrolment.objects.create(school=student.school, student=student, school_class=target, start=day)
    if student.left_on is not None:  # a returning student: the personal file opens again
        student.left_on = None
        student.save(update_fields=["left_on"])
    Membership.objects.update_or_create(
        school=student.school, user_id=student.user_id, role=Role.STUDENT, defaults={"is_active": True, "until": None}
    )
    announce_enrolment("added", school_id=student.school_id, student_id=student.pk, class_id=target.pk, on=day)
    return {"student": student.pk, "class": target.pk, "new": False}


def _leave(student: Student, day: dt.date, acting_user: Any) -> dict[str, Any]:
    """The student leaves the school on ``day`` (a departure, a graduation): the roster's withdrawal (left date,
    class closed, student role ended), then every other open enrolment ends too — last year's class not yet
    closed, and a class of the next year that has not begun, which is removed (it never started; the audit
    entry names it)."""
    roster.withdraw_student(acting_user=acting_user, student=student, on=day)
    others = Enrolment.objects.filter(student=student, end__isnull=True)
    removed = list(others.filter(start__gt=day).values_list("school_class_id", flat=True))
    others.filter(start__gt=day).delete()
    closed = list(others.values_list("pk", flat=True))
    others.update(end=day)
    return {"student": student.pk, "left_on": day.isoformat(), "also_closed": closed, "removed_from": removed}


def _hold_back(order: Order, line: OrderLine) -> dict[str, Any]:
    """Held back: next year the student stays in the same year level. With the next year open, the next
    year's enrolment moves to the named class (before it starts); otherwise the year opening does it."""
    student, target = line.student, line.target_class
    assert student is not None
    if target is None:
        return {"student": student.pk, "at_opening": True}
    if target.year_level.number > _level_in(order.year, student):
        raise DomainError(_("A held-back student stays in the same year level; choose a class of that level."))
    next_rows = Enrolment.objects.select_for_update().filter(student=student, school_class__year=target.year)
    row = next_rows.first()
    if row is None:
        row = Enrolment.objects.create(
            school=student.school, student=student, school_class=target, start=target.year.start
        )
        return {"student": student.pk, "enrolment": row.pk, "class": target.pk}
    if row.start <= timezone.localdate() and row.school_class_id != target.pk:
        raise DomainError(_("The next school year has begun; record a transfer between classes instead."))
    old_class = row.school_class_id
    row.school_class = target
    row.save(update_fields=["school_class"])
    return {"student": student.pk, "enrolment": row.pk, "class": target.pk, "old_class": old_class}


def _level_in(year: AcademicYear, student: Student) -> int:
    row = (
        Enrolment.objects.filter(student=student, school_class__year=year)
        .select_related("school_class__year_level")
        .order_by("-start")
        .first()
    )
    if row is None:
        raise DomainError(
            _("%(name)s was in no class of %(year)s.") % {"name": student.user.full_name, "year": year.name}
        )
    return row.school_class.year_level.number


def apply_due_orders(*, school: School | None = None, today: dt.date | None = None) -> tuple[int, int]:
    """Apply the signed orders whose day has come (``manage.py apply_orders``, daily). Each in its own
    transaction: one that cannot take effect (the student left meanwhile) is recorded in the audit log as
    failed, stays unapplied on the order's page, and the others go on. Answers (applied, failed)."""
    today = today or timezone.localdate()
    due = Order.objects.filter(signed_at__isnull=False, applied_at__isnull=True, effective_on__lte=today)
    if school is not None:
        due = due.filter(school=school)
    applied = failed = 0
    for order in due.select_related("school", "year").order_by("effective_on", "number"):
        try:
            with transaction.atomic():
                _apply(Order.objects.select_for_update().get(pk=order.pk), order.signed_by)
            applied += 1
        except DomainError as exc:
            failed += 1
            log_action(
                "records.order.apply_failed",
                actor=None,
                school=order.school,
                obj=order,
                data={"number": order.number, "error": str(exc.message)},
            )
    return applied, failed


# --- closing a year ---------------------------------------------------------------------------------------


def _close(year: AcademicYear, day: dt.date) -> int:
    rows = Enrolment.objects.filter(school_id=year.school_id, school_class__year=year, end__isnull=True)
    count = rows.filter(start__lte=day).update(end=day)
    return count


@transaction.atomic
def close_year(*, acting_user: User | None, year: AcademicYear, on: dt.date | None = None) -> int:
    """End the year's open enrolments on ``on`` (default: the year's last day): the students are no longer in
    last year's classes, only in the new ones. Their journals, grades and class history stay as they were."""
    if acting_user is not None:
        _ctx_or_refuse(
            acting_user, year.school, rules.may_close_years, _("Only the secretary or an administrator closes a year.")
        )
    today = timezone.localdate()
    day = on or min(year.end, today)
    if not year.start <= day <= year.end:
        raise DomainError(_("Close the year on a day inside it."), field="on")
    if day > today:
        raise DomainError(_("A year cannot be closed in advance; close it on its day."), field="on")
    count = _close(year, day)
    log_action(
        "records.year.closed",
        actor=acting_user,
        school=year.school,
        obj=year,
        data={"year": year.name, "on": day.isoformat(), "enrolments": count},
    )
    return count


def close_ended_years(*, school: School | None = None, today: dt.date | None = None) -> int:
    """Close every year whose last day has passed once a later year of the school exists (after the year
    opening), on its last day. A year with no successor stays open: its class lists are the school's lists
    until the next year is opened."""
    today = today or timezone.localdate()
    years = AcademicYear.objects.filter(end__lt=today).select_related("school")
    if school is not None:
        years = years.filter(school=school)
    closed = 0
    for year in years:
        later = AcademicYear.objects.filter(school_id=year.school_id, start__gt=year.start).exists()
        still_open = Enrolment.objects.filter(school_class__year=year, end__isnull=True).exists()
        if later and still_open:
            closed += close_year(acting_user=None, year=year)
    return closed


# --- the year opening's hook ------------------------------------------------------------------------------


def held_back_for_opening(school: School, source: AcademicYear) -> set[int]:
    """Students a signed "held back" order of ``source`` names: the year opening keeps them in their level."""
    return set(
        OrderLine.objects.filter(
            school=school,
            order__year=source,
            order__kind=OrderKind.HELD_BACK,
            order__signed_at__isnull=False,
            student__isnull=False,
        ).values_list("student_id", flat=True)
    )
