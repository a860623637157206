"""Every change of a portfolio (R8.2): transactional, audited, refusing bad input with a translated
``DomainError`` and changing nothing then. The rules are ``classbook.access.portfolios``; every door (pages,
API) comes through here, so none of them can skip one.

Audit: ``portfolios.entry.added|removed|requested|shared|unshared`` with the entry as the object (``shared``
names the audience; ``unshared`` says whether a request was declined or a sharing withdrawn),
``portfolios.project.created`` with the project.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access import portfolios as rules
from classbook.access.context import SchoolContext
from classbook.core import uploads
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.text import clean_text
from classbook.people.models import Enrolment, Student, current_enrolment_q
from classbook.portfolios.models import Audience, Entry, EntryKind, Project, Sharing
from classbook.schools.models import SchoolClass

POLICY = uploads.POLICIES["portfolio"]
MAX_TEXT = 2000
MAX_MEMBERS = 40


def _check_entry(kind: str, day: dt.date) -> None:
    if kind not in EntryKind.values:
        raise DomainError(_("Choose the kind of entry."), code="invalid_kind", field="kind")
    if day > timezone.localdate():
        raise DomainError(_("The date cannot be in the future."), code="future_date", field="day")


def _summary(entry: Entry) -> dict[str, Any]:
    return {
        "student": entry.student_id,
        "project": entry.project_id,
        "kind": entry.kind,
        "title": entry.title,
        "day": entry.day.isoformat(),
        "file": entry.file_name,
    }


@transaction.atomic
def add_entry(
    *,
    ctx: SchoolContext,
    student: Student | None = None,
    project: Project | None = None,
    kind: str,
    title: str,
    day: dt.date,
    description: str = "",
    upload: UploadedFile | None = None,
) -> Entry:
    """A work, achievement, certificate or olympiad in a student's portfolio (by the student or a teacher of
    the class) or a project's (by a member or the class's teachers); the file checked by its content (R8.2)."""
    if student is not None and project is None:
        rights = rules.student_rights(ctx, student)
    elif project is not None and student is None:
        rights = rules.rights_on_project(ctx, project)
    else:
        raise DomainError(_("Choose a student or a project."), code="invalid_owner")
    if rights.closed:
        raise ConflictError(_("The portfolio is closed: the student has left the class."), code="closed")
    if not rights.may_add:
        raise PermissionDeniedError(_("You may not add to this portfolio."))
    _check_entry(kind, day)
    entry = Entry(
        school=ctx.school,
        student=student,
        project=project,
        kind=kind,
        title=clean_text(title, field="title", limit=200),
        day=day,
        description=clean_text(description, field="description", limit=MAX_TEXT, required=False),
        created_by=ctx.user,
    )
    if upload is not None:
        checked = uploads.check_upload(upload, POLICY)
        entry.file_name, entry.mime_type, entry.file_size = checked.name, checked.kind.mime, checked.size
        entry.file.save(checked.name, upload, save=False)
    entry.save()
    log_action("portfolios.entry.added", actor=ctx.user, school=ctx.school, obj=entry, data=_summary(entry))
    return entry


def _locked(entry: Entry) -> Entry:
    return Entry.objects.select_for_update(of=("self",)).select_related("student", "project").get(pk=entry.pk)


@transaction.atomic
def remove_entry(*, ctx: SchoolContext, entry: Entry) -> None:
    """Its author or the class teacher removes an entry, with its file, while the portfolio is open."""
    entry = _locked(entry)
    rights = rules.entry_rights(ctx, entry)
    if rights.closed:
        raise ConflictError(_("The portfolio is closed: the student has left the class."), code="closed")
    if not rights.may_remove(entry):
        raise PermissionDeniedError(_("Only the author or the class teacher may remove this entry."))
    log_action("portfolios.entry.removed", actor=ctx.user, school=ctx.school, obj=entry, data=_summary(entry))
    stored = entry.file.name
    entry.delete()
    if stored:
        storage = Entry._meta.get_field("file").storage  # type: ignore[attr-defined]  # a FileField has one
        transaction.on_commit(lambda: storage.delete(stored))


@transaction.atomic
def request_sharing(*, ctx: SchoolContext, entry: Entry, audience: str) -> Entry:
    """Ask the class teacher to show an entry beyond the family: to the class's teachers or the school's staff."""
    entry = _locked(entry)
    rights = rules.entry_rights(ctx, entry)
    if audience not in Audience.values:
        raise DomainError(_("Choose who should see the entry."), code="invalid_audience", field="audience")
    if not rights.may_request(entry):
        if rights.closed:
            raise ConflictError(_("The portfolio is closed: the student has left the class."), code="closed")
        if entry.sharing != Sharing.FAMILY:
            raise ConflictError(_("The entry is already shared or waiting for the class teacher."), code="not_family")
        raise PermissionDeniedError(_("You may not change this portfolio."))
    entry.sharing, entry.requested = Sharing.REQUESTED, audience
    entry.save(update_fields=["sharing", "requested"])
    log_action("portfolios.entry.requested", actor=ctx.user, school=ctx.school, obj=entry, data={"audience": audience})
    return entry


@transaction.atomic
def decide_sharing(*, ctx: SchoolContext, entry: Entry, sharing: str) -> Entry:
    """The class teacher approves an entry for the class's teachers or the school's staff (``sharing`` class or
    school, with who and when), or keeps it in the family (``family``: a request declined, a sharing withdrawn)."""
    entry = _locked(entry)
    rights = rules.entry_rights(ctx, entry)
    if rights.closed:
        raise ConflictError(_("The portfolio is closed: the student has left the class."), code="closed")
    if not rights.may_decide:
        raise PermissionDeniedError(_("Only the class teacher decides who sees portfolio entries."))
    if sharing not in (Sharing.FAMILY, Sharing.CLASS, Sharing.SCHOOL):
        raise DomainError(_("Choose who should see the entry."), code="invalid_sharing", field="sharing")
    old = entry.sharing
    if sharing == Sharing.FAMILY:
        entry.sharing, entry.requested, entry.shared_by, entry.shared_at = Sharing.FAMILY, "", None, None
        action, data = "portfolios.entry.unshared", {"old": old, "declined": old == Sharing.REQUESTED}
    else:
        entry.sharing, entry.requested = sharing, ""
        entry.shared_by, entry.shared_at = ctx.user, timezone.now()
        action, data = "portfolios.entry.shared", {"old": old, "new": sharing}
    entry.save(update_fields=["sharing", "requested", "shared_by", "shared_at"])
    log_action(action, actor=ctx.user, school=ctx.school, obj=entry, data=data)
    return entry


@transaction.atomic
def create_project(
    *,
    ctx: SchoolContext,
    school_class: SchoolClass,
    title: str,
    description: str = "",
    members: Sequence[Student],
) -> Project:
    """A project of a class with its members, current students of that class (R8.2): made by the class teacher
    or a teacher of the class."""
    if not rules.project_classes(ctx).filter(pk=school_class.pk).exists():
        raise PermissionDeniedError(_("You may make projects only of your classes."))
    ids = {s.pk for s in members}
    if not 1 <= len(ids) <= MAX_MEMBERS:
        raise DomainError(_("Choose the project's members."), code="no_members", field="members")
    enrolled = set(
        Enrolment.objects.filter(
            current_enrolment_q(ctx.school.pk), school_class=school_class, student_id__in=ids
        ).values_list("student_id", flat=True)
    )
    if enrolled != ids:
        raise DomainError(_("Choose students of the class."), code="invalid_member", field="members")
    project = Project.objects.create(
        school=ctx.school,
        school_class=school_class,
        title=clean_text(title, field="title", limit=200),
        description=clean_text(description, field="description", limit=MAX_TEXT, required=False),
        created_by=ctx.user,
    )
    project.members.set(sorted(ids))
    log_action(
        "portfolios.project.created",
        actor=ctx.user,
        school=ctx.school,
        obj=project,
        data={"title": project.title, "class": school_class.pk, "members": sorted(ids)},
    )
    return project
