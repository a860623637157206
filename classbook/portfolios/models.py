"""Portfolios (R8.2): a student's personal portfolio and the project portfolios of groups of students.

An ``Entry`` belongs to exactly one student or one project (a check constraint). Every entry is seen by the
family (the student and their guardians, the project's members and theirs) and the class teacher; it is seen
beyond them only once the class teacher approved it, for the teachers of the class or for the whole school's
staff (``sharing``, ``shared_by``, ``shared_at``; docs/portfolios.md "Who sees what").
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class EntryKind(models.TextChoices):
    WORK = "work", _("Work")
    ACHIEVEMENT = "achievement", _("Achievement")
    CERTIFICATE = "certificate", _("Certificate")
    OLYMPIAD = "olympiad", _("Olympiad")


class Sharing(models.TextChoices):
    """Who sees an entry besides the family and the class teacher; the class teacher decides."""

    FAMILY = "family", _("Family and class teacher only")
    REQUESTED = "requested", _("Waiting for the class teacher")
    CLASS = "class", _("Teachers of the class")
    SCHOOL = "school", _("The school's staff")


class Audience(models.TextChoices):
    """What a request to share asks for (``Entry.requested``)."""

    CLASS = "class", _("Teachers of the class")
    SCHOOL = "school", _("The school's staff")


class Project(SchoolOwned):
    """A project of a group of students of one class, with its own entries (R8.2)."""

    school_class = models.ForeignKey(
        "schools.SchoolClass", verbose_name=_("class"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    members = models.ManyToManyField("people.Student", verbose_name=_("members"), related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "school_class"])]
        constraints = [models.CheckConstraint(condition=~Q(title=""), name="project_has_title")]

    def __str__(self) -> str:
        return self.title


def entry_path(instance: Entry, filename: str) -> str:
    # A random name: the uploader's name is kept in the row, never trusted as a path.
    return f"portfolios/{instance.school_id}/{uuid.uuid4().hex}"


class Entry(SchoolOwned):
    """One work, achievement, certificate or olympiad result in a student's or a project's portfolio."""

    student = models.ForeignKey(
        "people.Student", null=True, blank=True, on_delete=models.PROTECT, related_name="portfolio_entries"
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    title = models.CharField(_("title"), max_length=200)
    day = models.DateField(_("date"))
    description = models.TextField(_("description"), max_length=2000, blank=True)
    file = models.FileField(upload_to=entry_path, max_length=255, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    # Verified from the file's bytes at upload (classbook.core.uploads), never the uploader's content type.
    mime_type = models.CharField(max_length=100, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    sharing = models.CharField(_("visible to"), max_length=10, choices=Sharing.choices, default=Sharing.FAMILY)
    requested = models.CharField(_("asked to show to"), max_length=10, choices=Audience.choices, blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("portfolio entry")
        verbose_name_plural = _("portfolio entries")
        ordering = ["-day", "-id"]
        indexes = [
            models.Index(fields=["school", "student", "sharing"]),
            models.Index(fields=["school", "project", "sharing"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(student__isnull=False, project__isnull=True)
                | Q(student__isnull=True, project__isnull=False),
                name="entry_student_or_project",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="entry_has_title"),
            models.CheckConstraint(
                condition=Q(sharing__in=["class", "school"], shared_by__isnull=False, shared_at__isnull=False)
                | ~Q(sharing__in=["class", "school"]),
                name="entry_sharing_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(sharing="requested") | ~Q(requested=""), name="entry_request_names_audience"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.sharing in (Sharing.CLASS, Sharing.SCHOOL)
