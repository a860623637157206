"""School documents and resources (R8.3): the catalogue of the school's resources and the documents space.

- ``Resource``: equipment, library items and other things the school keeps, with an inventory number, a
  place, a quantity and a state. Rooms are not copied here: they are ``schools.Room`` (the timetable's rooms),
  and a resource may stand in one of them.
- ``Document``: a regulation, an order, a user instruction or another document, published to chosen roles.
- ``DocumentVersion``: one immutable version of a document (a checked file, or the text of a shipped
  template such as the journal regulations); the newest is the current one, the older ones stay readable.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned


class ResourceKind(models.TextChoices):
    EQUIPMENT = "equipment", _("Equipment")
    LIBRARY = "library", _("Library item")
    OTHER = "other", pgettext_lazy("resource kind", "Other")


class ResourceState(models.TextChoices):
    GOOD = "good", _("In working order")
    REPAIR = "repair", _("Needs repair")
    WRITTEN_OFF = "written_off", _("Written off")


class Resource(SchoolOwned):
    """One line of the catalogue: a thing (or a batch of equal things) the school keeps."""

    kind = models.CharField(_("kind"), max_length=12, choices=ResourceKind.choices)
    title = models.CharField(_("title"), max_length=200)
    inventory_number = models.CharField(_("inventory number"), max_length=40, blank=True)
    room = models.ForeignKey(
        "schools.Room",
        verbose_name=_("room"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    location = models.CharField(_("place"), max_length=120, blank=True)
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    state = models.CharField(_("state"), max_length=12, choices=ResourceState.choices, default=ResourceState.GOOD)
    note = models.CharField(_("note"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["kind", "title", "id"]
        indexes = [models.Index(fields=["school", "kind", "title"])]
        constraints = [
            # An inventory number names one line of the school's books; empty numbers are allowed many times.
            models.UniqueConstraint(
                fields=["school", "inventory_number"],
                condition=~Q(inventory_number=""),
                name="resource_unique_inventory_number",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="resource_has_title"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="resource_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.title


class DocumentKind(models.TextChoices):
    REGULATION = "regulation", _("Regulation")
    ORDER = "order", pgettext_lazy("document kind", "Order")
    INSTRUCTION = "instruction", _("User instruction")
    OTHER = "other", pgettext_lazy("document kind", "Other")


class Audience(models.TextChoices):
    """Who a document is published to, by role. Staff = administration + teachers."""

    ADMINISTRATION = "administration", _("Administration")
    TEACHERS = "teachers", _("Teachers")
    STUDENTS = "students", _("Students")
    PARENTS = "parents", _("Parents")


AUDIENCE_FLAGS: dict[str, str] = {
    Audience.ADMINISTRATION: "for_administration",
    Audience.TEACHERS: "for_teachers",
    Audience.STUDENTS: "for_students",
    Audience.PARENTS: "for_parents",
}


class Document(SchoolOwned):
    """A document of the school; readers see it when one of their roles is in its audience."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices, default=DocumentKind.OTHER)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    for_administration = models.BooleanField(_("administration"), default=False)
    for_teachers = models.BooleanField(_("teachers"), default=False)
    for_students = models.BooleanField(_("students"), default=False)
    for_parents = models.BooleanField(_("parents"), default=False)
    # What created it when the software did (``journal_regulations``); one per school.
    system_key = models.CharField(max_length=40, blank=True)
    current_version = models.ForeignKey(
        "DocumentVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["kind", "title", "id"]
        indexes = [models.Index(fields=["school", "kind", "title"])]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="document_has_title"),
            models.UniqueConstraint(
                fields=["school", "system_key"], condition=~Q(system_key=""), name="document_unique_system_key"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audiences(self) -> list[str]:
        return [a for a, flag in AUDIENCE_FLAGS.items() if getattr(self, flag)]

    @property
    def audience_labels(self) -> list[str]:
        return [str(Audience(a).label) for a in self.audiences]


def version_path(instance: DocumentVersion, filename: str) -> str:
    # Stored under a random name: the original name is kept in the row, never trusted as a path.
    return f"documents/{instance.school_id}/{instance.document_id}/{uuid.uuid4().hex}"


class VersionImmutableError(Exception):
    """A document version is never changed or deleted once written."""


class DocumentVersion(SchoolOwned):
    """One version of a document: who gave it, when, with what note. Never changed or deleted.

    The content is a checked file (``file``, its verified ``mime_type``) or a text (``text``: the shipped
    journal regulations, copied at setup so a later release never rewrites what was published)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.FileField(upload_to=version_path, max_length=255, blank=True)
    text = models.TextField(blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    mime_type = models.CharField(max_length=120)
    note = models.CharField(_("note"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="documentversion_unique_number"),
            # Exactly one content: a stored file or a text.
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(text="")) | (~Q(file="") & Q(text="")),
                name="documentversion_one_content",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise VersionImmutableError("A document version is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise VersionImmutableError("A document version is never deleted.")
