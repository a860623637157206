"""Publishing, editing and withdrawing materials (R8.1) and the school's storage quota: transactional,
audited, refusing bad input with a translated ``DomainError`` and changing nothing then.

Every door (the pages, the API) calls these with the caller's ``SchoolContext``; who may publish where is
asked of ``classbook.access.materials`` here, not in the doors. Files are checked by their content with the
``material`` policy of ``classbook.core.uploads`` and counted against the school's quota (``MaterialSettings``),
read under a row lock so two uploads at once cannot both squeeze under it.

Audit: ``materials.material.published|updated|withdrawn`` with the material as the object;
``materials.settings.quota_changed`` with the old and the new quota.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access import materials as access
from classbook.access.context import SchoolContext
from classbook.core import uploads
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.text import clean_text
from classbook.journal.models import Lesson
from classbook.materials.models import (
    MAX_QUOTA_MB,
    Audience,
    Material,
    MaterialKind,
    MaterialSettings,
    settings_for,
    used_bytes,
)
from classbook.schools.models import School, SchoolClass, Subgroup, Subject, YearLevel

POLICY = uploads.POLICIES["material"]
_URLS = URLValidator(schemes=["http", "https"])


def _kind(kind: str) -> str:
    if kind not in MaterialKind.values:
        raise DomainError(_("Choose the kind of material."), code="invalid_kind", field="kind")
    return kind


def _url(url: str | None) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    try:
        if len(url) > 500:
            raise ValidationError("too long")
        _URLS(url)
    except ValidationError as exc:
        raise DomainError(
            _("Give a web address starting with http:// or https:// (500 characters at most)."),
            code="invalid_url",
            field="url",
        ) from exc
    return url


def _same_school(school: School, *rows: Any) -> None:
    if any(r is not None and r.school_id != school.pk for r in rows):
        raise DomainError(
            _("Choose a subject and a year level of this school."), code="invalid_choice", field="subject"
        )


def _check_quota(school: School, size: int) -> None:
    quota = settings_for(school, lock=True).quota_mb * uploads.MB
    used = used_bytes(school)
    if used + size > quota:
        raise DomainError(
            _(
                "The school's storage for materials is full: %(used)s MB of %(quota)s MB are used. "
                "Withdraw old materials or ask the administrator to raise the quota."
            )
            % {"used": used // uploads.MB, "quota": quota // uploads.MB},
            code="quota_exceeded",
            field="file",
        )


def _audience(
    ctx: SchoolContext,
    audience: str,
    kind: str,
    school_class: SchoolClass | None,
    subgroup: Subgroup | None,
    lesson: Lesson | None,
) -> tuple[int | None, int | None, Lesson | None]:
    """The class and subgroup ids and the lesson the audience reaches, after checking the user may publish there."""
    if audience not in Audience.values:
        raise DomainError(_("Choose where to publish the material."), code="invalid_audience", field="audience")
    if kind == MaterialKind.ANALYTICAL and audience != Audience.LIBRARY:
        raise DomainError(
            _("Analytical materials are for the administration; publish them to the school library."),
            code="invalid_audience",
            field="audience",
        )
    refused = PermissionDeniedError(_("You may not publish materials there."), field="audience")
    if audience == Audience.LIBRARY:
        return None, None, None
    if audience == Audience.CLASS:
        if school_class is None:
            raise DomainError(_("Choose the class."), code="required", field="school_class")
        if not access.target_classes(ctx).filter(pk=school_class.pk).exists():
            raise refused
        return school_class.pk, None, None
    if audience == Audience.SUBGROUP:
        if subgroup is None:
            raise DomainError(_("Choose the subgroup."), code="required", field="subgroup")
        found = access.target_subgroups(ctx).filter(pk=subgroup.pk).first()
        if found is None:
            raise refused
        return found.school_class_id, found.pk, None
    if lesson is None:
        raise DomainError(_("Choose the lesson."), code="required", field="lesson")
    found_lesson = access.target_lessons(ctx).filter(pk=lesson.pk).select_related("assignment__subject").first()
    if found_lesson is None:
        raise refused
    a = found_lesson.assignment
    return a.school_class_id, a.subgroup_id, found_lesson


def _summary(m: Material) -> dict[str, Any]:
    return {
        "title": m.title,
        "kind": m.kind,
        "audience": m.audience,
        "class": m.school_class_id,
        "subgroup": m.subgroup_id,
        "lesson": m.lesson_id,
        "subject": m.subject_id,
        "year_level": m.year_level_id,
        "url": m.url,
        "file": m.original_name,
        "size": m.size,
    }


@transaction.atomic
def publish_material(
    *,
    ctx: SchoolContext,
    title: str,
    kind: str,
    audience: str,
    description: str = "",
    subject: Subject | None = None,
    year_level: YearLevel | None = None,
    school_class: SchoolClass | None = None,
    subgroup: Subgroup | None = None,
    lesson: Lesson | None = None,
    url: str = "",
    upload: UploadedFile | None = None,
) -> Material:
    """Publish a file or a link (R8.1). The file is checked by its content and counted against the quota; a
    lesson's material takes the lesson's subject when none is given."""
    if not access.may_publish_materials(ctx):
        raise PermissionDeniedError(_("You may not publish materials."))
    school = ctx.school
    title = clean_text(title, field="title", limit=200)
    description = clean_text(description, field="description", limit=2000, required=False)
    kind = _kind(kind)
    url = _url(url)
    if bool(url) == (upload is not None):
        raise DomainError(_("Give either a file or a link."), code="file_or_link", field="file")
    _same_school(school, subject, year_level)
    class_id, subgroup_id, found_lesson = _audience(ctx, audience, kind, school_class, subgroup, lesson)
    if found_lesson is not None and subject is None:
        subject = found_lesson.assignment.subject
    material = Material(
        school=school,
        title=title,
        description=description,
        kind=kind,
        subject=subject,
        year_level=year_level,
        audience=audience,
        school_class_id=class_id,
        subgroup_id=subgroup_id,
        lesson=found_lesson,
        url=url,
        created_by=ctx.user,
    )
    if upload is not None:
        checked = uploads.check_upload(upload, POLICY)
        _check_quota(school, checked.size)
        material.original_name = checked.name
        material.mime_type = checked.kind.mime
        material.size = checked.size
        material.file.save(checked.name, upload, save=False)
    material.save()
    log_action("materials.material.published", actor=ctx.user, school=school, obj=material, data=_summary(material))
    return material


@transaction.atomic
def update_material(
    *,
    ctx: SchoolContext,
    material: Material,
    title: str,
    kind: str,
    description: str = "",
    subject: Subject | None = None,
    year_level: YearLevel | None = None,
    url: str | None = None,
) -> Material:
    """Change a material's title, description, kind, subject, year level and (for a link) its address. Its
    audience and its file stay: publish anew to change them."""
    material = Material.objects.select_for_update().get(pk=material.pk)
    if material.withdrawn_at is not None or not access.may_edit_material(ctx, material):
        raise PermissionDeniedError(_("You may not change this material."))
    old = _summary(material)
    material.title = clean_text(title, field="title", limit=200)
    material.description = clean_text(description, field="description", limit=2000, required=False)
    material.kind = _kind(kind)
    if material.kind == MaterialKind.ANALYTICAL and material.audience != Audience.LIBRARY:
        raise DomainError(
            _("Analytical materials are for the administration; publish them to the school library."),
            code="invalid_audience",
            field="kind",
        )
    _same_school(ctx.school, subject, year_level)
    material.subject, material.year_level = subject, year_level
    if material.is_link and url is not None:
        material.url = _url(url) or material.url
    material.save()
    log_action(
        "materials.material.updated",
        actor=ctx.user,
        school=ctx.school,
        obj=material,
        data={"old": old, "new": _summary(material)},
    )
    return material


@transaction.atomic
def withdraw_material(*, ctx: SchoolContext, material: Material) -> Material:
    """Withdraw a material: nobody sees it any more and its file is deleted once the withdrawal is committed
    (freeing the quota); the audit log keeps what it was."""
    material = Material.objects.select_for_update().get(pk=material.pk)
    if not access.may_edit_material(ctx, material):
        raise PermissionDeniedError(_("You may not withdraw this material."))
    if material.withdrawn_at is not None:
        return material
    material.withdrawn_at = timezone.now()
    material.withdrawn_by = ctx.user
    stored = material.file.name
    material.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
    if stored:
        storage = material.file.storage
        transaction.on_commit(lambda: storage.delete(stored))
    log_action("materials.material.withdrawn", actor=ctx.user, school=ctx.school, obj=material, data=_summary(material))
    return material


@transaction.atomic
def set_quota(*, ctx: SchoolContext, quota_mb: int) -> MaterialSettings:
    """The school's storage quota for material files, in MB (existing files stay when it is lowered)."""
    if not access.may_set_quota(ctx):
        raise PermissionDeniedError(_("You may not change the storage quota."))
    if not 1 <= quota_mb <= MAX_QUOTA_MB:
        raise DomainError(
            _("The quota is from 1 to %(max)s MB.") % {"max": MAX_QUOTA_MB}, code="invalid_quota", field="quota_mb"
        )
    row = settings_for(ctx.school, lock=True)
    old = row.quota_mb
    row.quota_mb = quota_mb
    row.save(update_fields=["quota_mb"])
    log_action(
        "materials.settings.quota_changed",
        actor=ctx.user,
        school=ctx.school,
        obj=row,
        data={"old": old, "new": quota_mb},
    )
    return row
