"""The rendered diary week, cached per (student, class, week, day, language), never stale (issue #5).

What is cached is the *data part* of the week page (the week's navigation and its six days, as HTML):
the same for every reader of the student's diary. Who may read it is decided on every request before
the cache is read (``views.week``: the students the user may open, one query), and the key names the
student, so a parent can only ever be served a fragment of a child the rule just let them open.
The head of the page (the user's children, the user's name in the top bar) is rendered per request.

Invalidation is by **generations**: the key holds four counters — the whole installation's, the
school's, the class's and the student's — and a change bumps the narrowest counter that covers it, so
the old entries are never read again (they expire on their own):

- a mark, an absence or its reason, a period grade or a correction (``journal_changed`` with a
  student): the student's counter;
- a lesson, its topic or homework, a register (``journal_changed`` without a student): the counter of
  the class of the lesson's teaching assignment, and the school's when the class cannot be told;
- a substitution, cancellation, merge or move (``timetable.events.lesson_changed``): the school's
  (a merge or a move touches other classes' weeks);
- everything else that shows in the week — timetable entries and their generation into the journal,
  bells, days off, enrolments, subgroups, homework files, work types, names — is audited
  (``core.AuditEntry``): any audit entry of a school bumps the school's counter, one without a school
  the installation's (denylist of audit actions that show nothing in a diary: logins, sessions, tokens,
  messaging); Django admin edits bump the installation's counter.

Counters are bumped after the transaction commits (the signals are sent then; the audit hook waits
with ``on_commit``), so a request cannot cache the old state under the new counter. Entries also
expire after ``DIARY_CACHE_SECONDS`` (default 10 minutes), a bound on anything written past the
services (a database console).

While Redis is unreachable every read is a miss and the week is rendered from the database; a bump that
could not be written is remembered by the cache backend, which deletes that counter as soon as Redis answers
again (before anything else is read), so a Redis that comes back with old counters and old weeks cannot serve
a week older than a change made during the outage (``core/cache.py``, tests/test_outages_redis.py).

The cache is Django's ``default`` cache. With ``REDIS_URL`` (production) it is shared by every worker
and every counter bump is seen by all of them at once. Without it, the cache is per process
(``LocMemCache``) and a bump in one worker would not reach the others: the diary cache is therefore off
unless ``REDIS_URL`` is set or ``DIARY_CACHE=1`` is given for a single-process server (tests, runserver).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

_PREFIX = "cb:diary:"
_GEN_ALL = _PREFIX + "g:all"


def enabled() -> bool:
    return bool(getattr(settings, "DIARY_CACHE", False))


def _gen_keys(school_id: int, class_id: int | None, student_id: int) -> list[str]:
    return [_GEN_ALL, f"{_PREFIX}g:s{school_id}", f"{_PREFIX}g:c{class_id or 0}", f"{_PREFIX}g:p{student_id}"]


def week_key(
    *, school_id: int, slug: str, student_id: int, class_id: int | None, start: dt.date, today: dt.date, lang: str
) -> tuple[str, list[str]]:
    """The fragment's key and the generation keys it was rendered under (stored with it, compared on read)."""
    stem = f"{_PREFIX}w:{school_id}:{slug}:{student_id}:{class_id or 0}:{start.isoformat()}:{today.isoformat()}:{lang}"
    return stem, _gen_keys(school_id, class_id, student_id)


def get_week(stem: str, gen_keys: list[str]) -> tuple[str | None, tuple[int, ...]]:
    """The cached fragment if it was stored under the current generations (else None), and those
    generations (to store a fresh one with) — one cache round trip."""
    found = cache.get_many([*gen_keys, stem])
    gens = []
    for k in gen_keys:
        if k not in found:  # never bumped, or evicted: start it afresh, never at a value used before
            found[k] = _start(k)
        gens.append(int(found[k]))
    entry = found.get(stem)
    if entry is not None and tuple(entry[0]) == tuple(gens):
        return entry[1], tuple(gens)
    return None, tuple(gens)


def set_week(stem: str, gens: tuple[int, ...], html: str) -> None:
    cache.set(stem, (gens, html), getattr(settings, "DIARY_CACHE_SECONDS", 600))


def _start(key: str) -> int:
    """Create a missing counter at the clock in microseconds — larger than any value it had before it was
    evicted (counters grow by one per change) — or read the one another process just created."""
    value = time.time_ns() // 1000
    if cache.add(key, value, None):
        return value
    # Not added: another process just created it (read it), or Redis is unreachable (``core/cache.py``:
    # the add and the read both answer "nothing") — then this value, stored nowhere, renders a week no
    # reader will match, and the key is deleted when Redis is back: the next reader starts it afresh.
    return int(cache.get(key, 0)) or value


def _bump(keys: Iterable[str]) -> None:
    for key in set(keys):
        try:
            cache.incr(key)  # atomic in Redis
        except ValueError:  # never read yet (or evicted): a fresh start is a new generation too
            _start(key)


def bump_all() -> None:
    _bump([_GEN_ALL])


def bump_schools(ids: Iterable[int]) -> None:
    _bump(f"{_PREFIX}g:s{i}" for i in ids)


def bump_classes(ids: Iterable[int]) -> None:
    _bump(f"{_PREFIX}g:c{i}" for i in ids)


def bump_students(ids: Iterable[int]) -> None:
    _bump(f"{_PREFIX}g:p{i}" for i in ids)
