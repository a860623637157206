"""The words of a notification, rendered from its kind and parameters in the active language.

Notifications store data (``params``), not sentences, so the bell page, the e-mail and the Telegram
message each speak the reader's language, whatever language the event happened in.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def render(notification: Any) -> tuple[str, str]:
    """(title, body) of a notification in the active language."""
    p: dict[str, Any] = dict(notification.params or {})
    p.setdefault("student", "")
    p.setdefault("subject", "")
    p.setdefault("date", "")
    kind = notification.kind
    if kind == "mark":
        return _("New mark: %(value)s, %(subject)s") % p, _("%(student)s got %(value)s in %(subject)s (%(date)s).") % p
    if kind == "absence":
        return (
            _("Absence: %(subject)s, %(date)s") % p,
            _("%(student)s was marked “%(value)s” at %(subject)s on %(date)s.") % p,
        )
    if kind == "homework":
        return _("Homework: %(subject)s") % p, _("Homework in %(subject)s for %(student)s: %(text)s") % (
            p | {"text": p.get("text", "")}
        )
    if kind == "period_grade":
        return (
            _("Period mark: %(value)s, %(subject)s") % p,
            _("%(student)s: %(value)s in %(subject)s for %(period)s.") % (p | {"period": p.get("period", "")}),
        )
    if kind == "timetable":
        what = {
            "substituted": _("a substitute teacher gives the lesson"),
            "cancelled": _("the lesson is cancelled"),
            "merged": _("the lesson is merged with another class"),
            "moved": _("the lesson is moved to %(new_date)s") % {"new_date": p.get("new_date", "")},
        }.get(p.get("change", ""), _("the lesson is changed"))
        return (
            _("Timetable change: %(subject)s, %(date)s") % p,
            _("%(subject)s on %(date)s, lesson %(number)s: %(what)s.")
            % (p | {"number": p.get("number", ""), "what": what}),
        )
    if kind == "class_notice":
        return (
            _("Notice from the class teacher about %(student)s") % p,
            _(
                "%(student)s: average mark %(average)s, %(absences)s missed lessons in the last %(days)s days. "
                "Please contact the class teacher, %(teacher)s."
            )
            % (p | {k: p.get(k, "") for k in ("average", "absences", "days", "teacher")}),
        )
    # Messages, announcements and anything added later carry their own title and text.
    return str(p.get("title", "")), str(p.get("text", ""))
