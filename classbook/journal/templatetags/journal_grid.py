"""Render the grid's read model (``journal.grid``) and the page's repeated form parts in Python.

4,000 cells (40 students × 100 lessons) through template nodes cost tens of milliseconds; a join of
escaped strings costs a few. Everything interpolated below is escaped. ``{% grid_page %}`` is the one tag; its
parts (the rows, the column heads, the lesson part) return plain text it joins once, marked safe once: every
``SafeString`` of a part would copy its text again (the rows are ~300 KB).
"""

from __future__ import annotations

import json
from functools import lru_cache
from html import escape as html_escape
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import linebreaksbr
from django.template.loader import get_template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from classbook.access.appeals import may_open_class_absences
from classbook.access.printing import may_print_journal
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


def grid_rows(grid: Grid) -> str:
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
    # A plain text, not a SafeString: ``grid_page`` joins it into the page (marking it safe would copy ~300 KB).
    return "".join(out)


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


def grid_lesson_heads(grid: Grid, all_lessons_url: str) -> str:
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
    return "".join(out)


def lesson_articles(context: Any, grid: Grid, lesson_url_base: str) -> str:
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
    return "\n".join(out)


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


def lesson_options(lessons: list[Any]) -> str:
    """``<option>`` per lesson, newest first (the "Add a mark column" form: up to a hundred lessons)."""
    return "".join(f'<option value="{lesson.id}">{escape(lesson.day_label)}</option>' for lesson in reversed(lessons))


def _url(name: str, **kwargs: Any) -> str:
    """``{% url name key=value %}``: the address, escaped."""
    return escape(reverse(name, kwargs=kwargs))


def _number(value: Any) -> str:
    """``{{ value }}`` of a number: as the template writes it (``localize``)."""
    return escape(localize(value))


def _json_script(value: Any, element_id: str) -> str:
    """``{{ value|json_script:element_id }}``: the same text, the JSON's ``<``, ``>`` and ``&`` replaced with three
    ``str.replace`` instead of Django's ``str.translate`` with a mapping (a Python lookup per character: ~0.4 ms for
    the page's ~6.5 KB of configuration, its texts written as ``\\uXXXX``)."""
    text = json.dumps(value, cls=DjangoJSONEncoder)
    text = text.replace(">", "\\u003E").replace("<", "\\u003C").replace("&", "\\u0026")
    return f'<script id="{escape(element_id)}" type="application/json">{text}</script>'


def _sub_template(context: Any, name: str) -> str:
    """A part of the page only the administration sees, still a template (rendered in the page's context)."""
    return get_template(name).template.render(context)  # type: ignore[attr-defined,no-any-return]


@register.simple_tag(takes_context=True)
def grid_page(context: Any) -> SafeString:
    """The grid page's content (``journal/grid.html``'s ``content`` block) written as one string: its ~170 template
    nodes (translations, addresses, conditions, loops) cost the page ~1 ms together, more than the rest of its
    template. The text is the template's it replaced, byte for byte (issue 10, sixth pass: compared on the bench's
    data in uk, ru and en, and on every grid page ``tests/journal`` renders). The parts only the administration sees
    (open remarks, the remark and correction forms) stay templates, rendered only when shown.

    Everything interpolated is escaped except the project's own messages, as in a template: ``{% translate %}``
    of a literal and the message of ``{% blocktranslate %}`` are written as they are.
    """
    grid: Grid = context["grid"]
    assignment = context["assignment"]
    ctx = context["ctx"]
    user = context["user"]
    school = ctx.school.slug
    out = [
        f'\n<div class="journal-page">\n<p class="no-print"><a href="{_url("journal:index", school=school)}">'
        f"← {_('All journals')}</a>\n  "
    ]
    add = out.append
    if assignment.teacher_id == user.pk:
        add(f' · <a href="{_url("appeals:flags", school=school)}">{_("Flagged marks")}</a>')
    add("\n  ")
    class_id = assignment.school_class_id
    if class_id is not None and may_open_class_absences(ctx, class_id):  # the template's ``access_tags`` filter
        add(
            f' · <a href="{_url("appeals:absences", school=school)}?class={_number(class_id)}">'
            f"{_('Absences of the class')}</a>"
        )
    add("\n  ")
    if may_print_journal(ctx, assignment):
        add(f' · <a href="{_url("printing:class", school=school, class_id=class_id)}">{_("Print")}</a>')
    group = assignment.subgroup if assignment.subgroup else assignment.school_class.name
    period = grid.period
    if grid.periods:
        options = "".join(
            f'<option value="{_number(p.id)}"{" selected" if p.id == period.id else ""}>{escape(p.indent)}'
            f"{escape(p.name)} ({p.start:%d.%m}–{p.end:%d.%m})</option>"
            for p in grid.periods
        )
    else:
        options = f'<option value="">{escape(period.name)}</option>'
    # Messages with a number: ``{% blocktranslate count n=… %}`` (the message is not escaped, the number is).
    n = len(grid.lessons)
    lessons_count = ngettext("%(n)s lesson", "%(n)s lessons", n) % {"n": _number(n)}
    n = len(grid.rows)
    students_count = ngettext("%(n)s student", "%(n)s students", n) % {"n": _number(n)}
    read_only = (
        f'<span class="badge">{_("Read only")}</span>' if not grid.can_edit_any and not grid.can_add_lesson else ""
    )
    add(
        f'</p>\n<h1 class="jtitle">{escape(assignment.subject.name)} · {escape(group)}\n'
        f'  <small class="muted">{escape(assignment.teacher.full_name)}</small></h1>\n\n'
        '<form method="get" class="toolbar period-switch">\n'
        f'  <label for="period-select">{_("Study period")}</label>\n'
        '  <select id="period-select" name="period" data-autosubmit>\n'
        f"    {options}\n  </select>\n"
        f"  <noscript><button>{_('Show')}</button></noscript>\n"
        f'  <span class="muted">{lessons_count} · {students_count}</span>\n'
        f"  {read_only}\n</form>\n\n"
    )
    if context.get("remarks"):
        add(_sub_template(context, "journal/_grid_remarks.html"))
    add("\n\n")
    offline_as_of = context.get("offline_as_of")
    if offline_as_of:
        time = escape(date_filter(template_localtime(offline_as_of), "H:i"))
        add(
            '<p class="offline-banner" role="status" data-offline-banner hidden>'
            f"{_('Offline, as of %(time)s') % {'time': time}}</p>\n"
            '<section id="offline-panel" class="offline-panel no-print" aria-live="polite" hidden>\n'
            '  <p id="offline-state"></p>\n  <div id="offline-conflicts"></div>\n  <div id="offline-refused"></div>\n'
            '  <button type="button" id="offline-export" class="small" hidden>'
            f"{_('Export the list')}</button>\n"
            "</section>"
        )
    add(
        '\n<div class="grid-bar no-print">\n'
        '  <span id="grid-status" class="grid-status" role="status" aria-live="polite"></span>\n'
        '  <button type="button" id="history-btn" class="small" disabled '
        f'title="{_("History of the selected cell (H)")}">{_("History")}</button>\n</div>\n\n'
    )
    if grid.rows:
        region = _("Marks and attendance")
        period_heads = "".join(f'<th scope="col" class="pc">{escape(c.title)}</th>' for c in grid.period_columns)
        required = _("Marks in the period; at least %(n)s are required") % {"n": _number(grid.required)}
        add(
            f'\n<div class="grid-wrap" tabindex="0" role="region" aria-label="{region}" aria-describedby="grid-help">\n'
            f'<table class="jgrid" role="grid" aria-label="{region}" '
            f'data-editable="{"1" if grid.can_edit_any else "0"}">\n'
            "  <thead>\n    <tr>\n"
            f'      <th class="name" scope="col">{_("Student")}</th>\n'
            f"      {grid_lesson_heads(grid, context['all_lessons_url'])}\n"
            f"      {period_heads}\n"
            f'      <th scope="col" class="acc" title="{required}">{_("Marks")}</th>\n'
            f'      <th scope="col" class="avg">{_("Average")}</th>\n'
            "    </tr>\n  </thead>\n  <tbody>"
        )
        add(grid_rows(grid))
        add("\n  </tbody>\n</table>\n</div>\n")
    else:
        add(f'\n<p class="muted">{_("There are no students in this class for this period.")}</p>\n')
    add('\n<p id="grid-help" class="muted small no-print">')
    if grid.can_edit_any:
        if grid.period_editable:
            add(f"{_('Period grades are locked once saved; a change needs a recorded correction.')} ")
        add(
            _(
                "Type a mark or an attendance code; Enter saves and moves down, Tab moves right, Esc undoes, "
                "Delete clears, arrows move, F2 edits, H shows the history, T goes to the lesson's topic."
            )
        )
        if grid.attendance_codes:
            codes = ", ".join(f"<b>{escape(c.code)}</b> {escape(c.name.lower())}" for c in grid.attendance_codes)
            add(f" {_('Attendance codes:')} {codes}.")
    else:
        add(_("Arrows move, H shows the history of the selected cell."))
    add("</p>\n\n")
    addable = context.get("addable_lessons")
    if grid.work_type_choices and addable:
        request = context["request"]
        keep_all = (
            '<input type="hidden" name="lessons" value="all">'
            if grid.all_lessons_shown and request.GET.get("lessons", "") == "all"
            else ""
        )
        added = "".join(
            f'<input type="hidden" name="add_lesson" value="{escape(lesson)}">'
            f'<input type="hidden" name="add_wt" value="{escape(wt)}">'
            for lesson, wt in context.get("added_columns") or ()
        )
        work_types = "".join(
            f'<option value="{_number(i)}">{escape(name)}</option>' for i, name in grid.work_type_choices
        )
        period_id = "" if period.id is None else _number(period.id)
        add(
            '\n<form method="get" class="toolbar add-column no-print" id="add-column">\n'
            f'  <input type="hidden" name="period" value="{period_id}">{keep_all}\n'
            f"  {added}\n"
            f'  <label for="add-column-lesson">{_("Add a mark column")}</label>\n'
            f'  <select id="add-column-lesson" name="add_lesson" aria-label="{_("Lesson")}">'
            f"{lesson_options(addable)}</select>\n"
            f'  <select name="add_wt" aria-label="{_("Work type")}">{work_types}</select>\n'
            f'  <button class="small">{_("Add column")}</button>\n'
            '  <span class="muted small">'
            + _(
                "A second mark at a lesson for another kind of work (a control work, a test …); "
                "its weight counts in the average."
            )
            + "</span>\n</form>\n"
        )
    add("\n\n")
    if grid.period_editable and grid.rows:
        add(
            '\n<form method="get" class="toolbar add-theme no-print" id="add-theme">\n'
            f'  <input type="hidden" name="period" value="{_number(period.id)}">\n'
            f'  <label for="add-theme-title">{_("New thematic column")}</label>\n'
            '  <input id="add-theme-title" name="theme" required maxlength="120" '
            f'placeholder="{_("Theme")}">\n'
            f'  <button class="small">{_("Add column")}</button>\n'
            f'  <span class="muted small">{_("Thematic grades are locked once saved and cannot be corrected.")}'
            "</span>\n</form>\n"
        )
    add('\n\n<section id="cell-history" class="history-panel" aria-live="polite"></section>\n\n')
    if context.get("can_remark"):
        add(_sub_template(context, "journal/_grid_remark_form.html"))
    add("\n\n")
    if context.get("correctable"):
        add(_sub_template(context, "journal/_grid_correction_form.html"))
    add(
        '\n\n<section class="lessons" aria-labelledby="lessons-h">\n'
        f'  <h2 id="lessons-h">{_("Lessons")} '
        '<small class="muted">'
        f"{_('today and past lessons newest first, then the coming ones')}</small></h2>\n  "
    )
    if not grid.all_lessons_shown:
        show = ngettext(
            "Show the %(n)s lesson of the period", "Show all %(n)s lessons of the period", len(grid.lessons)
        ) % {"n": _number(len(grid.lessons))}
        add(f'<p><a href="{escape(context["all_lessons_url"])}#lessons-h">{show}</a></p>')
    add("\n  ")
    if grid.lessons:
        add(
            '\n  <div class="lesson-list">\n'
            f"    {lesson_articles(context, grid, context['lesson_url_base'])}\n"
            "  </div>\n  "
        )
    else:
        add(f'\n  <p class="muted">{_("No lessons in this period yet.")}</p>\n  ')
    add("\n\n  ")
    if grid.can_add_lesson:
        csrf = context.get("csrf_token")
        csrf_input = (
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf)}">'
            if csrf and csrf != "NOTPROVIDED"
            else ""
        )
        today = escape(date_filter(context.get("today"), "Y-m-d"))
        action = _url("journal:add_lesson", school=school, assignment_id=assignment.pk)
        add(
            f'\n  <form method="post" action="{action}" '
            f'class="toolbar add-lesson">{csrf_input}\n'
            f'    <label for="add-date">{_("Add a lesson")}</label>\n'
            f'    <input id="add-date" type="date" name="date" value="{today}" required>\n'
            f'    <input name="number" inputmode="numeric" size="2" placeholder="{_("No.")}" '
            f'aria-label="{_("Lesson number")}">\n'
            f'    <input name="topic" placeholder="{_("Topic")}" aria-label="{_("Topic")}" '
            'maxlength="500">\n'
            f'    <button class="primary">{_("Add lesson")}</button>\n  </form>\n  '
        )
    add(f"\n</section>\n{_json_script(context.get('config'), 'journal-config')}\n</div>\n")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped, ids are integers
