"""Profile one class's year-archive documents in one process, step by step (issue 12; docs/performance.md).

Run from the repository root against a database ``seed_demo`` filled (the certificate of ``--sign`` is the
only thing written to it):

    export DATABASE_URL=sqlite:////tmp/archive_bench.sqlite3 SECRET_KEY=dev-key
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --seed 1 --students 1000
    .venv/bin/python bench/archive_class.py --classes 10-А 6-Б 2-В --runs 2 --sign

For each class it makes the documents the year archive's class task makes (``archive.build._document``: the
class journal as PDF/A-3b with ``journal.json`` embedded, the summary sheet with ``summary.json``, each signed
with ``--sign``), ``--runs`` times after one warm-up, and prints the CPU time of this process
(``time.process_time``) per class split into: reading (the embedded data's and the printed journal's queries),
the HTML (Django templates), WeasyPrint's parse, its style cascade, its boxes, its layout, its drawing and PDF
write (with the PDF/A parts and the attachment), and the signing. ``--text FILE`` writes the PDFs' extracted
text (pypdf) and page counts to FILE, to compare two versions of the code on the same data; ``--profile FILE``
writes a cProfile of the last run.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import json
import os
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager

from _bootstrap import setup_existing

setup_existing()

STEPS = ("read", "html", "parse", "cascade", "boxes", "layout", "draw+write", "gc", "sign", "other")
SPENT: dict[str, float] = defaultdict(float)
_ACTIVE: list[str] = []


@contextmanager
def step(name: str):
    """Count the CPU time of the block to ``name`` (nested steps are taken out of the enclosing one)."""
    started = time.process_time()
    _ACTIVE.append(name)
    try:
        yield
    finally:
        spent = time.process_time() - started
        _ACTIVE.pop()
        SPENT[name] += spent
        if _ACTIVE:
            SPENT[_ACTIVE[-1]] -= spent


def wrap(module, attribute: str, name: str, *, generator: bool = False) -> None:
    original = getattr(module, attribute)

    def timed(*args, **kwargs):
        with step(name):
            result = original(*args, **kwargs)
            return list(result) if generator else result  # a generator's work is done when it is consumed

    setattr(module, attribute, timed)


def instrument() -> None:
    """Wrap the steps: the read models, the templates, and WeasyPrint's own stages."""
    import weasyprint
    import weasyprint.document as wdoc
    from django.template import loader

    from classbook.archive import build, contents
    from classbook.printing import documents, queries
    from classbook.signing import services as signing

    wrap(contents, "class_journal", "read")
    wrap(build, "_sheet", "read")
    wrap(queries, "class_journal", "read")
    wrap(documents, "class_journal", "read")
    wrap(documents, "printable_assignments", "read")
    wrap(loader, "render_to_string", "html")
    wrap(documents, "render_to_string", "html")
    wrap(wdoc, "get_all_computed_styles", "cascade")
    wrap(wdoc, "build_formatting_structure", "boxes")
    wrap(wdoc, "layout_document", "layout", generator=True)
    wrap(wdoc.Document, "write_pdf", "draw+write")
    wrap(signing, "sign_pdf_with_level", "sign")
    wrap(gc, "collect", "gc")
    original_init = weasyprint.HTML.__init__

    def init(self, *args, **kwargs):
        with step("parse"):
            original_init(self, *args, **kwargs)

    weasyprint.HTML.__init__ = init


def certify(school) -> None:
    from classbook.people.models import Membership, Role
    from classbook.signing import services as signing
    from classbook.signing.models import SigningCertificate
    from tests.signing.conftest import PASSWORD, make_certs

    if SigningCertificate.objects.filter(school=school).exists():
        return
    admin = Membership.objects.filter(school=school, role=Role.ADMIN).select_related("user").first().user
    signing.upload_certificate(acting_user=admin, school=school, data=make_certs().leaf.p12, password=PASSWORD)


def pdf_text(pdf: bytes) -> tuple[list[str], list[list[tuple[str, float, float]]]]:
    """Each page's text (pypdf) and every text run's position (x, y to 0.1 pt) on it."""
    import io

    from pypdf import PdfReader

    texts, runs = [], []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        placed: list[tuple[str, float, float]] = []

        def visit(text, cm, tm, _font, _size, placed=placed):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                placed.append((text, round(x, 1), round(y, 1)))

        texts.append(page.extract_text(visitor_text=visit))
        runs.append(placed)
    return texts, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", nargs="+", default=["10-А"], help="class names (default 10-А)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--sign", action="store_true")
    parser.add_argument("--text", default="", help="write the PDFs' text and page counts (JSON) to this file")
    parser.add_argument("--generated-at", default="2026-12-04T12:00:00+00:00", help="the documents' time")
    parser.add_argument("--profile", default="", help="write a cProfile of the last run to this file")
    args = parser.parse_args()

    from django.utils import timezone, translation

    from classbook.archive import build as archive_build
    from classbook.archive.models import ArchiveBuild, ArchiveKind, DocumentKind
    from classbook.schools.models import AcademicYear, School, SchoolClass

    school = School.objects.order_by("pk").first()
    year = AcademicYear.objects.get(school=school, is_current=True)
    if args.sign:
        certify(school)
    # An unsaved build: what the class task reads of it (its school, kind and days).
    build = ArchiveBuild(school=school, year=year, kind=ArchiveKind.YEAR, start=year.start, end=year.end)
    # Every run (and every version of the code) the same generation time, so the verification codes and the
    # texts do not differ by it.
    frozen = dt.datetime.fromisoformat(args.generated_at)
    timezone.now = lambda: frozen
    instrument()
    texts: dict[str, object] = {}
    total: list[float] = []
    print(f"load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with translation.override(school.language or "uk"):
        for name in args.classes:
            class_id = SchoolClass.objects.get(school=school, year=year, name=name).pk
            school_class = archive_build._classes(build, pk=class_id)[0]
            cpu: list[float] = []
            for run in range(args.runs + 1):
                SPENT.clear()
                profiler = cProfile.Profile() if args.profile and run == args.runs else None
                started = time.process_time()
                if profiler:
                    profiler.enable()
                made = [archive_build._document(build, school_class, d) for d in DocumentKind.values]
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(args.profile)
                spent = time.process_time() - started
                SPENT["other"] += spent - sum(v for k, v in SPENT.items() if k != "other")
                if run:  # the first run is the warm-up (imports, fonts, caches)
                    cpu.append(spent)
                else:
                    warm_up = spent
            split = ", ".join(f"{k} {SPENT[k]:.2f}" for k in STEPS)
            pages = []
            for m in made:
                text, placed = pdf_text(m.content)
                pages.append(len(text))
                texts[f"{name}/{m.document}"] = {"pages": len(text), "text": text, "placed": placed}
            print(
                f"{name}: CPU {statistics.median(cpu):.2f} s (runs {' '.join(f'{c:.2f}' for c in cpu)}; "
                f"warm-up {warm_up:.2f}); "
                f"last run: {split}; pages {pages}; {sum(len(m.content) for m in made) // 1024} KiB"
            )
            total.append(statistics.median(cpu))
    print(f"sum of the classes' medians: {sum(total):.2f} s CPU")
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.text:
        with open(args.text, "w", encoding="utf-8") as out:
            json.dump(texts, out, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
