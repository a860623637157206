"""Models of archives (issue 12, R6.7, R6.8): what was archived, its file's hash, the school's hash chain,
retention and destruction acts. See docs/archive.md.

Every archive record carries the SHA-256 of its file and of the previous record of its school; its own hash
covers both and every field that says what the archive is. The school's ``ArchiveSettings`` row keeps the
chain's head (length and last hash), so removing the newest record is as detectable as removing any other.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned


class ArchiveKind(models.TextChoices):
    """When an archive is made (R6.7): every Friday, after each semester, once a year."""

    WEEKLY = "weekly", _("Weekly copy")
    SEMESTER = "semester", pgettext_lazy("archive", "Semester archive")
    YEAR = "year", pgettext_lazy("archive", "Year archive")


class DocumentKind(models.TextChoices):
    """What an archive file holds; each kind has its own retention term (R6.8)."""

    JOURNAL = "journal", _("Class journal")
    SUMMARY = "summary", _("Summary sheet of grades")


class SignatureState(models.TextChoices):
    SIGNED = "signed", _("Signed")
    UNSIGNED = "unsigned", _("Not signed (the school has no certificate)")


class BuildStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


# Retention terms in years by country and document kind (R6.8: journals 5 years, summary sheets 25 years;
# Ukrainian order 707 and the Russian letter АП-147/07 agree on these terms). A school may set its own.
RETENTION_YEARS: dict[str, dict[str, int]] = {
    "UA": {DocumentKind.JOURNAL: 5, DocumentKind.SUMMARY: 25},
    "RU": {DocumentKind.JOURNAL: 5, DocumentKind.SUMMARY: 25},
}
DEFAULT_RETENTION_YEARS = RETENTION_YEARS["UA"]


def default_retention(country: str, document: str) -> int:
    return RETENTION_YEARS.get(country, DEFAULT_RETENTION_YEARS)[document]


class ArchiveSettings(SchoolOwned):
    """A school's archive settings (one row per school) and the head of its hash chain.

    The row is also the chain's lock: a record is appended inside ``select_for_update`` of this row.
    """

    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    weekly_weekday = models.PositiveSmallIntegerField(
        _("weekly copy on"), default=4, help_text=_("0 is Monday, 4 is Friday")
    )
    weekly_time = models.TimeField(_("weekly copy at"), default=dt.time(18, 0))
    year_deadline_month = models.PositiveSmallIntegerField(_("year archive by (month)"), default=7)
    year_deadline_day = models.PositiveSmallIntegerField(_("year archive by (day)"), default=15)
    journal_retention_years = models.PositiveSmallIntegerField(_("keep class journals (years)"), default=5)
    summary_retention_years = models.PositiveSmallIntegerField(_("keep summary sheets (years)"), default=25)
    chain_length = models.PositiveIntegerField(default=0, editable=False)
    chain_head = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("archive settings")
        verbose_name_plural = _("archive settings")
        constraints = [models.UniqueConstraint(fields=["school"], name="archivesettings_one_per_school")]

    def __str__(self) -> str:
        return f"archive settings of school {self.school_id}"

    def retention_years(self, document: str) -> int:
        if document == DocumentKind.SUMMARY:
            return self.summary_retention_years
        return self.journal_retention_years


class ArchiveBuild(SchoolOwned):
    """One run of archiving (a week, a semester or a year of every class): its progress and outcome.

    Scheduled builds have no ``requested_by``; ``(school, kind, start, end)`` is unique among them, which makes
    ``manage.py archive_due`` idempotent.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=ArchiveKind.choices)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    period = models.ForeignKey("schools.StudyPeriod", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("schools.AcademicYear", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scheduled = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=10, choices=BuildStatus.choices, default=BuildStatus.QUEUED)
    # Progress in classes: ``total`` is set when the build fans out into one task per class, ``done`` is
    # raised by one (``F() + 1``) by each class's task in the transaction that stores the class's documents.
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    # A weekly copy also holds every journal entry changed since this time (the previous weekly copy's start),
    # whatever the entry's date (docs/archive.md "What is archived when").
    changes_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("archive build")
        verbose_name_plural = _("archive builds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "kind", "start", "end"],
                condition=models.Q(scheduled=True),
                name="archivebuild_scheduled_once",
            )
        ]
        indexes = [models.Index(fields=["school", "-created_at"])]

    def __str__(self) -> str:
        return f"archive build {self.pk} ({self.kind} {self.start}..{self.end}, {self.status})"

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0


class DestructionAct(SchoolOwned):
    """An act of selecting archives for destruction (акт про вилучення для знищення): drafted from the
    archives whose term is over, confirmed by the director; then their files are removed."""

    number = models.PositiveIntegerField(_("number"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # What was destroyed, as it was at confirmation (record number, kind, class, dates, file hash, size).
    contents = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("destruction act")
        verbose_name_plural = _("destruction acts")
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["school", "number"], name="destructionact_number_per_school")]

    def __str__(self) -> str:
        return f"destruction act {self.number} of school {self.school_id}"


def archive_path(record: ArchiveRecord, filename: str) -> str:
    return f"archives/{record.school_id}/{record.start.year}/{filename}"


def part_path(part: ArchivePart, filename: str) -> str:
    """Where a class's document is stored when its task makes it: the archive's own place, so the record the
    build's last task appends takes over the file as it is."""
    return f"archives/{part.school_id}/{part.build.start.year}/{filename}"


class ArchiveRecord(SchoolOwned):
    """One archived file of one class (a class journal or a summary sheet, PDF/A-3b with the data embedded),
    a link of its school's hash chain. Never updated except to mark its destruction and to refresh the
    signature state; never deleted."""

    sequence = models.PositiveIntegerField(_("number"))
    build = models.ForeignKey(ArchiveBuild, null=True, blank=True, on_delete=models.SET_NULL, related_name="records")
    kind = models.CharField(_("kind"), max_length=10, choices=ArchiveKind.choices)
    document = models.CharField(_("document"), max_length=10, choices=DocumentKind.choices)
    school_class = models.ForeignKey(
        "schools.SchoolClass", verbose_name=_("class"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.ForeignKey("schools.StudyPeriod", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    created_at = models.DateTimeField(_("created"))
    file = models.FileField(upload_to=archive_path, max_length=255, blank=True)
    # The file's type, as every stored file keeps it (core/uploads.py sends files by it); archives are PDF/A.
    mime_type = models.CharField(max_length=100, default="application/pdf", editable=False)
    filename = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    previous_hash = models.CharField(max_length=64, blank=True)
    record_hash = models.CharField(_("hash of the record"), max_length=64)
    signature = models.CharField(
        _("signature"), max_length=10, choices=SignatureState.choices, default=SignatureState.UNSIGNED
    )
    # The signature's PAdES level ("PAdES-B-B", "-B-T", "-B-LT") and, when it is not B-LT, why (a code of
    # ``signing.signers.NOT_LT``). Not part of the record's hash: the signed file, which is, says the same.
    signature_level = models.CharField(_("signature level"), max_length=12, blank=True)
    signature_not_lt = models.CharField(max_length=24, blank=True)
    retain_until = models.DateField(_("keep until"))
    destroyed_at = models.DateTimeField(_("destroyed"), null=True, blank=True)
    destruction_act = models.ForeignKey(
        DestructionAct, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )

    class Meta:
        verbose_name = _("archive")
        verbose_name_plural = _("archives")
        ordering = ["-sequence"]
        constraints = [models.UniqueConstraint(fields=["school", "sequence"], name="archiverecord_sequence_per_school")]
        indexes = [
            models.Index(fields=["school", "school_class", "-sequence"]),
            models.Index(fields=["school", "retain_until"]),
        ]

    def __str__(self) -> str:
        return f"archive {self.sequence} of school {self.school_id} ({self.filename})"

    @property
    def destroyed(self) -> bool:
        return self.destroyed_at is not None

    @property
    def not_lt_reason(self) -> str:
        """Why the signature is not PAdES B-LT, for people (empty for B-LT and unsigned archives)."""
        from classbook.signing.signers import NOT_LT

        return str(NOT_LT.get(self.signature_not_lt, self.signature_not_lt)) if self.signature_not_lt else ""


class ArchivePart(SchoolOwned):
    """One class's document of a build, made (and signed) by that class's task; the build's last task appends
    every part to the school's chain in the build's fixed order (classes, then documents) and links the part to
    its record. Unique per (build, class, document): a task run twice, or a build tried again, makes nothing
    twice."""

    build = models.ForeignKey(ArchiveBuild, on_delete=models.CASCADE, related_name="parts")
    school_class = models.ForeignKey("schools.SchoolClass", on_delete=models.PROTECT, related_name="+")
    document = models.CharField(max_length=10, choices=DocumentKind.choices)
    file = models.FileField(upload_to=part_path, max_length=255)
    mime_type = models.CharField(max_length=100, default="application/pdf", editable=False)  # as every stored file
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    signed = models.BooleanField(default=False)
    signature_level = models.CharField(max_length=12, blank=True)  # as ArchiveRecord's
    signature_not_lt = models.CharField(max_length=24, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    record = models.OneToOneField(ArchiveRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="part")

    class Meta:
        verbose_name = _("archive part")
        verbose_name_plural = _("archive parts")
        constraints = [
            models.UniqueConstraint(fields=["build", "school_class", "document"], name="archivepart_once_per_build")
        ]

    def __str__(self) -> str:
        return f"part {self.document} of class {self.school_class_id} of build {self.build_id}"
