"""Every change of the school's documents and catalogue (R8.3): transactional, audited, refusing bad input
with a translated ``DomainError`` and changing nothing then.

Audit: ``documents.document.created|updated``, ``documents.version.added`` (with the version's number,
name and note), ``documents.resource.created|updated|deleted``; the document or the resource is the object.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import translation
from django.utils.translation import gettext as _

from classbook.access import documents as access
from classbook.access.context import current_memberships
from classbook.core import uploads
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.text import clean_text
from classbook.documents.models import (
    AUDIENCE_FLAGS,
    Audience,
    Document,
    DocumentKind,
    DocumentVersion,
    Resource,
    ResourceKind,
    ResourceState,
)

if TYPE_CHECKING:
    from classbook.people.models import User
    from classbook.schools.models import Room, School

POLICY = uploads.POLICIES["school_document"]
REGULATIONS_KEY = "journal_regulations"
REGULATIONS_DIR = Path(__file__).resolve().parent / "regulations"
MAX_TITLE = 200
MAX_NOTE = 500
MAX_DESCRIPTION = 2000


def _is_manager(user: User, school: School) -> bool:
    """The service's own check, so a caller that forgot the rule cannot write (the rule is ``access``'s)."""
    return (
        current_memberships()
        .filter(user_id=user.pk, school=school, role__in=[str(r) for r in access.MANAGER_ROLES])
        .exists()
    )


def _require_manager(user: User, school: School) -> None:
    if not _is_manager(user, school):
        raise PermissionDeniedError(_("Only the school's administration and secretary may change documents."))


def _audiences(values: Iterable[str]) -> dict[str, bool]:
    chosen = set(values)
    if not chosen <= set(Audience.values):
        raise DomainError(_("Choose who reads the document."), code="invalid_audience", field="audiences")
    return {flag: audience in chosen for audience, flag in AUDIENCE_FLAGS.items()}


def _kind(value: str) -> str:
    if value not in DocumentKind.values:
        raise DomainError(_("Choose the kind of the document."), code="invalid_kind", field="kind")
    return value


def _add_version(*, acting_user: User | None, document: Document, note: str, **content: Any) -> DocumentVersion:
    last = document.versions.aggregate(n=Max("number"))["n"] or 0
    version = DocumentVersion(school_id=document.school_id, document=document, number=last + 1, note=note, **content)
    version.uploaded_by = acting_user
    return version


def _store_file(version: DocumentVersion, checked: uploads.CheckedUpload) -> None:
    version.original_name = checked.name
    version.size = checked.size
    version.mime_type = checked.kind.mime
    version.file.save(checked.name, checked.upload, save=False)
    try:
        version.save()
    except IntegrityError as exc:  # two uploads at once took the same number
        version.file.delete(save=False)
        raise DomainError(_("Another version was uploaded at the same moment; try again."), code="conflict") from exc


def _make_current(document: Document, version: DocumentVersion) -> None:
    document.current_version = version
    document.save(update_fields=["current_version", "updated_at"])


@transaction.atomic
def create_document(
    *,
    acting_user: User,
    school: School,
    title: str,
    kind: str,
    upload: Any,
    description: str = "",
    audiences: Iterable[str] = (),
    note: str = "",
) -> Document:
    """A new document with its first version (a file checked by its content, ``core.uploads``), published to the
    chosen audiences (none: only the managers see it). R8.3."""
    _require_manager(acting_user, school)
    document = Document(
        school=school,
        title=clean_text(title, field="title", limit=MAX_TITLE),
        kind=_kind(kind),
        description=clean_text(description, field="description", limit=MAX_DESCRIPTION, required=False),
        created_by=acting_user,
        **_audiences(audiences),
    )
    note = clean_text(note, field="note", limit=MAX_NOTE, required=False)
    checked = uploads.check_upload(upload, POLICY)
    document.save()
    version = _add_version(acting_user=acting_user, document=document, note=note)
    _store_file(version, checked)
    _make_current(document, version)
    log_action(
        "documents.document.created",
        actor=acting_user,
        school=school,
        obj=document,
        data={"title": document.title, "kind": document.kind, "audiences": document.audiences},
    )
    _log_version(acting_user, version)
    return document


def _log_version(acting_user: User | None, version: DocumentVersion) -> None:
    log_action(
        "documents.version.added",
        actor=acting_user,
        school=version.document.school,
        obj=version.document,
        data={"number": version.number, "name": version.original_name, "note": version.note},
    )


@transaction.atomic
def add_version(*, acting_user: User, document: Document, upload: Any, note: str = "") -> DocumentVersion:
    """Upload a new version: it becomes the current one; the older versions stay, unchanged and readable."""
    _require_manager(acting_user, document.school)
    note = clean_text(note, field="note", limit=MAX_NOTE, required=False)
    checked = uploads.check_upload(upload, POLICY)
    document = Document.objects.select_for_update().get(pk=document.pk)
    version = _add_version(acting_user=acting_user, document=document, note=note)
    _store_file(version, checked)
    _make_current(document, version)
    _log_version(acting_user, version)
    return version


@transaction.atomic
def update_document(
    *, acting_user: User, document: Document, title: str, kind: str, description: str, audiences: Iterable[str]
) -> Document:
    """Change the title, kind, description and the audiences the document is published to."""
    _require_manager(acting_user, document.school)
    old = {"title": document.title, "kind": document.kind, "audiences": document.audiences}
    document.title = clean_text(title, field="title", limit=MAX_TITLE)
    document.kind = _kind(kind)
    document.description = clean_text(description, field="description", limit=MAX_DESCRIPTION, required=False)
    for flag, value in _audiences(audiences).items():
        setattr(document, flag, value)
    document.save()
    new = {"title": document.title, "kind": document.kind, "audiences": document.audiences}
    log_action(
        "documents.document.updated",
        actor=acting_user,
        school=document.school,
        obj=document,
        data={"old": old, "new": new},
    )
    return document


# --- The journal regulations, published on first setup ------------------------------------------------------


def regulations_text(language: str) -> str:
    """The shipped summary of the journal regulations in ``language`` (Ukrainian when there is none)."""
    path = REGULATIONS_DIR / f"{language}.md"
    if not path.exists():
        path = REGULATIONS_DIR / "uk.md"
    return path.read_text(encoding="utf-8")


@transaction.atomic
def publish_journal_regulations(*, school: School, acting_user: User | None = None) -> Document:
    """The "Regulations on the electronic journal" document, published to every role, with the shipped text in
    the school's language as its first version (R8.3; 000 §4.5: the administrator publishes the regulations
    and the user instructions). Done when a school is created; a second call changes nothing."""
    existing = Document.objects.filter(school=school, system_key=REGULATIONS_KEY).first()
    if existing is not None:
        return existing
    with translation.override(school.language):
        title = _("Regulations on the electronic journal")
        name = _("journal-regulations") + ".txt"
    text = regulations_text(school.language)
    document = Document.objects.create(
        school=school,
        title=title,
        kind=DocumentKind.REGULATION,
        system_key=REGULATIONS_KEY,
        created_by=acting_user,
        **_audiences(Audience.values),
    )
    version = _add_version(
        acting_user=acting_user,
        document=document,
        note="",
        text=text,
        original_name=name,
        size=len(text.encode("utf-8")),
        mime_type=uploads.KINDS["text"].mime,
    )
    version.save()
    _make_current(document, version)
    log_action(
        "documents.document.created",
        actor=acting_user,
        school=school,
        obj=document,
        data={"title": title, "kind": document.kind, "audiences": document.audiences, "system": REGULATIONS_KEY},
    )
    _log_version(acting_user, version)
    return document


# --- The catalogue of resources ----------------------------------------------------------------------------


def _resource_values(school: School, values: dict[str, Any]) -> dict[str, Any]:
    room: Room | None = values.get("room")
    if room is not None and room.school_id != school.pk:
        raise DomainError(_("Choose a room of this school."), code="invalid_room", field="room")
    if values.get("kind") not in ResourceKind.values:
        raise DomainError(_("Choose the kind of the resource."), code="invalid_kind", field="kind")
    if values.get("state", ResourceState.GOOD) not in ResourceState.values:
        raise DomainError(_("Choose the state of the resource."), code="invalid_state", field="state")
    quantity = values.get("quantity", 1)
    if not isinstance(quantity, int) or not 1 <= quantity <= 100_000:
        raise DomainError(_("The quantity is from 1 to 100000."), code="invalid_quantity", field="quantity")
    return {
        "kind": values["kind"],
        "title": clean_text(values.get("title", ""), field="title", limit=MAX_TITLE),
        "inventory_number": clean_text(
            values.get("inventory_number", ""), field="inventory_number", limit=40, required=False
        ),
        "room": room,
        "location": clean_text(values.get("location", ""), field="location", limit=120, required=False),
        "quantity": quantity,
        "state": values.get("state", ResourceState.GOOD),
        "note": clean_text(values.get("note", ""), field="note", limit=MAX_NOTE, required=False),
    }


def _save_resource(resource: Resource) -> None:
    try:
        resource.full_clean(validate_constraints=False)
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise DomainError(errors[0], field=field) from exc
    try:
        with transaction.atomic():
            resource.save()
    except IntegrityError as exc:
        raise DomainError(
            _("Another resource of the school has this inventory number."),
            code="duplicate_inventory_number",
            field="inventory_number",
        ) from exc


def _audit_values(resource: Resource) -> dict[str, Any]:
    return {
        "kind": resource.kind,
        "title": resource.title,
        "inventory_number": resource.inventory_number,
        "room": resource.room_id,
        "location": resource.location,
        "quantity": resource.quantity,
        "state": resource.state,
    }


@transaction.atomic
def create_resource(*, acting_user: User, school: School, **values: Any) -> Resource:
    """Add a line to the catalogue (R8.3): kind, title, inventory number (unique in the school), room or place,
    quantity, state."""
    _require_manager(acting_user, school)
    resource = Resource(school=school, **_resource_values(school, values))
    _save_resource(resource)
    log_action(
        "documents.resource.created", actor=acting_user, school=school, obj=resource, data=_audit_values(resource)
    )
    return resource


@transaction.atomic
def update_resource(*, acting_user: User, resource: Resource, **values: Any) -> Resource:
    _require_manager(acting_user, resource.school)
    old = _audit_values(resource)
    for name, value in _resource_values(resource.school, values).items():
        setattr(resource, name, value)
    _save_resource(resource)
    log_action(
        "documents.resource.updated",
        actor=acting_user,
        school=resource.school,
        obj=resource,
        data={"old": old, "new": _audit_values(resource)},
    )
    return resource


@transaction.atomic
def delete_resource(*, acting_user: User, resource: Resource) -> None:
    """Remove a line entered by mistake (a thing that left the school is written off instead)."""
    _require_manager(acting_user, resource.school)
    log_action(
        "documents.resource.deleted",
        actor=acting_user,
        school=resource.school,
        obj=resource,
        data=_audit_values(resource),
    )
    resource.delete()
