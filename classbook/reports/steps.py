"""The steps of a report built in the background, so its progress bar moves (issue 11, ``reports/runs.py``).

A school's export built as a run calls the export's own view (one definition of the file); the view and the
read models it uses mark where they are with :func:`advance` — after the filters, after each of the report's
queries, after the table and charts, after the file — and the run counts them (``done`` of ``total``). Outside
a run (a page, an export built at once, the API) :func:`advance` does nothing. No query of its own: the run
saves its progress with one ``UPDATE`` per step, never per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class _Tracker:
    report: Callable[[int, int], None]
    total: int
    done: int = 0


_current: ContextVar[_Tracker | None] = ContextVar("report_steps", default=None)


def advance() -> None:
    """One step of the report being built is over (nothing outside a background run)."""
    tracker = _current.get()
    if tracker is None:
        return
    tracker.done = min(tracker.done + 1, tracker.total)
    tracker.report(tracker.done, tracker.total)


@contextmanager
def tracking(report: Callable[[int, int], None], total: int) -> Iterator[None]:
    """Count the steps of the ``with`` block out of ``total``, reporting each to ``report(done, total)``."""
    token = _current.set(_Tracker(report, total))
    report(0, total)
    try:
        yield
    finally:
        _current.reset(token)
