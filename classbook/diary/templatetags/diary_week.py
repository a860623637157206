"""The diary week's lessons as HTML, joined from escaped strings.

A week holds 25-40 lessons with their marks, files and notes; through template nodes that costs several
milliseconds of the page's budget (R5.1: the diary is the most-read page), as the journal grid found.
The markup is the same the template would produce; every value goes through ``escape``.
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat, linebreaksbr
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def diary_lessons(lessons: list, school_slug: str) -> SafeString:
    download = reverse("journal:download_file", args=[school_slug, 0]).removesuffix("0/")
    material_file = reverse("materials:download", args=[school_slug, 0]).removesuffix("0/file/")
    materials_label = escape(_("Materials"))
    topic_label, homework_label, due_label = escape(_("Topic")), escape(_("Homework")), escape(_("due"))
    excused_label = escape(_("excused"))
    out: list[str] = []
    for lesson in lessons:
        status = lesson.status
        cls = f"dy-l dy-ch dy-{status}" if status else "dy-l"
        times = (
            f' <small class="muted">{lesson.start:%H:%M}–{lesson.end:%H:%M}</small>'
            if lesson.start and lesson.end
            else ""
        )
        number = "" if lesson.number is None else lesson.number
        subject: str = escape(lesson.subject)
        if status in ("cancelled", "moved_out"):
            subject = f"<s>{subject}</s>"
        room = f" · {escape(lesson.room)}" if lesson.room else ""
        parts = [
            f'<li class="{cls}"><div class="dy-t"><span class="dy-n">{number}</span>{times}</div>',
            f'<div class="dy-b"><b>{subject}</b> <small class="muted">{escape(lesson.teacher)}{room}</small>',
        ]
        if lesson.note:
            parts.append(f'<br><span class="badge dy-note">{escape(lesson.note)}</span>')
        if lesson.topic:
            parts.append(f"<br><small>{topic_label}: {escape(lesson.topic)}</small>")
        if lesson.homework or lesson.files:
            due = f" <small>({due_label} {lesson.homework_due:%d.%m})</small>" if lesson.homework_due else ""
            parts.append(f'<div class="dy-hw">{homework_label}{due}: {linebreaksbr(lesson.homework, autoescape=True)}')
            for f in lesson.files:
                parts.append(
                    f'<br><a href="{download}{f.id}/">{escape(f.name)}</a> '
                    f'<small class="muted">{escape(filesizeformat(f.size))}</small>'
                )
            parts.append("</div>")
        if lesson.materials:
            parts.append(f'<div class="dy-hw dy-mat">{materials_label}:')
            for m in lesson.materials:
                if m.url:
                    link = f'<a href="{escape(m.url)}" rel="noopener noreferrer nofollow" target="_blank">'
                    size = ""
                else:
                    link = f'<a href="{material_file}{m.id}/file/">'
                    size = f" {escape(filesizeformat(m.size))}"
                parts.append(f'<br>{link}{escape(m.title)}</a> <small class="muted">{escape(m.kind)}{size}</small>')
            parts.append("</div>")
        absence = lesson.absence
        if absence is not None:
            ok = " ok" if absence.excused else ""
            note = f" · {excused_label}" if absence.excused else ""
            parts.append(
                f'<br><span class="dy-abs{ok}" title="{escape(absence.name)}">{escape(absence.code)}</span> '
                f"<small>{escape(absence.name)}{note}</small>"
            )
        parts.append('</div><div class="dy-m">')
        for m in lesson.marks:
            title = escape(f"{m.work_type}: {m.comment}" if m.comment else m.work_type)
            short = escape(m.work_type_short)
            parts.append(f'<span class="dy-mk" title="{title}">{escape(m.value)}<small>{short}</small></span>')
            if m.comment:
                parts.append(f'<small class="dy-c">{escape(m.comment)}</small>')
        parts.append("</div></li>")
        out.append("".join(parts))
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
