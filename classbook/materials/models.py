"""Learning and analytical materials (R8.1): files and links that teachers publish.

A material is published to one audience: the school's library (everyone in the school), a class, a
subgroup, or one lesson. The audience is stored as the class and subgroup it reaches, so who may see a
material is one condition on two columns whatever the audience (``access/materials.py``); a lesson's
material also keeps the lesson, which places it next to that lesson in the diary. When the journal drops
the lesson the material stays with its class.

Analytical materials are the administration's reading (results of tests, analyses): only the
administration and their author see them, and they are never published to a class.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned


class MaterialKind(models.TextChoices):
    TEST = "test", pgettext_lazy("material", "Test")
    TASK = "task", pgettext_lazy("material", "Task")
    EXERCISE = "exercise", pgettext_lazy("material", "Exercise")
    METHODICAL = "methodical", _("Methodical note")
    ANALYTICAL = "analytical", _("Analytical material")


class Audience(models.TextChoices):
    LIBRARY = "library", _("School library")
    CLASS = "class", pgettext_lazy("audience", "Class")
    SUBGROUP = "subgroup", pgettext_lazy("audience", "Subgroup")
    LESSON = "lesson", pgettext_lazy("audience", "Lesson")


def material_path(instance: Material, filename: str) -> str:
    return f"materials/{instance.school_id}/{filename}"


class Material(SchoolOwned):
    """One file or one link (never both), published until withdrawn; a withdrawn file is deleted from
    storage (the audit log keeps its name, size and who withdrew it)."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=MaterialKind.choices)
    subject = models.ForeignKey(
        "schools.Subject", verbose_name=_("subject"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    year_level = models.ForeignKey(
        "schools.YearLevel",
        verbose_name=_("year level"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    audience = models.CharField(_("published to"), max_length=10, choices=Audience.choices)
    school_class = models.ForeignKey(
        "schools.SchoolClass", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subgroup = models.ForeignKey("schools.Subgroup", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    lesson = models.ForeignKey("journal.Lesson", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    url = models.URLField(_("link"), max_length=500, blank=True)
    file = models.FileField(upload_to=material_path, max_length=255, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    # Verified from the file's bytes at upload (classbook.core.uploads), never the uploader's content type.
    mime_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["school", "withdrawn_at", "school_class"]),
            models.Index(fields=["lesson"]),
            models.Index(fields=["school", "subject", "year_level"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="material_has_title"),
            models.CheckConstraint(
                condition=(Q(url="") & ~Q(file="")) | (~Q(url="") & Q(file="")), name="material_file_or_link"
            ),
            models.CheckConstraint(
                condition=(Q(audience="library") & Q(school_class__isnull=True) & Q(subgroup__isnull=True))
                | (Q(audience="class") & Q(school_class__isnull=False) & Q(subgroup__isnull=True))
                | (Q(audience="subgroup") & Q(school_class__isnull=False) & Q(subgroup__isnull=False))
                | (Q(audience="lesson") & Q(school_class__isnull=False)),
                name="material_audience_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(kind="analytical") | Q(audience="library"), name="material_analytical_not_for_classes"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_link(self) -> bool:
        return bool(self.url)


DEFAULT_QUOTA_MB = 500


class MaterialSettings(SchoolOwned):
    """The school's storage quota for material files (R8.1), set by its administrator or director."""

    quota_mb = models.PositiveIntegerField(_("storage quota, MB"), default=DEFAULT_QUOTA_MB)

    class Meta:
        verbose_name = _("materials settings")
        verbose_name_plural = _("materials settings")
        constraints = [models.UniqueConstraint(fields=["school"], name="materialsettings_one_per_school")]


MAX_QUOTA_MB = 1_000_000


def settings_for(school: Any, *, lock: bool = False) -> MaterialSettings:
    """The school's materials settings row, created with the default quota the first time; ``lock`` takes a
    row lock (publishing a file reads the quota under it)."""
    row, _created = MaterialSettings.objects.get_or_create(school=school)
    if lock:
        row = MaterialSettings.objects.select_for_update().get(pk=row.pk)
    return row


def quota_mb(school: Any) -> int:
    """The school's quota in MB, read without creating the settings row (the default until it is set)."""
    value = MaterialSettings.objects.filter(school=school).values_list("quota_mb", flat=True).first()
    return int(value) if value is not None else DEFAULT_QUOTA_MB


def used_bytes(school: Any) -> int:
    """Bytes of the school's published material files (a withdrawn file is deleted, so not counted)."""
    total = Material.objects.filter(school=school, withdrawn_at__isnull=True).aggregate(n=Sum("size"))["n"]
    return int(total or 0)
