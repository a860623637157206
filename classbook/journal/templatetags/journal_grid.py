"""Render the grid's read model (``journal.grid``) and the page's repeated form parts in Python.

4,000 cells (40 students × 100 lessons) through template nodes cost tens of milliseconds; a join of
escaped strings costs a few. Everything interpolated below is escaped.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape as html_escape
from typing import Any

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from classbook.journal.grid import EMPTY_CELL, AttendanceEntry, Grid, GridLesson, MarkEntry, PeriodCell, as_cell
from classbook.journal.models import LessonType

register = template.Library()

# Positions in the entries the hot loop reads (``MarkEntry`` and ``AttendanceEntry``): a tuple's item by index
# is cheaper than by name, thousands of times a page.
_M_VALUE, _M_COMMENT, _M_VERSION, _M_LATE = (
    MarkEntry._fields.index(f) for f in ("value", "comment", "version", "late")
)
_A_VALUE, _A_REASON, _A_VERSION, _A_LATE, _A_EXCUSED = (
    AttendanceEntry._fields.index(f) for f in ("value", "reason", "version", "late", "excused")
)


def escape(text: Any) -> str:
    """``django.utils.html.escape`` without its lazy-text wrapper (the same text: ``html.escape(str(text))``),
    a few hundred times a page; the result goes into the joined HTML, marked safe once."""
    return html_escape(str(text))


@register.simple_tag
def grid_rows(grid: Grid) -> SafeString:
    """The ``<tr>`` of every student of the read model (``journal.grid``): name, dated cells
    ``<td data-l data-s data-v>``, period cells, marks count and average. Nothing is decided here: values,
    versions and states come from the model's cells; this only writes them as HTML.

    Every cell carries its lesson, student and version so the script saves it without a lookup; the
    script listens once on the table (event delegation), never per cell. 4,000 cells through template
    nodes cost tens of milliseconds; a join of escaped strings costs a few. Everything interpolated is
    escaped or an integer.
    """
    late_text = _("Entered after the deadline")
    closed_text = _("The period grade is set: this cell is closed")
    left_text = _("left %(date)s")
    locked_title = escape(_("Locked: a change needs a recorded correction"))
    required = grid.required
    # Period columns the teacher types into carry kind and ordinal; a thematic cell also its theme's title
    # (the first grade of a new column stores it).
    period_cols = [
        f' data-k="{c.kind}" data-o="{c.ordinal}"' + (f' data-t="{escape(c.theme)}"' if c.theme else "")
        if c.editable
        else ""
        for c in grid.period_columns
    ]
    text_cache: dict[str, str] = {}

    def esc(value: str) -> str:
        # Cell values repeat (a dozen marks and codes); escape each once.
        found = text_cache.get(value)
        if found is None:
            found = text_cache[value] = escape(value)
        return found

    cached = text_cache.get  # the hot loop's first try, without a call of ``esc``

    # Per column, once: the lesson, its work type, the base state and the HTML of an empty cell up to the
    # student id. A work column's cell carries its work type (data-w) and holds one mark.
    columns = []
    for col in grid.columns:
        lesson = col.lesson
        base = lesson.base_state
        blank_cls = f"c {base} ro" if base else "c" if col.editable else "c ro"
        w = col.work_type_id
        if w is not None:
            blank_cls += " wk"
        w_attr = f' data-w="{w}"' if w is not None else ""
        blank = f'<td class="{blank_cls}" data-l="{lesson.id}"{w_attr} data-s="'
        suffix = _state_classes(base, col.editable)
        # The common filled cells of a row whose states are the columns' (``GridRow.plain``): a mark alone or an
        # attendance entry alone, neither late nor commented, nothing else at the lesson; their HTML up to the
        # student id, as the general path below writes it.
        head = f'<td class="c{suffix}" data-l="{lesson.id}" data-s="'
        exc_head = f'<td class="c exc{suffix}" data-l="{lesson.id}" data-s="'
        columns.append((lesson, lesson.id, w, base, col.editable, suffix, blank, head, exc_head))
    blank_tail = '" data-v="0.0"></td>'
    blank_work_tail = '" data-v="0"></td>'

    # The plain rows' loop reads only these of a column (no unpacking of the rest per cell).
    fast = [(column, column[1], column[2], column[6], column[7], column[8]) for column in columns]

    def general_cell(col: tuple[Any, ...], sid: int, cells: Any, work: Any, state: str, suffix: str) -> str:
        """Any cell of any row as its state, its stored cell and its lesson's other marks say."""
        _lesson, lid, w, base, _can_edit, _suffix, blank, _head, _exc_head = col
        version: int | str
        if w is not None:
            mark = work.get((lid, w))
            if mark is None and state == base:
                return f"{blank}{sid}{blank_work_tail}"
            value, version, late = (mark.value, mark.version, mark.late) if mark else ("", 0, False)
            comment, extras, attrs, cls = "", None, f' data-w="{w}"', "c wk"
        else:
            stored = cells.get(lid)
            if stored is None:
                if state == base:
                    return f"{blank}{sid}{blank_tail}"
                cell = EMPTY_CELL
            else:
                cell = as_cell(stored)
            value, version, late, comment, excused = cell.shown()
            extras, attrs = cell.extras, ""
            cls = "c more" if extras else "c"
            if excused:
                cls += " exc"
        cls += suffix
        title = ""
        if late or comment or extras or state == "closed":
            titles = [closed_text] if state == "closed" else []
            if late:
                cls += " late"
                titles.append(late_text)
            if comment:
                titles.append(comment)
            if extras:
                titles.append("; ".join(extras))
            title = f' title="{escape("; ".join(titles))}"'
        return f'<td class="{cls}" data-l="{lid}"{attrs} data-s="{sid}" data-v="{version}"{title}>{esc(value)}</td>'

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
        cells, work = row.lesson_cells, row.work_cells
        if row.plain:
            blank_row = f"{sid}{blank_tail}"
            # The hot loop (students × columns): int-keyed lookups; an empty cell is one join. A mark alone or an
            # attendance entry alone is stored as the entry itself (``grid.StoredCell``), read by position
            # (``_M_*``, ``_A_*``); a lone entry neither late nor commented is one f-string from the column's
            # prefix. Anything else (work columns, comments, several marks) takes the general path.
            get = cells.get
            for column, lid, w, blank, head, exc_head in fast:
                if w is None:
                    stored: Any = get(lid)
                    if stored is None:
                        add(blank + blank_row)
                        continue
                    kind = type(stored)
                    if kind is MarkEntry:
                        if not stored[_M_LATE] and not stored[_M_COMMENT]:
                            value = stored[_M_VALUE]
                            shown = cached(value) or esc(value)
                            add(f'{head}{sid}" data-v="{stored[_M_VERSION]}.0">{shown}</td>')
                            continue
                    elif kind is AttendanceEntry and not stored[_A_LATE] and not stored[_A_REASON]:
                        value = stored[_A_VALUE]
                        shown = cached(value) or esc(value)
                        h = exc_head if stored[_A_EXCUSED] else head
                        add(f'{h}{sid}" data-v="0.{stored[_A_VERSION]}">{shown}</td>')
                        continue
                add(general_cell(column, sid, cells, work, column[3], column[5]))
        else:
            for column in columns:
                state = row.state(column[0])
                add(general_cell(column, sid, cells, work, state, _state_classes(state, column[4])))
        for pcell, attrs in zip(row.period_cells, period_cols, strict=True):
            cls = "c pv" if attrs else "c ro pv"
            if pcell.locked:
                cls += " locked"
            if pcell.warnings:
                cls += " warn"
            title = _period_title(pcell, locked_title)
            title_attr = f' title="{title}"' if title else ""
            if pcell.note:
                title_attr += f' data-note="{escape(pcell.note)}"'
            if attrs:
                shown = esc(pcell.value)
                add(f'<td class="{cls}"{title_attr}{attrs} data-s="{sid}" data-v="{pcell.version}">{shown}</td>')
            else:
                add(f'<td class="{cls}"{title_attr}>{esc(pcell.value)}</td>')
        low = " low" if row.count < required else ""
        add(f'<td class="c ro acc{low}">{row.count}/{required}</td><td class="c ro avg">{esc(row.average)}</td></tr>')
    return mark_safe("".join(out))  # noqa: S308 - every interpolated value is escaped or an integer


def _state_classes(state: str, editable: bool) -> str:
    """The classes a cell's state adds: the state itself, and "ro" when it cannot be typed into."""
    return (f" {state} ro" if state else "") if state or editable else " ro"


def _period_title(cell: PeriodCell, locked_title: str) -> str:
    """A period cell's tooltip, escaped: locked, what the annual grade rests on and the rule's value, and
    the school's warnings on the grade (``grid.PeriodCell``)."""
    parts = [locked_title] if cell.locked else []
    if cell.explain:
        parts.append(escape(cell.explain))
    parts.extend(escape(w.message) for w in cell.warnings)
    return " ".join(parts)


@register.simple_tag
def grid_lesson_heads(grid: Grid, all_lessons_url: str) -> SafeString:
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


@register.simple_tag(takes_context=True)
def lesson_articles(context: Any, grid: Grid, lesson_url_base: str) -> SafeString:
    """The lesson part: per lesson its form (topic, type, homework, due, register) for those the user
    writes, else the read-only fields, and the homework files (R2.1, R2.3, R2.8).

    Up to a hundred lessons (``?lessons=all``); each was ~40 template nodes.
    """
    t: dict[str, str] = {
        key: escape(text)
        for key, text in {
            "no": pgettext("bell slot", "No."),
            "no_help": _("Lesson number in the day"),
            "running": _("No. in order"),
            "topic": _("Topic"),
            "type": _("Lesson type"),
            "hw": _("Homework"),
            "due": _("Due"),
            "due_l": _("due"),
            "sub": _("substitution"),
            "save": _("Save"),
            "taken": _("register taken"),
            "take": _("Take the register"),
            "take_help": _("Records that attendance was checked: students without an absence mark were present"),
            "plan": _("plan"),
            "files": _("Homework files"),
        }.items()
    }
    csrf = escape(str(context.get("csrf_token", "")))
    base = escape(lesson_url_base)
    language = get_language()
    out = []
    for lesson in grid.lesson_part:
        lid = lesson.id
        today = " today" if lesson.is_today else ""
        teacher = escape(lesson.teacher) + (f' <span class="badge">{t["sub"]}</span>' if lesson.is_substitute else "")
        out.append(
            f'<article id="lesson-{lid}" class="lesson{today}" tabindex="-1" data-lesson="{lid}">'
            + (
                _lesson_form(lesson, t, csrf, base, teacher, language)
                if lesson.editable
                else _lesson_read(lesson, t, teacher)
            )
            + f'<details class="files"><summary hx-get="{base}{lid}/files/" hx-trigger="click once" '
            f'hx-target="next .files-slot">{t["files"]}</summary><div class="files-slot"></div></details></article>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated text is escaped, ids are integers


def _lesson_form(lesson: GridLesson, t: dict[str, str], csrf: str, base: str, teacher: str, language: str) -> str:
    lid = lesson.id
    if lesson.register_taken:
        register = f'<span class="badge register">{t["taken"]}</span>'
    elif not lesson.is_future:
        register = (
            f'<button class="small take-register" formaction="{base}{lid}/register/" '
            f'title="{t["take_help"]}">{t["take"]}</button>'
        )
    else:
        register = ""
    # The plan's topic is filled in, to keep or to change (issue 14); saved with the lesson's next save.
    topic = lesson.topic or lesson.planned_topic
    plan = ' class="from-plan"' if lesson.planned_topic and not lesson.topic else ""
    number = "" if lesson.number is None else lesson.number
    due = lesson.due_iso or lesson.default_due_iso
    running = (
        f'<span class="running" title="{t["running"]}">{t["running"]} {lesson.running}</span>\n'
        if lesson.running
        else ""
    )
    options = _type_options(language, lesson.lesson_type)
    return (
        f'<form method="post" action="{base}{lid}/" class="lesson-form" data-lesson="{lid}">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        f'<input type="hidden" name="version" value="{lesson.version}">'
        f'<div class="lhead"><strong>{escape(lesson.day_label)}</strong>\n'
        f'{running}<label class="inline-label" title="{t["no_help"]}">{t["no"]} <input name="number" value="{number}" '
        f'inputmode="numeric" size="2" class="num" aria-label="{t["no_help"]}"></label>\n'
        f'<span class="muted">{teacher}</span>\n{register}\n'
        '<span class="lstatus" role="status" aria-live="polite"></span></div>\n<div class="lfields">'
        f'<label>{t["topic"]} <input id="topic-{lid}" name="topic" value="{escape(topic)}" '
        f'maxlength="500"{plan}></label>\n'
        f'<label>{t["type"]} <select name="lesson_type">{options}</select></label>\n'
        f'<label>{t["hw"]} <textarea id="homework-{lid}" name="homework" rows="1" maxlength="4000">'
        f"{escape(lesson.homework)}</textarea></label>\n"
        f'<label>{t["due"]} <input type="date" name="homework_due" value="{due}"></label>\n'
        f'<noscript><button class="primary">{t["save"]}</button></noscript></div></form>'
    )


def _lesson_read(lesson: GridLesson, t: dict[str, str], teacher: str) -> str:
    number = f" · {t['running']} {lesson.running}" if lesson.running else ""
    number += f" · {t['no']} {lesson.number}" if lesson.number else ""
    topic: str
    if lesson.topic:
        topic = escape(lesson.topic)
    elif lesson.planned_topic:
        topic = f'<span class="plan-suggested">{t["plan"]}: {escape(lesson.planned_topic)}</span>'
    else:
        topic = "—"
    homework: str = linebreaksbr(lesson.homework or "—", autoescape=True)
    if lesson.homework_due:
        homework += f' <span class="muted">({t["due_l"]} {lesson.homework_due:%d.%m.%Y})</span>'
    return (
        f'<div class="lhead"><strong>{escape(lesson.day_label)}</strong>{number} <span class="muted">{teacher}</span>'
        f'</div><dl class="lread"><dt>{t["topic"]}</dt><dd>{topic}</dd>'
        f"<dt>{t['type']}</dt><dd>{escape(lesson.lesson_type_label)}</dd>"
        f"<dt>{t['hw']}</dt><dd>{homework}</dd></dl>"
    )


@lru_cache(maxsize=64)
def _type_options(language: str | None, selected: str) -> str:
    return "".join(
        f'<option value="{value}"{" selected" if value == selected else ""}>{escape(str(label))}</option>'
        for value, label in LessonType.choices
    )


@register.simple_tag
def lesson_options(lessons: list[Any]) -> SafeString:
    """``<option>`` per lesson, newest first (the "Add a mark column" form: up to a hundred lessons)."""
    return mark_safe(  # noqa: S308 - the label is escaped, the id an integer
        "".join(f'<option value="{lesson.id}">{escape(lesson.day_label)}</option>' for lesson in reversed(lessons))
    )
