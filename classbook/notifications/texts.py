"""The words of a notification, rendered from its kind and parameters in the active language.

Notifications store data (``params``), not sentences, so the bell page, the e-mail and the Telegram
message each speak the reader's language, whatever language the event happened in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
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
    if kind == "message":
        # A conversation without a subject is named after the sender, in the reader's language.
        title = str(p.get("title") or "") or _("New message from %(sender)s") % {"sender": p.get("sender", "")}
        return title, str(p.get("text", ""))
    if kind == "forum":
        return (
            _("New reply in “%(title)s”") % {"title": p.get("title", "")},
            _("%(sender)s: %(text)s") % {"sender": p.get("sender", ""), "text": p.get("text", "")},
        )
    if kind == "absence_report":
        return _absence_report(p)
    if kind == "mark_flag":
        return _mark_flag(p)
    if kind == "account":
        return _account(p)
    # Announcements and anything added later carry their own title and text.
    return str(p.get("title", "")), str(p.get("text", ""))


def _absence_report(p: dict[str, Any]) -> tuple[str, str]:
    p = p | {k: p.get(k, "") for k in ("start", "end", "text", "reporter", "teacher", "comment")}
    event = p.get("event")
    if event == "accepted":
        body = _("%(teacher)s accepted the reason of absence for %(start)s – %(end)s.") % p
        if p["comment"]:
            body += " " + _("Comment: %(comment)s") % p
        return _("Absence report accepted: %(student)s") % p, body
    if event == "rejected":
        return (
            _("Absence report rejected: %(student)s") % p,
            _("%(teacher)s rejected the report for %(start)s – %(end)s: %(comment)s") % p,
        )
    return (
        _("Absence report: %(student)s, %(start)s – %(end)s") % p,
        _("%(reporter)s reported the reason of absence: %(text)s") % p,
    )


def _mark_flag(p: dict[str, Any]) -> tuple[str, str]:
    p = p | {k: p.get(k, "") for k in ("value", "comment", "by", "teacher", "answer", "new_value")}
    event = p.get("event")
    if event == "confirmed":
        return (
            _("Mark confirmed: %(value)s, %(subject)s") % p,
            _("%(teacher)s confirmed the mark %(value)s of %(date)s: %(answer)s") % p,
        )
    if event == "corrected":
        return (
            _("Mark corrected: %(value)s → %(new_value)s, %(subject)s") % p,
            _("%(teacher)s corrected the mark of %(date)s to %(new_value)s: %(answer)s") % p,
        )
    return (
        _("Flagged mark: %(value)s, %(subject)s") % p,
        _("%(by)s asks about the mark %(value)s of %(student)s in %(subject)s (%(date)s): %(comment)s") % p,
    )


def _when(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value or "")
    return date_format(timezone.localtime(moment), "d.m.Y H:i")


def _account(p: dict[str, Any]) -> tuple[str, str]:
    """A credential event on the reader's own account (issue 9): what, who, when, why, and what to do."""
    p = p | {"at": _when(p.get("at", "")), "actor": p.get("actor", ""), "issuer": p.get("issuer", "")}
    p["reason"] = p.get("reason") or ""
    ended = _("All your sessions were ended and your API tokens revoked.")
    alarm = _("If it was not you, contact your school's administrator at once.")
    event = p.get("event")
    if event == "code_redeemed":
        title = _("Your password was set with an activation code")
        what = _("Your password was set on %(at)s with an activation code issued by %(issuer)s.") % p
    elif event == "password_changed":
        title = _("Your password was changed")
        what = _("%(actor)s changed your password on %(at)s.") % p
        ended = _("Your other sessions were ended and your API tokens revoked.")
    elif event == "totp_disabled":
        title = _("Two-factor login was switched off")
        what = _("%(actor)s switched off two-factor login for your account on %(at)s.") % p
    elif event == "totp_reset":
        title = _("Two-factor login was reset")
        what = _("%(actor)s reset two-factor login for your account on %(at)s. Reason: %(reason)s") % p
    elif event == "deactivated":
        title = _("Your account was deactivated")
        what = _("%(actor)s deactivated your account on %(at)s. Reason: %(reason)s") % p
        ended = _("You cannot log in until it is reactivated; your sessions were ended and your API tokens revoked.")
    elif event == "reactivated":
        title = _("Your account was reactivated")
        what = _("%(actor)s reactivated your account on %(at)s. Reason: %(reason)s") % p
        ended = _("You can log in with your password again; earlier sessions and API tokens stay ended.")
    else:
        return _("Your account was changed"), _("Your account was changed on %(at)s.") % p
    return title, f"{what} {ended} {alarm}"
