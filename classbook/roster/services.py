"""Changes to the people of a school: one function per business action, transactional, audited.

Every function takes a keyword-only ``acting_user``, validates its input and raises
``DomainError`` with a translated message; views and the API call these and never write models.
Access (who may call what) is checked by the caller through ``classbook.access``; the services
guard the business rules (same school, same year, the last administrator...).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.people.models import (
    STAFF_ROLES,
    Consent,
    ConsentPurpose,
    Enrolment,
    Gender,
    GuardianLink,
    Membership,
    Role,
    Student,
    User,
    current_enrolment_q,
)
from classbook.roster.events import announce_enrolment
from classbook.roster.translit import free_username, username_base
from classbook.schools.models import School, SchoolClass

NAME_FIELDS = ("last_name", "first_name", "patronymic")
STAFF_FIELDS = (*NAME_FIELDS, "email", "phone")
STUDENT_USER_FIELDS = NAME_FIELDS
STUDENT_FIELDS = ("birth_date", "gender", "address", "phone", "personal_file_number")
# What a class teacher may change on a student of their own class.
STUDENT_CONTACT_FIELDS = ("address", "phone")
GUARDIAN_FIELDS = (*NAME_FIELDS, "email", "phone")
MAX_AGE_YEARS = 100
MIN_AGE_YEARS = 2


# --- helpers ---------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _diff(obj: Any, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Apply ``changes`` to ``obj`` and return {field: {"old", "new"}} for the fields that changed."""
    diff: dict[str, dict[str, Any]] = {}
    for name, new in changes.items():
        old = getattr(obj, name)
        if old != new:
            diff[name] = {"old": _jsonable(old), "new": _jsonable(new)}
            setattr(obj, name, new)
    return diff


def _clean(obj: Any, *, exclude: list[str] | None = None) -> None:
    """Model validation as a DomainError naming the first failing field."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=None if field == "__all__" else field) from exc


def _clean_names(data: dict[str, Any]) -> dict[str, str]:
    names = {k: str(data.get(k) or "").strip() for k in NAME_FIELDS if k in data}
    for key in ("last_name", "first_name"):
        if key in names and not names[key]:
            raise DomainError(_("Enter the last name and the first name."), field=key)
    return names


def _check_birth_date(birth_date: dt.date | None) -> None:
    """A birth date in the future or giving an absurd age is a typing error (R7.3)."""
    if birth_date is None:
        return
    today = _today()
    if birth_date > today:
        raise DomainError(_("The birth date is in the future."), field="birth_date")
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age < MIN_AGE_YEARS or age > MAX_AGE_YEARS:
        raise DomainError(
            _("The birth date looks wrong: the student would be %(age)s years old.") % {"age": age},
            field="birth_date",
        )


def unique_username(last_name: str, first_name: str) -> str:
    """A free login name from the transliterated name: ``shevchenko.taras``, then ``shevchenko.taras2``..."""
    base = username_base(last_name, first_name)[:140]
    taken = set(get_user_model().objects.filter(username__startswith=base).values_list("username", flat=True))
    return free_username(base, taken)


def _new_user(data: dict[str, Any], fields: tuple[str, ...]) -> User:
    """A person who will activate their account later with an activation code: no usable password."""
    values = {k: data.get(k) or "" for k in fields}
    values.update(_clean_names(data))
    user = User(username=unique_username(values["last_name"], values["first_name"]), **values)
    user.set_unusable_password()
    _clean(user, exclude=["password"])
    user.save()
    return user


def _user_snapshot(user: User, fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: getattr(user, k) for k in fields}


# --- staff (R1.7, R1.8) ------------------------------------------------------------------------------


def _check_staff_role(role: str) -> None:
    if role not in STAFF_ROLES:
        raise DomainError(_("“%(role)s” is not a staff role.") % {"role": str(role)[:20]}, field="roles")


@transaction.atomic
def add_staff_member(
    *, acting_user: User | None, school: School, data: dict[str, Any], roles: list[str], position: str = ""
) -> User:
    """Create a staff member with the chosen roles; they log in later with an activation code (R1.2, R1.7).

    ``acting_user`` is None only for the operator's ``create_school`` command (the first administrator).
    """
    if not roles:
        raise DomainError(_("Choose at least one role."), field="roles")
    for role in roles:
        _check_staff_role(role)
    user = _new_user(data, STAFF_FIELDS)
    memberships = [
        Membership.objects.create(school=school, user=user, role=role, position=position.strip())
        for role in dict.fromkeys(roles)
    ]
    log_action(
        "roster.staff.added",
        actor=acting_user,
        school=school,
        obj=user,
        data={"new": _user_snapshot(user, STAFF_FIELDS), "roles": sorted(set(roles)), "position": position},
    )
    for membership in memberships:
        _log_role("people.role.granted", acting_user=acting_user, school=school, membership=membership)
    return user


@transaction.atomic
def update_staff_member(
    *, acting_user: User, school: School, user: User, data: dict[str, Any], position: str | None = None
) -> User:
    """Edit a staff member's names, contacts and position (R1.7)."""
    changes = {k: str(data[k] or "").strip() for k in STAFF_FIELDS if k in data}
    changes.update(_clean_names(data))
    user = User.objects.select_for_update().get(pk=user.pk)
    diff = _diff(user, changes)
    _clean(user, exclude=["password", "username"])
    user.save()
    if position is not None:
        for membership in Membership.objects.filter(school=school, user=user, role__in=list(STAFF_ROLES)):
            if membership.position != position.strip():
                diff[f"position:{membership.role}"] = {"old": membership.position, "new": position.strip()}
                membership.position = position.strip()
                membership.save(update_fields=["position"])
    log_action("roster.staff.updated", actor=acting_user, school=school, obj=user, data={"changes": diff})
    return user


def _log_role(action: str, *, acting_user: User | None, school: School, membership: Membership) -> None:
    """A staff role given or taken is a security event: its own audit entry, with the school, about the person.

    Family roles (student, parent) are recorded by the roster's own entries (student added, guardian
    added, students imported, student withdrawn), whose subject is the same person.
    """
    log_action(
        action,
        actor=acting_user,
        school=school,
        obj=membership,
        data={"user": membership.user_id, "role": membership.role},
    )


def _is_active_admin(school: School, user: User) -> bool:
    return (
        Membership.objects.filter(school=school, user=user, role=Role.ADMIN, is_active=True)
        .exclude(until__lt=_today())
        .exists()
    )


@transaction.atomic
def grant_role(*, acting_user: User, school: School, user: User, role: str, position: str = "") -> Membership:
    """Give a staff role (R1.8); a revoked role is switched on again rather than duplicated."""
    _check_staff_role(role)
    if user.pk == acting_user.pk and not _is_active_admin(school, acting_user):
        # Separation of duties: only an administrator may add a role to their own account (a director
        # granting themselves the administrator role would escalate their own rights unseen).
        raise PermissionDeniedError(_("You cannot give a role to yourself; ask the school administrator."))
    membership, created = Membership.objects.select_for_update().get_or_create(
        school=school, user=user, role=role, defaults={"position": position.strip()}
    )
    if not created:
        if membership.is_active and (membership.until is None or membership.until >= _today()):
            raise ConflictError(_("This person already has this role."))
        membership.is_active, membership.until, membership.since = True, None, _today()
        membership.save(update_fields=["is_active", "until", "since"])
    _log_role("people.role.granted", acting_user=acting_user, school=school, membership=membership)
    return membership


@transaction.atomic
def revoke_role(*, acting_user: User, school: School, user: User, role: str) -> Membership:
    """End a staff role: the row stays (history), switched off with an end date (R1.8).

    The school must keep at least one administrator: nobody (a director included) removes the last one.
    """
    _check_staff_role(role)
    today = _today()
    # Lock every active row of the role: two people removing two administrators at once must not
    # both pass the "another administrator remains" check.
    active = list(
        Membership.objects.select_for_update()
        .filter(school=school, role=role, is_active=True)
        .exclude(until__lt=today)
        .order_by("pk")
    )
    membership = next((m for m in active if m.user_id == user.pk), None)
    if membership is None:
        raise DomainError(_("This person does not have this role."), field="role")
    if role == Role.ADMIN and len(active) == 1:
        raise ConflictError(_("The school must keep at least one administrator."))
    membership.is_active, membership.until = False, today
    membership.save(update_fields=["is_active", "until"])
    _log_role("people.role.removed", acting_user=acting_user, school=school, membership=membership)
    return membership


# --- students (R7.2, R7.3) ---------------------------------------------------------------------------


def _student_snapshot(student: Student) -> dict[str, Any]:
    data = {k: _jsonable(getattr(student, k)) for k in STUDENT_FIELDS}
    data.update(_user_snapshot(student.user, STUDENT_USER_FIELDS))
    return data


def _check_gender(gender: str) -> None:
    if gender and gender not in Gender.values:
        raise DomainError(_("Choose the gender from the list."), field="gender")


@transaction.atomic
def add_student(
    *, acting_user: User, school_class: SchoolClass, data: dict[str, Any], start: dt.date | None = None
) -> Student:
    """Put a new student into a class: account (activated later), student role, personal file, enrolment (R7.2)."""
    school = school_class.school
    start = start or max(_today(), school_class.year.start)
    _check_birth_date(data.get("birth_date"))
    _check_gender(data.get("gender") or "")
    if not (school_class.year.start <= start <= school_class.year.end):
        raise DomainError(_("The first day must lie inside the class's academic year."), field="start")
    user = _new_user(data, STUDENT_USER_FIELDS)
    student = Student(
        school=school, user=user, **{k: data.get(k) or ("" if k != "birth_date" else None) for k in STUDENT_FIELDS}
    )
    _clean(student, exclude=["user", "school"])
    student.save()
    Membership.objects.create(school=school, user=user, role=Role.STUDENT)
    Enrolment.objects.create(school=school, student=student, school_class=school_class, start=start)
    log_action(
        "roster.student.added",
        actor=acting_user,
        school=school,
        obj=student,
        data={"new": _student_snapshot(student), "class": school_class.pk, "start": start.isoformat()},
    )
    announce_enrolment("added", school_id=school.pk, student_id=student.pk, class_id=school_class.pk, on=start)
    return student


@transaction.atomic
def update_student(
    *,
    acting_user: User,
    student: Student,
    data: dict[str, Any],
    fields: tuple[str, ...],
    reference: dict[str, Any] | None = None,
) -> Student:
    """Edit a student's personal file; ``fields`` limits what the caller may change (contacts only for a
    class teacher, R7.3). Old and new values go to the audit log, with ``reference`` (e.g. the parent's
    request that asked for the change, R7.6)."""
    unknown = set(data) - set(fields)
    if unknown:
        raise PermissionDeniedError(_("You may not change: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    student = Student.objects.select_for_update().select_related("user").get(pk=student.pk)
    if student.has_left:
        # The personal file of a student who left is kept as it was (R7.3); a returning student's arrival
        # order opens it again.
        raise ConflictError(_("The student has left the school; their personal file is kept read-only."))
    user_changes = _clean_names({k: v for k, v in data.items() if k in STUDENT_USER_FIELDS})
    student_changes = {k: v for k, v in data.items() if k in STUDENT_FIELDS}
    for key in ("address", "phone", "personal_file_number", "gender"):
        if key in student_changes:
            student_changes[key] = str(student_changes[key] or "").strip()
    if "birth_date" in student_changes:
        _check_birth_date(student_changes["birth_date"])
    _check_gender(student_changes.get("gender", ""))
    diff = _diff(student.user, user_changes)
    diff.update(_diff(student, student_changes))
    _clean(student.user, exclude=["password", "username"])
    _clean(student, exclude=["user", "school"])
    student.user.save()
    student.save()
    log_action(
        "roster.student.updated",
        actor=acting_user,
        school=student.school,
        obj=student,
        data={"changes": diff, **(reference or {})},
    )
    return student


def _current_enrolment(student: Student) -> Enrolment | None:
    """The enrolment in the school's current year (``current_enrolment_q``), else the latest open one."""
    rows = Enrolment.objects.select_for_update().select_related("school_class__year").filter(student=student)
    current = rows.filter(current_enrolment_q(student.school_id)).order_by("-start").first()
    return current or rows.filter(end__isnull=True).order_by("-start").first()


@transaction.atomic
def move_student(*, acting_user: User, student: Student, to_class: SchoolClass, on: dt.date) -> Enrolment:
    """Transfer to another class of the same school and year (R7.2): the current enrolment ends the day
    before ``on`` and a new one starts on ``on`` — both or neither."""
    if to_class.school_id != student.school_id:
        raise DomainError(_("The class belongs to another school."), field="school_class")
    current = _current_enrolment(student)
    if current is None:
        raise DomainError(_("The student is not in any class now."))
    if current.school_class_id == to_class.pk:
        raise ConflictError(_("The student is already in this class."))
    if to_class.year_id != current.school_class.year_id:
        raise DomainError(_("The class belongs to another academic year."), field="school_class")
    if on > _today():
        # Class lists treat an enrolment without an end as current: a move is recorded on or after its day.
        raise DomainError(_("A move cannot be recorded in advance; record it on its day."), field="on")
    if not (current.start < on <= to_class.year.end):
        raise DomainError(
            _("The move date must be after %(start)s and inside the academic year.") % {"start": current.start},
            field="on",
        )
    if Enrolment.objects.filter(student=student, school_class=to_class).exists():
        raise ConflictError(_("The student was already enrolled in this class; correct that enrolment instead."))
    current.end = on - dt.timedelta(days=1)
    current.save(update_fields=["end"])
    new = Enrolment.objects.create(school=student.school, student=student, school_class=to_class, start=on)
    log_action(
        "roster.student.moved",
        actor=acting_user,
        school=student.school,
        obj=student,
        data={"old": {"class": current.school_class_id}, "new": {"class": to_class.pk}, "on": on.isoformat()},
    )
    announce_enrolment(
        "moved",
        school_id=student.school_id,
        student_id=student.pk,
        class_id=to_class.pk,
        previous_class_id=current.school_class_id,
        on=on,
    )
    return new


@transaction.atomic
def withdraw_student(*, acting_user: User, student: Student, on: dt.date) -> Student:
    """The student leaves the school (R7.2): left date, current enrolment closed, student role ended."""
    student = Student.objects.select_for_update().get(pk=student.pk)
    if on > _today():
        raise DomainError(_("A departure cannot be recorded in advance; record it on its day."), field="on")
    if student.left_on is not None:
        raise ConflictError(_("The student has already left the school."))
    current = _current_enrolment(student)
    if current is not None:
        if on < current.start:
            raise DomainError(_("The student cannot leave before joining the class."), field="on")
        current.end = on
        current.save(update_fields=["end"])
    student.left_on = on
    student.save(update_fields=["left_on"])
    Membership.objects.filter(school=student.school, user_id=student.user_id, role=Role.STUDENT).update(
        is_active=False, until=on
    )
    log_action(
        "roster.student.withdrawn",
        actor=acting_user,
        school=student.school,
        obj=student,
        data={"old": {"left_on": None}, "new": {"left_on": on.isoformat()}},
    )
    left = current.school_class_id if current is not None else None
    announce_enrolment("withdrawn", school_id=student.school_id, student_id=student.pk, class_id=left, on=on)
    return student


# --- guardians -----------------------------------------------------------------------------------------


@transaction.atomic
def add_guardian(
    *, acting_user: User, student: Student, data: dict[str, Any], relation: str = "", may_see: bool = True
) -> GuardianLink:
    """Create a parent account (activated later), their parent role and the link to the child."""
    user = _new_user(data, GUARDIAN_FIELDS)
    Membership.objects.create(school=student.school, user=user, role=Role.PARENT)
    link = GuardianLink.objects.create(
        school=student.school, guardian=user, student=student, relation=relation.strip(), may_see=may_see
    )
    log_action(
        "roster.guardian.added",
        actor=acting_user,
        school=student.school,
        obj=link,
        data={"new": _user_snapshot(user, GUARDIAN_FIELDS), "student": student.pk, "relation": relation},
    )
    return link


@transaction.atomic
def link_guardian(
    *, acting_user: User, student: Student, guardian: User, relation: str = "", may_see: bool = True
) -> GuardianLink:
    """Link an existing parent of the same school to another child (several children per guardian).
    An ended link is opened again instead of duplicated."""
    if not Membership.objects.filter(school=student.school, user=guardian, role=Role.PARENT, is_active=True).exists():
        raise DomainError(_("This person is not a parent in this school."), field="guardian")
    link, created = GuardianLink.objects.select_for_update().get_or_create(
        school=student.school, guardian=guardian, student=student,
        defaults={"relation": relation.strip(), "may_see": may_see},
    )  # fmt: skip
    if not created:
        if link.ended_on is None:
            raise ConflictError(_("This guardian is already linked to the student."))
        link.ended_on, link.relation, link.may_see = None, relation.strip() or link.relation, may_see
        link.save(update_fields=["ended_on", "relation", "may_see"])
    log_action(
        "roster.guardian.linked",
        actor=acting_user,
        school=student.school,
        obj=link,
        data={"guardian": guardian.pk, "student": student.pk, "relation": link.relation, "may_see": may_see},
    )
    return link


@transaction.atomic
def set_guardian_may_see(*, acting_user: User, link: GuardianLink, may_see: bool) -> GuardianLink:
    """Switch a guardian's access to the child's data (custody restriction)."""
    link = GuardianLink.objects.select_for_update().get(pk=link.pk)
    diff = _diff(link, {"may_see": bool(may_see)})
    link.save(update_fields=["may_see"])
    log_action("roster.guardian.access_changed", actor=acting_user, school=link.school, obj=link, data=diff)
    return link


@transaction.atomic
def end_guardian_link(*, acting_user: User, link: GuardianLink, on: dt.date | None = None) -> GuardianLink:
    """End a guardian link; the row stays for the record."""
    link = GuardianLink.objects.select_for_update().get(pk=link.pk)
    if link.ended_on is not None:
        raise ConflictError(_("This link has already ended."))
    diff = _diff(link, {"ended_on": on or _today()})
    link.save(update_fields=["ended_on"])
    log_action("roster.guardian.link_ended", actor=acting_user, school=link.school, obj=link, data=diff)
    return link


@transaction.atomic
def update_guardian(
    *, acting_user: User, school: School, guardian: User, data: dict[str, Any], reference: dict[str, Any] | None = None
) -> User:
    """Edit a parent's names and contacts (R7.6); ``reference`` goes to the audit entry (the parent's request)."""
    changes = {k: str(data[k] or "").strip() for k in GUARDIAN_FIELDS if k in data}
    changes.update(_clean_names(data))
    guardian = User.objects.select_for_update().get(pk=guardian.pk)
    diff = _diff(guardian, changes)
    _clean(guardian, exclude=["password", "username"])
    guardian.save()
    log_action(
        "roster.guardian.updated",
        actor=acting_user,
        school=school,
        obj=guardian,
        data={"changes": diff, **(reference or {})},
    )
    return guardian


# --- consents (R7.4) -----------------------------------------------------------------------------------


@transaction.atomic
def record_consent(
    *,
    acting_user: User,
    student: Student,
    purpose: str,
    given_by: str,
    given_on: dt.date,
    document_ref: str = "",
) -> Consent:
    """Record a consent given by a parent for a student (R7.4)."""
    if purpose not in ConsentPurpose.values:
        raise DomainError(_("Choose the purpose from the list."), field="purpose")
    if given_on > _today():
        raise DomainError(_("The consent cannot be given in the future."), field="given_on")
    consent = Consent(
        school=student.school,
        student=student,
        purpose=purpose,
        given_by=(given_by or "").strip(),
        given_on=given_on,
        document_ref=(document_ref or "").strip(),
        recorded_by=acting_user,
    )
    _clean(consent, exclude=["school", "student", "recorded_by"])
    consent.save()
    log_action(
        "roster.consent.recorded",
        actor=acting_user,
        school=student.school,
        obj=consent,
        data={
            "student": student.pk,
            "purpose": purpose,
            "given_by": consent.given_by,
            "given_on": given_on.isoformat(),
        },
    )
    return consent


@transaction.atomic
def withdraw_consent(*, acting_user: User, consent: Consent, on: dt.date | None = None) -> Consent:
    """A parent withdraws a consent; the record stays with its withdrawal date (R7.4)."""
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.withdrawn_on is not None:
        raise ConflictError(_("The consent has already been withdrawn."))
    on = on or _today()
    if on < consent.given_on:
        raise DomainError(_("A consent cannot be withdrawn before it was given."), field="on")
    diff = _diff(consent, {"withdrawn_on": on})
    consent.save(update_fields=["withdrawn_on"])
    log_action("roster.consent.withdrawn", actor=acting_user, school=consent.school, obj=consent, data=diff)
    return consent
