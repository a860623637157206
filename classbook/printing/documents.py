"""The printed documents as HTML for WeasyPrint, and the PDF (issue 12, R6.6).

``class_journal_html`` is the public entry point other parts use (the archive builds its PDF/A copies from
it): complete HTML with its own print CSS, every page carrying the school, the class, the subject, page N
of M, the generation time and the verification code (``PrintFooter``). ``render_pdf`` turns it into a PDF.
The signature is kept stable; new options come as keyword arguments.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.context import SchoolContext
from classbook.access.printing import printable_assignments, system_context
from classbook.printing.queries import SECTIONS, ClassJournal, Layout, class_journal, section_labels
from classbook.reports.attendance_exports import report_table
from classbook.reports.exports import summary_lines, summary_table
from classbook.reports.queries import SummarySheet
from classbook.schools.models import SchoolClass


@dataclass(frozen=True)
class Certification:
    """The certification block of a certified copy: "True to the original" (Згідно з оригіналом), the certifying
    person's position and name, a line for the signature, the date and the seal's place, as the instruction on
    record keeping in schools (order of the Ministry of Education of 25.06.2018 No. 676) marks a copy; R6.6,
    seed 000 §4.22 ("printed and certified in the established order")."""

    position: str
    name: str
    date: dt.date


@dataclass(frozen=True)
class PrintFooter:
    """What every printed page carries besides the school, class and subject: the verification code and
    the generation time (and who printed it and the certification, when given)."""

    code: str
    generated_at: dt.datetime
    printed_by: str = ""
    certification: Certification | None = None


def _css_string(value: str) -> str:
    """``value`` as a CSS string literal (the page's margin boxes are written in CSS)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def _css_content(text: str, functions: dict[str, str]) -> str:
    """A translated text with placeholders as a CSS ``content`` value: the literal parts as strings, each
    placeholder as its CSS function (``counter(page)``), in the translation's own order."""
    markers = {name: f"\x00{name}\x00" for name in functions}
    parts = (text % markers).split("\x00")
    return " ".join(functions[p] if i % 2 else _css_string(p) for i, p in enumerate(parts) if p or i % 2)


def page_css(school: str, school_class: str, footer: PrintFooter) -> str:
    """The ``@page`` rules: the running head (school, class, subject) and foot (generation time, code,
    page N of M), in the reader's language."""
    generated = timezone.localtime(footer.generated_at).strftime("%d.%m.%Y %H:%M")
    foot = _("Generated %(time)s · verification code %(code)s") % {"time": generated, "code": footer.code}
    numbered = _css_content(_("Page %(page)s of %(pages)s"), {"page": "counter(page)", "pages": "counter(pages)"})
    return (
        "@page { size: A4 landscape; margin: 14mm 9mm 14mm 9mm;"
        f" @top-left {{ content: {_css_string(school)}; font-size: 7pt; }}"
        f' @top-center {{ content: {_css_string(school_class)} " · " string(subject);'
        " font-size: 8pt; font-weight: bold; }"
        f" @bottom-left {{ content: {_css_string(foot)}; font-size: 7pt; }}"
        f" @bottom-right {{ content: {numbered}; font-size: 7pt; }}"
        " }"
    )


def layout_titles(layout: str) -> dict[str, str]:
    """The title and the legal basis of each layout's form."""
    return {
        Layout.UA: {
            "title": _("Class journal"),
            "basis": _(
                "Form of the order of the Ministry of Education of 10.05.2011 No. 423; kept according to "
                "the instruction approved by the order of 03.06.2008 No. 496 (grades 5-11)"
            ),
        },
        Layout.UA_PRIMARY: {
            "title": _("Class journal"),
            "basis": _("Form of the order of the Ministry of Education of 08.04.2015 No. 412 (grades 1-4)"),
        },
        Layout.RU: {
            "title": _("Class journal"),
            "basis": _("Kept according to the school's regulations on the class journal"),
        },
        Layout.GROUP: {
            "title": _("Journal of a group's lessons"),
            "basis": _("Kept according to the college's regulations on the journal of lessons"),
        },
    }[layout]


def _summary_tables(sheets: list[SummarySheet]) -> list[dict[str, Any]]:
    """The reports' summary sheets as their PDF prints them (``reports.exports``: one definition)."""
    out = []
    for sheet in sheets:
        head, _rows, foot = summary_table(sheet)
        out.append(
            {"sheet": sheet, "title": sheet.scope.title, "head": head, "lines": summary_lines(sheet), "foot": foot}
        )
    return out


def journal_html(journal: ClassJournal, footer: PrintFooter) -> str:
    """The HTML of a read ``ClassJournal``."""
    school = journal.school
    attendance = None
    if journal.attendance is not None:
        head, rows = report_table(journal.attendance)
        attendance = {"head": head, "rows": rows}
    context = {
        "journal": journal,
        "school": school,
        "school_class": journal.school_class,
        "year": journal.school_class.year,
        "footer": footer,
        "page_css": page_css(school.name, journal.school_class.name, footer),
        "titles": layout_titles(journal.layout),
        "labels": section_labels(),
        "summaries": _summary_tables(journal.summaries),
        "attendance_table": attendance,
        "show": set(journal.sections),
    }
    return render_to_string("printing/journal_pdf.html", context)


def class_journal_html(
    school_class: SchoolClass,
    *,
    start: dt.date,
    end: dt.date,
    assignment_ids: list[int] | None = None,
    footer: PrintFooter,
    ctx: SchoolContext | None = None,
    sections: tuple[str, ...] = SECTIONS,
    contacts: bool = False,
) -> str:
    """The class journal of ``school_class`` over the days ``start``-``end`` as complete HTML for WeasyPrint.

    ``assignment_ids`` narrows the subjects (None: every journal of the class). ``ctx`` is the printing
    user's context: only the journals they may print are included (None: the system's, every journal, as the
    archive prints them). ``sections`` picks the parts (``queries.SECTIONS``); ``contacts`` prints the
    students' addresses, phones and guardians on the information page.
    """
    ctx = ctx or system_context(school_class.school)
    assignments = printable_assignments(ctx, school_class)
    journal = class_journal(
        ctx,
        school_class,
        assignments,
        start=start,
        end=end,
        assignment_ids=assignment_ids,
        sections=sections,
        contacts=contacts,
    )
    return journal_html(journal, footer)


def summary_sheet_html(school_class: SchoolClass, sheets: list[SummarySheet], footer: PrintFooter) -> str:
    """Summary sheets of the reports printed the same way (the running head and foot, the code)."""
    school = school_class.school
    context = {
        "school": school,
        "school_class": school_class,
        "footer": footer,
        "page_css": page_css(school.name, school_class.name, footer),
        "summaries": _summary_tables(sheets),
        "title": _("Summary sheet of grades"),
    }
    return render_to_string("printing/summary_pdf.html", context)


# WeasyPrint's user-agent stylesheet styles six pseudo-elements of *every* element (``::marker`` and the
# footnote and note calls and markers). Pseudo-elements get no shared computed style, so each of a journal's
# ~5,000 table cells cost six more style computations: about 40 % of the CPU time of a journal's PDF (profiled,
# docs/performance.md). The printed documents have no footnotes or notes: those rules are dropped, and
# ``::marker`` is narrowed to the list items, the only elements it shows on.
_UNIVERSAL_PSEUDO = re.compile(
    r"(?m)^::(marker|footnote-call|footnote-marker|note-call|note-marker|note-callback) (\{[^}\n]*\})$"
)


def _narrowed_rule(match: re.Match[str]) -> str:
    return f"li::marker {match.group(2)}" if match.group(1) == "marker" else ""


@functools.cache
def _html_class() -> type:
    """WeasyPrint's ``HTML`` with the narrowed user-agent stylesheet (WeasyPrint's own, unchanged, when a
    newer WeasyPrint no longer has those six rules as this one writes them)."""
    from weasyprint import CSS, HTML, html
    from weasyprint.css.counters import CounterStyle

    text, count = _UNIVERSAL_PSEUDO.subn(_narrowed_rule, html.UA)
    if count != 6:
        return HTML
    # Its ``@counter-style`` rules are read into their own store (the documents use WeasyPrint's, untouched).
    stylesheet = CSS(string=text, counter_style=CounterStyle())

    class NarrowedHTML(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            return [stylesheet, html.UA_FORM_STYLESHEET] if forms else [stylesheet]

    return NarrowedHTML


_paused = threading.Lock()
_pausing = 0  # the renderings under way with the collector paused (threads of one process)
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while WeasyPrint lays out and writes a document.

    WeasyPrint makes millions of objects that live until the document is written (the boxes, their styles,
    the pages); with the collector on, each 700 of them start a collection that walks the younger ones, and
    the full collections walk the growing document again and again: about a third of a year journal's CPU
    time (docs/performance.md, issue 12). Memory is the same within a few per cent (the document lives
    until the end either way); its garbage is collected by the first collection after it. Several threads
    rendering at once share the pause: the collector runs again when the last one ends, and it is left alone
    when it was off before.
    """
    global _pausing, _resume
    with _paused:
        _pausing += 1
        if _pausing == 1:
            _resume = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _paused:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()


def render_pdf(
    html: str,
    *,
    base_url: str | None = None,
    pdf_variant: str | None = None,
    attachments: dict[str, tuple[bytes, str]] | None = None,
) -> bytes:
    """The PDF of ``html`` (``pdf_variant``: WeasyPrint's, e.g. ``"pdf/a-3b"`` for archives; ``attachments``:
    files to embed, name → (bytes, description), as the archive's data)."""
    options: dict[str, Any] = {}
    if pdf_variant:
        options["pdf_variant"] = pdf_variant
    if attachments:
        from weasyprint import Attachment

        options["attachments"] = [
            Attachment(string=content, name=name, description=description, relationship="Data")
            for name, (content, description) in attachments.items()
        ]
    # WeasyPrint is imported in ``_html_class``: slow to import, needed only for printing.
    with _collector_paused():
        return bytes(_html_class()(string=html, base_url=base_url).write_pdf(**options))
