"""Render the grid's body and repeated form parts in Python.

4,000 cells (40 students × 100 lessons) through template nodes cost tens of milliseconds; a join of
escaped strings costs a few. Everything interpolated below is escaped.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from classbook.journal.models import LessonType
from classbook.journal.rules import StudentNotes

register = template.Library()


@register.simple_tag
def grid_rows(grid: Any) -> SafeString:
    """The ``<tr>`` of every student: name, lesson cells ``<td data-l data-s data-v>``, period grades, stats.

    Every cell carries its lesson, student and version so the script saves it without a lookup; the
    script listens once on the table (event delegation), never per cell.
    """
    late_title = escape(_("Entered after the deadline"))
    left_text = _("left %(date)s")
    required = grid.required
    # Period columns the teacher types into; a corrected grade is only given as a recorded correction.
    # A thematic cell also carries its theme's title: the first grade of a new column stores it.
    period_cols = [
        (
            f' data-k="{c.kind}" data-o="{c.ordinal}"' + (f' data-t="{escape(c.theme)}"' if c.theme else "")
            if grid.period_editable and c.kind != "corrected"
            else ""
        )
        for c in grid.period_columns
    ]
    locked_title = escape(_("Locked: a change needs a recorded correction"))
    period_kinds = [c.kind for c in grid.period_columns]
    text_cache: dict[str, str] = {}

    def esc(value: str) -> str:
        # Cell values repeat (a dozen marks and codes); escape each once.
        found = text_cache.get(value)
        if found is None:
            found = text_cache[value] = escape(value)
        return found

    # Per column, once: lesson id, work type, date, base state and the HTML of an empty cell around
    # the student id. A work column's cell carries its work type (data-w) and holds one mark.
    columns = []
    for col in grid.columns:
        lesson = col.lesson
        base = "cancelled" if lesson.cancelled else "future" if lesson.is_future else ""
        blank_cls = f"c {base} ro" if base else "c" if col.editable else "c ro"
        w = col.work_type_id
        if w is not None:
            blank_cls += " wk"
        w_attr = f' data-w="{w}"' if w is not None else ""
        columns.append(
            (
                lesson.id,
                w,
                lesson.date,
                base,
                col.editable,
                f'<td class="{blank_cls}" data-l="{lesson.id}"{w_attr} data-s="',
            )
        )
    blank_tail = '" data-v="0.0"></td>'
    blank_work_tail = '" data-v="0"></td>'
    none: dict[Any, Any] = {}

    out: list[str] = []
    add = out.append
    for row in grid.rows:
        sid = row.id
        if row.left_on:
            left = escape(left_text % {"date": row.left_on.strftime("%d.%m.%Y")})
            name = f"{escape(row.name)} <small>{left}</small>"
            add(f'<tr data-s="{sid}" class="left"><th scope="row" class="name">{name}</th>')
        else:
            add(f'<tr data-s="{sid}"><th scope="row" class="name">{escape(row.name)}</th>')
        marks, attendance, extras_of = row.marks, row.attendance, row.extras or none
        whole, start, end = row.whole_period, row.start, row.end
        blank_row = f"{sid}{blank_tail}"
        work = row.work or none
        # The hot loop (students × lessons): int-keyed dict lookups; an empty cell is one join.
        for lesson_id, w, date, base, can_edit, blank_head in columns:
            if w is not None:
                outside = not whole and ((start is not None and date < start) or (end is not None and date > end))
                wm = work.get((lesson_id, w))
                if wm is None and not outside:
                    add(f"{blank_head}{sid}{blank_work_tail}")
                    continue
                wm = wm or ("", 0, False)
                state = "na" if outside else base
                cls = "c wk"
                if state:
                    cls += " " + state
                if state or not can_edit:
                    cls += " ro"
                late_attr = ""
                if wm[2]:
                    cls += " late"
                    late_attr = f' title="{late_title}"'
                add(
                    f'<td class="{cls}" data-l="{lesson_id}" data-w="{w}" data-s="{sid}" data-v="{wm[1]}"{late_attr}>'
                    f"{esc(wm[0])}</td>"
                )
                continue
            m = marks.get(lesson_id)
            a = attendance.get(lesson_id)
            extras = extras_of.get(lesson_id)
            outside = not whole and ((start is not None and date < start) or (end is not None and date > end))
            if m is None and a is None and extras is None and not outside:
                add(blank_head + blank_row)
                continue
            m = m or ("", 0, False)
            a = a or ("", 0, False)
            state = "na" if outside else base
            cls = "c"
            if state:
                cls += " " + state
            if state or not can_edit:
                cls += " ro"
            title = ""
            if m[2] or a[2]:
                cls += " late"
                title = late_title
            if extras:
                cls += " more"
                joined = escape("; ".join(extras))
                title = f"{title}; {joined}" if title else joined
            title_attr = f' title="{title}"' if title else ""
            display = f"{a[0]} {m[0]}" if a[0] and m[0] else a[0] or m[0]
            add(
                f'<td class="{cls}" data-l="{lesson_id}" data-s="{sid}" data-v="{m[1]}.{a[1]}"{title_attr}>'
                f"{esc(display)}</td>"
            )
        notes = grid.notes.get(sid)
        for (value, locked, version), attrs, kind in zip(row.period_values, period_cols, period_kinds, strict=True):
            lock = f' locked" title="{locked_title}' if locked else ""
            if notes is not None and kind in ("period", "annual"):  # the school's rules on this grade (issue 10)
                lock = grade_notes_attrs(notes, kind, value, locked_title if locked else "")
            if attrs:
                add(f'<td class="c pv{lock}"{attrs} data-s="{sid}" data-v="{version}">{esc(value)}</td>')
            else:
                add(f'<td class="c ro pv{lock}">{esc(value)}</td>')
        low = " low" if row.count < required else ""
        add(f'<td class="c ro acc{low}">{row.count}/{required}</td><td class="c ro avg">{esc(row.average)}</td></tr>')
    return mark_safe("".join(out))  # noqa: S308 - every interpolated value is escaped or an integer


def grade_notes_attrs(notes: StudentNotes, kind: str, value: str, locked_title: str) -> str:
    """The end of a period or annual cell's class attribute and its title and note (``rules.StudentNotes``).

    A period grade given with too few marks is flagged (``warn``); an annual cell's title names the
    period grades it rests on (corrected ones marked) and the rule's value, which also shows as a small
    note (``data-note``, drawn by CSS so the cell's text stays the grade) while the cell is empty or
    differs from it. Returned after ``class="c pv``: ``…" title="…" data-note="…``.
    """
    titles = [locked_title] if locked_title else []
    cls = " locked" if locked_title else ""
    note = ""
    if kind == "period":
        if value and notes.period_warning is not None:
            cls += " warn"
            titles.append(escape(notes.period_warning.message))
    elif notes.annual is not None:
        titles.append(escape(notes.annual.title()))
        warnings = notes.annual_warnings
        if warnings:
            cls += " warn"
            titles.extend(escape(w.message) for w in warnings)
        if not value or any(w.code == "annual_disagrees" for w in warnings):
            note = escape(notes.annual_note())
    # The caller closes the last attribute's quote (``class="c pv{this}"``).
    if titles:
        cls += f'" title="{" ".join(titles)}'
    if note:
        cls += f'" data-note="{note}'
    return cls


@register.simple_tag
def grid_lesson_heads(grid: Any, all_lessons_url: str) -> SafeString:
    """The dated column heads; a date links to its lesson in the lesson part (R2.1)."""
    cancelled = escape(_("cancelled"))
    out = []
    for col in grid.columns:
        lesson = col.lesson
        if col.work_type_id is not None:
            title: str = escape(f"{lesson.day_label} — {col.name}")
            out.append(
                f'<th scope="col" class="ld wk{" future" if lesson.is_future else ""}" data-l="{lesson.id}" '
                f'data-w="{col.work_type_id}" title="{title}">'
                f"{lesson.date_short}<small>{escape(col.short)}</small></th>"
            )
            continue
        cls = "ld"
        if lesson.is_future:
            cls += " future"
        if lesson.is_today:
            cls += " today"
        title = escape(f"{lesson.day_label} — {lesson.topic}" if lesson.topic else lesson.day_label)
        if lesson.cancelled:
            cls += " cancelled"
            title = f"{title} ({cancelled})"
            kind = f"<small>{cancelled}</small>"
        elif lesson.lesson_type != "regular":
            kind = f"<small>{escape(lesson.lesson_type_label[:3])}.</small>"
        else:
            kind = ""
        href = f"#lesson-{lesson.id}" if lesson.in_part else f"{escape(all_lessons_url)}#lesson-{lesson.id}"
        out.append(
            f'<th scope="col" class="{cls}" data-lesson="{lesson.id}" title="{title}">'
            f'<a href="{href}" tabindex="-1">{lesson.date_short}</a>{kind}</th>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped


@lru_cache(maxsize=64)
def _type_options(language: str | None, selected: str) -> str:
    return "".join(
        f'<option value="{value}"{" selected" if value == selected else ""}>{escape(str(label))}</option>'
        for value, label in LessonType.choices
    )


@register.simple_tag
def lesson_type_options(selected: str) -> SafeString:
    """The ``<option>`` list of lesson types, built once per language and selection."""
    return mark_safe(_type_options(get_language(), selected))  # noqa: S308 - labels are escaped


@register.simple_tag
def lesson_options(lessons: list[Any]) -> SafeString:
    """``<option>`` per lesson, newest first (the "Add a mark column" form: up to a hundred lessons)."""
    return mark_safe(  # noqa: S308 - the label is escaped, the id an integer
        "".join(f'<option value="{lesson.id}">{escape(lesson.day_label)}</option>' for lesson in reversed(lessons))
    )
