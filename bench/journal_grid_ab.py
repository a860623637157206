"""A/B of the journal grid page in one process: this checkout's page against an earlier commit's (docs/performance.md).

The machine is shared, so two bench runs one after the other measure two loads. Here both versions of the page
run in the same process, request by request (AB, then BA), with the floor (``journal_grid.floor_html``) between
pairs, and their CPU time (``time.process_time``) is compared. The earlier commit's read model
(``classbook/journal/grid.py``), its tag module (``journal/templatetags/journal_grid.py``) and its page template
(``journal/grid.html``) are loaded from a folder under other names; the view, the site and the database are this
checkout's. Both pages are compared equal first (the CSRF token's mask and the offline banner's clock aside).

    git archive <commit> | tar -x -C /tmp/base
    .venv/bin/python bench/journal_grid_ab.py --base /tmp/base [--runs 60] [--all-lessons] [--api] [--base-gen0 700]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=bench_ab \
        .venv/bin/python bench/journal_grid_ab.py --base /tmp/base

``--api`` compares the JSON API's grid answer instead of the page (the route's ``read_grid`` and ``api_json``
swapped; both answers compared equal first). ``--base-gen0 700`` runs A with the garbage collector's youngest
threshold at 700 (Python's default, what ``core/startup.py`` kept before issue 10's seventh pass) and B with this
checkout's (``startup.GEN0_THRESHOLD``), switched request by request with the code.

Valid while the earlier commit's read model and tags fit this checkout's view (the same names: ``read_grid``,
the tags the template loads).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

import journal_grid as bench  # bootstraps Django (and names the bench's database)
from _bootstrap import bench_database
from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.template.library import SimpleNode
from django.template.loader_tags import BlockNode
from django.test import Client
from django.urls import reverse


def load_module(alias: str, path: Path, replace: tuple[tuple[str, str], ...] = ()) -> types.ModuleType:
    """The module at ``path`` under the name ``alias`` (its imports of the read model renamed by ``replace``)."""
    source = path.read_text()
    for old, new in replace:
        source = source.replace(old, new)
    module = types.ModuleType(alias)
    module.__file__ = str(path)
    sys.modules[alias] = module  # dataclasses look their module up while the class is made
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - the repository's own earlier code
    return module


def simple_tags(nodelist: Any) -> list[SimpleNode]:
    found: list[SimpleNode] = []
    for node in nodelist:
        if isinstance(node, SimpleNode):
            found.append(node)
        for attr in getattr(node, "child_nodelists", ()):
            found.extend(simple_tags(getattr(node, attr, None) or []))
        for _condition, branch in getattr(node, "conditions_nodelists", ()):
            found.extend(simple_tags(branch))
    return found


def comparable(content: bytes) -> bytes:
    content = re.sub(rb'"[A-Za-z0-9]{64}"', b'"TOKEN"', content)
    return re.sub(rb"(data-offline-banner hidden>[^<]*?)\d\d:\d\d</p>", rb"\1HH:MM</p>", content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="an earlier commit exported with git archive")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--all-lessons", action="store_true", help="the page with ?lessons=all")
    parser.add_argument("--api", action="store_true", help="the JSON API's grid answer instead of the page")
    parser.add_argument("--base-gen0", type=int, help="A's youngest GC threshold (B keeps this checkout's)")
    args = parser.parse_args()
    journal = Path(args.base) / "classbook" / "journal"
    base_grid = load_module("ab_base_grid", journal / "grid.py")
    base_tags = load_module(
        "ab_base_tags",
        journal / "templatetags" / "journal_grid.py",
        (("classbook.journal.grid", "ab_base_grid"),),
    )
    base_page = engines["django"].from_string((journal / "templates" / "journal" / "grid.html").read_text())
    for block in base_page.template.nodelist.get_nodes_by_type(BlockNode):  # type: ignore[attr-defined]
        for node in simple_tags(block.nodelist):
            if hasattr(base_tags, node.func.__name__):
                node.func = getattr(base_tags, node.func.__name__)

    from classbook.api.routes import journal as api_routes
    from classbook.core.startup import freeze_startup_objects
    from classbook.journal import grid, views
    from classbook.journal.models import WorkType
    from classbook.schools.models import StudyPeriod

    render = views.render

    def render_base(request: Any, name: str, context: Any = None, *rest: Any, **kwargs: Any) -> HttpResponse:
        if name == "journal/grid.html":
            return HttpResponse(base_page.render(context, request))
        return render(request, name, context, *rest, **kwargs)

    thresholds = {"A": gc.get_threshold(), "B": gc.get_threshold()}

    def use(version: str) -> None:
        if version == "A":
            views.read_grid, views.render = base_grid.read_grid, render_base  # type: ignore[assignment]
            api_routes.read_grid, api_routes.api_json = base_grid.read_grid, base_grid.api_json  # type: ignore[attr-defined]
        else:
            views.read_grid, views.render = grid.read_grid, render  # type: ignore[assignment]
            api_routes.read_grid, api_routes.api_json = grid.read_grid, grid.api_json  # type: ignore[attr-defined]
        gc.set_threshold(*thresholds[version])

    with bench_database():
        setup = bench.build(40, 100)
        school, assignment = setup["school"], setup["assignment"]
        client = Client(HTTP_HOST="localhost")
        client.force_login(setup["teacher"])
        url = reverse("journal:grid", args=[school.slug, assignment.pk]) + ("?lessons=all" if args.all_lessons else "")
        period = StudyPeriod.objects.get(school=school, name="Bench")
        if args.api:
            url = f"/api/v1/schools/{school.slug}/journal/assignments/{assignment.pk}/grid?period={period.pk}"
        default_wt = WorkType.objects.filter(school=school, is_active=True).order_by("ordinal", "id").first()
        floor_args = (assignment.pk, assignment.school_class_id, default_wt.pk, period.start, period.end)
        pages = {}
        for version in "AB":
            use(version)
            pages[version] = comparable(client.get(url).content)
        if pages["A"] != pages["B"]:
            raise SystemExit("the two answers differ: compare them before timing")
        for version in "ABAB":
            use(version)
            client.get(url)
        freeze_startup_objects()
        thresholds["B"] = gc.get_threshold()
        if args.base_gen0:
            thresholds["A"] = (args.base_gen0, *thresholds["B"][1:])
        else:
            thresholds["A"] = thresholds["B"]
        cpu: dict[str, list[float]] = {"A": [], "B": [], "floorA": [], "floorB": []}
        load = os.getloadavg()[0]
        for run in range(args.runs):
            for version in "AB" if run % 2 == 0 else "BA":
                use(version)
                c0 = time.process_time()
                client.get(url)
                cpu[version].append((time.process_time() - c0) * 1000)
                # The floor under the same collector's threshold (the same code for both).
                c0 = time.process_time()
                bench.floor_html(*floor_args)
                cpu["floor" + version].append((time.process_time() - c0) * 1000)
        m = {k: statistics.median(v) for k, v in cpu.items()}
        after = os.getloadavg()[0]
        what = "API grid" if args.api else "page"
        print(
            f"{connection.vendor}, {what}, {args.runs} interleaved runs, CPU medians (load {load:.1f} -> {after:.1f}): "
            f"A ({args.base}) {m['A']:.2f} ms, B (this checkout) {m['B']:.2f} ms; B/A {m['B'] / m['A']:.3f}; "
            f"floor A {m['floorA']:.2f} ms, B {m['floorB']:.2f} ms; {what}/floor A {m['A'] / m['floorA']:.2f}x, "
            f"B {m['B'] / m['floorB']:.2f}x; answers equal ({len(pages['B']) // 1024} KiB); "
            f"GC gen0 A {thresholds['A'][0]}, B {thresholds['B'][0]}"
        )


if __name__ == "__main__":
    main()
