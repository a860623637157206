"""What a server process does once it has loaded the application: freeze the startup objects out of the
garbage collector's way (docs/performance.md, "The garbage collector").

A Django process holds ~150,000 objects the cyclic garbage collector tracks (modules, classes, functions,
URL patterns, templates, translations), all alive until the process ends. A request that builds a large
read model (the journal grid: thousands of cells) promotes enough short-lived objects to the oldest
generation to trigger full collections, and every full collection walked all of those startup objects
again: measured at 40 students × 100 lessons, 40-55 % of the grid page's time went to the collector.
``gc.freeze()`` moves the objects alive at startup into a permanent generation the collector skips
(https://docs.python.org/3/library/gc.html#gc.freeze); request garbage is collected as before (the grid's
objects hold no reference cycles and are freed by reference counting anyway).

The youngest generation's threshold is raised too (``GEN0_THRESHOLD``; Python's default is 700): the
collector runs when the objects it tracks that were allocated and not yet freed pass the threshold. A grid
request holds ~10,000-20,000 such objects alive at once (rows, entries, cells), so at 700 it ran a young
collection every few hundred of them and walked the same live rows again and again, ~1.5 ms of the grid
page and ~2.5 ms of its API answer (issue 10, seventh pass). Request garbage is freed by reference counting
as before; what has cycles is collected after 50,000 allocations instead of 700.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000


def freeze_startup_objects() -> int:
    """Load everything a request would load lazily (the URL configuration imports every view, API route and
    their modules), collect once, then freeze what is left, and raise the youngest generation's threshold
    (``GEN0_THRESHOLD``; the older generations' stay Python's). Returns the number of objects frozen."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the URL configuration and every view module
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *gc.get_threshold()[1:])
    return gc.get_freeze_count()
