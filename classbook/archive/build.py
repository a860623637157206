"""Building an archive (the body of ``archive.tasks.build_archive``; issue 12, R6.7).

One build archives every class of its academic year for its range of days:

- the **class journal** of each class (every kind of archive): the journal in the official layout
  (``classbook.printing.documents.class_journal_html``) as a PDF/A-3b with ``journal.json`` embedded (``contents``),
  its pages' footer carrying a verification code taken from the embedded data's SHA-256;
- the **summary sheet of grades** of each class (semester and year archives): the reports' summary sheet
  (``reports.queries.summary_sheet``, the same definition as the report page) printed the same way
  (``printing.documents.summary_sheet_html``) as a PDF/A-3b with ``summary.json`` embedded;

each then signed with the school's certificate when it has one (``classbook.signing.services.sign_pdf_with_level``:
PAdES B-B/B-T, B-LT when the certificate's revocation information answers; the part and its record keep the level
and, when it is not B-LT, why).

The work is split by class so that several task workers share it (a year archive is hundreds of printed pages
per class): ``run`` (task ``build_archive``) counts the classes and queues one ``build_archive_class`` task per
class; ``run_class`` makes that class's documents and stores them as the build's **parts**
(``ArchivePart``, unique per build, class and document), counting the class done (``done`` of ``total``
classes, raised atomically); the task that finds every class made **seals** the build: it appends all the parts
to the school's hash chain in the fixed order of the classes (grade, name, id) and documents, in one transaction
under the chain's lock (``services.seal``), so the chain does not depend on which worker finished first.
A failed class marks the build failed with its error; tried again (``services.retry_build``), the build queues
only the classes not made yet. Safe to run twice: a finished build is left alone, nothing is made twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classbook.archive import chain, contents, files, services
from classbook.archive.models import ArchiveBuild, ArchiveKind, ArchivePart, BuildStatus, DocumentKind
from classbook.printing.documents import PrintFooter, class_journal_html, summary_sheet_html
from classbook.reports import queries as report_queries
from classbook.schools.models import SchoolClass, TeachingAssignment

if TYPE_CHECKING:
    from classbook.signing.signers import SignedPdf

logger = logging.getLogger(__name__)

SUMMARY_FILENAME = "summary.json"
SUMMARY_SCHEMA = "https://classbook.example/schemas/summary-archive"
SUMMARY_VERSION = 1


def documents_of(kind: str) -> list[str]:
    """Weekly copies are of the journals; semester and year archives add the summary sheets (R6.7, R6.8)."""
    if kind == ArchiveKind.WEEKLY:
        return [DocumentKind.JOURNAL]
    return [DocumentKind.JOURNAL, DocumentKind.SUMMARY]


def _classes(build: ArchiveBuild, pk: int | None = None) -> list[SchoolClass]:
    """The build's classes in the chain's fixed order (grade, name, id); only ``pk`` when given."""
    classes = SchoolClass.objects.filter(school_id=build.school_id, year_id=build.year_id)
    if pk is not None:
        classes = classes.filter(pk=pk)
    return list(classes.select_related("school", "year", "year_level").order_by("year_level__number", "name", "id"))


def run(build_id: int) -> str:
    """Fan the build ``build_id`` out (module docstring): count its classes and queue one task per class not
    made yet, in one transaction with the build's move from queued to running (the database backend writes the
    tasks in it), so a fan-out run twice queues nothing twice; when every class is made already (a build tried
    again after its last step failed), seal it."""
    from classbook.archive import tasks  # the tasks call back into this module

    with transaction.atomic():
        build = ArchiveBuild.objects.select_for_update().filter(pk=build_id).first()
        if build is None or build.status != BuildStatus.QUEUED:
            return "skipped"
        classes = _classes(build)
        made = _made_classes(build, documents_of(build.kind))
        build.status, build.total, build.done = BuildStatus.RUNNING, len(classes), len(made)
        build.save(update_fields=["status", "total", "done"])
        waiting = [c.pk for c in classes if c.pk not in made]
        # The upper grades first: their journals are the longest, so the workers end together on the small
        # classes of the lower grades (the chain's order does not depend on it: ``_seal``).
        for class_id in reversed(waiting):
            tasks.build_archive_class.enqueue(build.pk, class_id)
    if not waiting:
        return _seal(build, classes)
    return f"queued {len(waiting)} classes"


def _made_classes(build: ArchiveBuild, documents: list[str]) -> set[int]:
    """The classes of ``build`` whose every document is made (stored as a part)."""
    have: dict[int, set[str]] = {}
    for class_id, document in ArchivePart.objects.filter(build=build).values_list("school_class_id", "document"):
        have.setdefault(class_id, set()).add(document)
    return {c for c, docs in have.items() if docs >= set(documents)}


def run_class(build_id: int, class_id: int) -> str:
    """Make the documents of one class of the build (each signed when the school can sign) and store them
    as the build's parts; the task that makes the last class appends all of them to the chain (``_seal``).
    A failure marks the build failed with the error; the build can be tried again
    (``services.retry_build``) and the classes made already are kept."""
    build = ArchiveBuild.objects.select_related("school", "year", "period").filter(pk=build_id).first()
    if build is None or build.status in (BuildStatus.DONE, BuildStatus.FAILED):
        return "skipped"
    school_class = _classes(build, pk=class_id)
    if not school_class:
        return "skipped"
    with translation.override(build.school.language or settings.LANGUAGE_CODE):
        try:
            documents = documents_of(build.kind)
            have = set(
                ArchivePart.objects.filter(build=build, school_class=school_class[0]).values_list("document", flat=True)
            )
            made = [_document(build, school_class[0], d) for d in documents if d not in have]
            if made:
                services.add_parts(build=build, school_class=school_class[0], made=made, complete=True)
            return _seal(build, _classes(build))
        except Exception as error:
            logger.exception("archive build %s, class %s failed", build.pk, class_id)
            services.fail_build(
                build,
                _("The archive of class %(class)s could not be made (%(error)s). Try again.")
                % {"class": school_class[0].name, "error": type(error).__name__},
            )
            return "failed"


def _seal(build: ArchiveBuild, classes: list[SchoolClass]) -> str:
    if services.seal(build, [c.pk for c in classes], documents_of(build.kind)):
        return "done"
    return "made"


def _document(build: ArchiveBuild, school_class: SchoolClass, document: str) -> services.Made:
    """One class's document of the build, signed (with its PAdES level) when the school can sign."""
    if document == DocumentKind.JOURNAL:
        pdf = journal_pdf(school_class, build.start, build.end, changes_since=build.changes_since)
    else:
        pdf = summary_pdf(school_class, build)
    filename = _filename(build, school_class, document)
    signed = _sign(build, pdf)
    if signed is None:
        return services.Made(document, filename, pdf)
    return services.Made(document, filename, signed.content, signed.level, signed.not_lt)


def _filename(build: ArchiveBuild, school_class: SchoolClass, document: str) -> str:
    return f"{build.kind}-{document}-{school_class.pk}-{build.start:%Y%m%d}-{build.end:%Y%m%d}.pdf"


def _sign(build: ArchiveBuild, pdf: bytes) -> SignedPdf | None:
    # The signer (PAdES B-B/B-T, B-LT when the revocation information answers), None without a certificate.
    from classbook.signing.services import sign_pdf_with_level

    reason = _("%(kind)s of %(start)s-%(end)s") % {
        "kind": ArchiveKind(build.kind).label,
        "start": build.start.strftime("%d.%m.%Y"),
        "end": build.end.strftime("%d.%m.%Y"),
    }
    return sign_pdf_with_level(build.school, pdf, reason=reason)


def _base_url() -> str:
    return str(settings.STATIC_ROOT) + "/"


# --- The class journal ---------------------------------------------------------------------------------


def verification_code(payload: bytes) -> str:
    """The short code printed on every page: the start of the embedded data's SHA-256, so a printed page can
    be matched to its archive (docs/archive.md)."""
    return chain.sha256_bytes(payload)[:10].upper()


def journal_pdf(
    school_class: SchoolClass, start: dt.date, end: dt.date, *, changes_since: dt.datetime | None = None
) -> bytes:
    generated_at = timezone.now().replace(microsecond=0)
    payload = contents.dumps(
        contents.class_journal(school_class, start, end, generated_at=generated_at, changes_since=changes_since)
    )
    html = class_journal_html(
        school_class,
        start=start,
        end=end,
        footer=PrintFooter(code=verification_code(payload), generated_at=generated_at),
    )
    description = _("The class journal as data (JSON, schema version %(version)s)") % {"version": contents.VERSION}
    return files.write_pdfa(html, base_url=_base_url(), attachments={contents.FILENAME: (payload, description)})


# --- The summary sheet ---------------------------------------------------------------------------------


def _sheet(school_class: SchoolClass, build: ArchiveBuild) -> report_queries.SummarySheet:
    school = school_class.school
    return report_queries.summary_sheet(
        TeachingAssignment.objects.filter(school=school),
        school_class,
        report_queries.Scope(year=build.year, period=build.period if build.kind != ArchiveKind.YEAR else None),
        report_queries.report_settings(school),
        school,
    )


def summary_data(sheet: report_queries.SummarySheet, generated_at: dt.datetime) -> dict[str, Any]:
    """The summary sheet as data: ``summary.json`` (documented in docs/archive.md)."""
    school_class = sheet.school_class
    return {
        "$schema": SUMMARY_SCHEMA,
        "version": SUMMARY_VERSION,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "school": {"id": school_class.school_id, "name": school_class.school.name},
        "class": {"id": school_class.pk, "name": school_class.name, "year": school_class.year.name},
        "period": {"id": sheet.scope.period.pk, "name": sheet.scope.period.name} if sheet.scope.period else None,
        "subjects": [
            {"id": s.subject_id, "name": s.name, "average": _number(s.average), "not_attested": s.not_attested}
            for s in sheet.subjects
        ],
        "students": [
            {
                "id": st.student_id,
                "name": st.name,
                "left_on": st.left_on.isoformat() if st.left_on else None,
                "grades": {str(k): v for k, v in st.cells.items()},
                "corrected": sorted(st.corrected),
                "average": _number(st.average),
                "not_attested": st.not_attested,
            }
            for st in sheet.students
        ],
        "average": _number(sheet.average),
    }


def _number(value: Any) -> str | None:
    return None if value is None else str(value)


def summary_pdf(school_class: SchoolClass, build: ArchiveBuild) -> bytes:
    generated_at = timezone.now().replace(microsecond=0)
    sheet = _sheet(school_class, build)
    payload = json.dumps(summary_data(sheet, generated_at), ensure_ascii=False, separators=(",", ":")).encode()
    footer = PrintFooter(code=verification_code(payload), generated_at=generated_at)
    html = summary_sheet_html(school_class, [sheet], footer)
    description = _("The summary sheet as data (JSON, schema version %(version)s)") % {"version": SUMMARY_VERSION}
    return files.write_pdfa(html, base_url=_base_url(), attachments={SUMMARY_FILENAME: (payload, description)})
