"""Building an archive (the body of ``archive.tasks.build_archive``; issue 12, R6.7).

One build archives every class of its academic year for its range of days:

- the **class journal** of each class (every kind of archive): the journal in the official layout
  (``classbook.printing.documents.class_journal_html``) as a PDF/A-3b with ``journal.json`` embedded (``contents``),
  its pages' footer carrying a verification code taken from the embedded data's SHA-256;
- the **summary sheet of grades** of each class (semester and year archives): the reports' summary sheet
  (``reports.queries.summary_sheet``, the same definition as the report page) printed the same way
  (``printing.documents.summary_sheet_html``) as a PDF/A-3b with ``summary.json`` embedded;

each then signed with the school's certificate when it has one (``classbook.signing.services.sign_pdf``)
and appended to the school's hash chain (``services.append_record``). Progress (``done`` of ``total``
documents) is saved on the build for the page's progress bar. Safe to run twice: a finished build is left
alone, and a document a build already archived is not archived again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classbook.archive import chain, contents, files, services
from classbook.archive.models import ArchiveBuild, ArchiveKind, ArchiveRecord, BuildStatus, DocumentKind
from classbook.printing.documents import PrintFooter, class_journal_html, summary_sheet_html
from classbook.reports import queries as report_queries
from classbook.schools.models import SchoolClass, TeachingAssignment

logger = logging.getLogger(__name__)

SUMMARY_FILENAME = "summary.json"
SUMMARY_SCHEMA = "https://classbook.example/schemas/summary-archive"


def documents_of(kind: str) -> list[str]:
    """Weekly copies are of the journals; semester and year archives add the summary sheets (R6.7, R6.8)."""
    if kind == ArchiveKind.WEEKLY:
        return [DocumentKind.JOURNAL]
    return [DocumentKind.JOURNAL, DocumentKind.SUMMARY]


def _classes(build: ArchiveBuild) -> list[SchoolClass]:
    return list(
        SchoolClass.objects.filter(school_id=build.school_id, year_id=build.year_id)
        .select_related("school", "year", "year_level")
        .order_by("year_level__number", "name", "id")
    )


def run(build_id: int) -> str:
    """Build the archive ``build_id`` (module docstring): its state, progress and records, or its error."""
    build = ArchiveBuild.objects.select_related("school", "year", "period").filter(pk=build_id).first()
    if build is None or build.status in (BuildStatus.DONE, BuildStatus.FAILED):
        return "skipped"
    ArchiveBuild.objects.filter(pk=build.pk).update(status=BuildStatus.RUNNING)
    with translation.override(build.school.language or settings.LANGUAGE_CODE):
        try:
            _build(build)
        except Exception:
            logger.exception("archive build %s failed", build.pk)
            ArchiveBuild.objects.filter(pk=build.pk).update(
                status=BuildStatus.FAILED,
                error=_("The archive could not be made. Try again later.")[:255],
                finished_at=timezone.now(),
            )
            return "failed"
    ArchiveBuild.objects.filter(pk=build.pk).update(status=BuildStatus.DONE, finished_at=timezone.now())
    return "done"


def _build(build: ArchiveBuild) -> None:
    items = [(c, d) for c in _classes(build) for d in documents_of(build.kind)]
    made = set(ArchiveRecord.objects.filter(build=build).values_list("school_class_id", "document"))
    ArchiveBuild.objects.filter(pk=build.pk).update(done=len(made), total=len(items))
    for number, (school_class, document) in enumerate(items, start=1):
        if (school_class.pk, document) not in made:
            make_document(build, school_class, document)
        ArchiveBuild.objects.filter(pk=build.pk).update(done=number)


def make_document(build: ArchiveBuild, school_class: SchoolClass, document: str) -> ArchiveRecord:
    """One class's document of the build, signed when the school can sign, appended to the chain."""
    if document == DocumentKind.JOURNAL:
        pdf = journal_pdf(school_class, build.start, build.end)
    else:
        pdf = summary_pdf(school_class, build)
    signed = _sign(build, pdf)
    return services.append_record(
        build=build,
        school_class=school_class,
        kind=build.kind,
        document=document,
        start=build.start,
        end=build.end,
        period=build.period,
        filename=_filename(build, school_class, document),
        content=signed if signed is not None else pdf,
        signed=signed is not None,
    )


def _filename(build: ArchiveBuild, school_class: SchoolClass, document: str) -> str:
    return f"{build.kind}-{document}-{school_class.pk}-{build.start:%Y%m%d}-{build.end:%Y%m%d}.pdf"


def _sign(build: ArchiveBuild, pdf: bytes) -> bytes | None:
    from classbook.signing.services import sign_pdf  # the signer (PAdES), None when there is no certificate

    reason = _("%(kind)s of %(start)s-%(end)s") % {
        "kind": ArchiveKind(build.kind).label,
        "start": build.start.strftime("%d.%m.%Y"),
        "end": build.end.strftime("%d.%m.%Y"),
    }
    return sign_pdf(build.school, pdf, reason=reason)


def _base_url() -> str:
    return str(settings.STATIC_ROOT) + "/"


# --- The class journal ---------------------------------------------------------------------------------


def verification_code(payload: bytes) -> str:
    """The short code printed on every page: the start of the embedded data's SHA-256, so a printed page can
    be matched to its archive (docs/archive.md)."""
    return chain.sha256_bytes(payload)[:10].upper()


def journal_pdf(school_class: SchoolClass, start: dt.date, end: dt.date) -> bytes:
    generated_at = timezone.now().replace(microsecond=0)
    payload = contents.dumps(contents.class_journal(school_class, start, end, generated_at=generated_at))
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
        "version": contents.VERSION,
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
    description = _("The summary sheet as data (JSON, schema version %(version)s)") % {"version": contents.VERSION}
    return files.write_pdfa(html, base_url=_base_url(), attachments={SUMMARY_FILENAME: (payload, description)})
