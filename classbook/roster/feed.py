"""The weekly change feed (R7.1, seed 000 §4.19): what changed in the class lists and the staff list since a
day, read from the audit log in one query (the classes named in an entry are joined by subqueries).

The secretary passes these changes on every week; the page, its CSV and XLSX and the API read ``change_feed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, IntegerField, OuterRef, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.access import roster_books as rules
from classbook.access.context import SchoolContext
from classbook.audit.labels import action_label
from classbook.core.errors import DomainError
from classbook.people.models import Role
from classbook.schools.models import SchoolClass

CLASS_LISTS = "class_lists"
STAFF_LIST = "staff_list"
SECTIONS: dict[str, Promise] = {CLASS_LISTS: gettext_lazy("Class lists"), STAFF_LIST: gettext_lazy("Staff list")}

# The actions that change a class list or the staff list, with their section. Another app that opens or
# closes enrolments (the book of orders) adds its actions here at ready().
FEED_ACTIONS: dict[str, str] = {
    "roster.student.added": CLASS_LISTS,
    "roster.student.moved": CLASS_LISTS,
    "roster.student.withdrawn": CLASS_LISTS,
    "roster.student.updated": CLASS_LISTS,
    "roster.students.imported": CLASS_LISTS,
    "roster.staff.added": STAFF_LIST,
    "roster.staff.updated": STAFF_LIST,
    "people.role.granted": STAFF_LIST,
    "people.role.removed": STAFF_LIST,
}
MAX_DAYS = 366
MAX_ROWS = 5000


@dataclass(frozen=True)
class FeedRow:
    at: dt.datetime
    section: str
    what: str
    person: str
    details: str
    actor: str

    def cells(self) -> list[str]:
        at = timezone.localtime(self.at).strftime("%d.%m.%Y %H:%M")
        return [at, str(SECTIONS[self.section]), self.what, self.person, self.details, self.actor]


def headers() -> list[str]:
    return [_("When"), _("List"), _("What changed"), _("Person"), _("Details"), _("Changed by")]


def check_range(since: dt.date | None, until: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days of the feed: a week back by default; never in the future, at most a year (bad input: an error)."""
    today = timezone.localdate()
    until = until or today
    since = since or until - dt.timedelta(days=7)
    if since > today:
        raise DomainError(_("The first day cannot be in the future."), field="since")
    if until < since:
        raise DomainError(_("The last day is before the first day."), field="until")
    if (until - since).days > MAX_DAYS:
        raise DomainError(_("Choose at most a year."), field="since")
    return since, until


def _bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _class_name(ctx: SchoolContext, key: str) -> Subquery:
    return Subquery(SchoolClass.objects.filter(school=ctx.school, pk=OuterRef(key)).values("name")[:1])


def _entries(ctx: SchoolContext, since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    start, end = _bounds(since, until)
    qs = (
        rules.change_feed_entries(ctx)
        .filter(at__gte=start, at__lt=end, action__in=list(FEED_ACTIONS))
        .annotate(
            class_id=Cast(KT("data__class"), IntegerField()),
            new_class_id=Cast(KT("data__new__class"), IntegerField()),
            old_class_id=Cast(KT("data__old__class"), IntegerField()),
        )
        .annotate(
            class_name=_class_name(ctx, "class_id"),
            new_class_name=_class_name(ctx, "new_class_id"),
            old_class_name=_class_name(ctx, "old_class_id"),
            subject_last=F("subject__last_name"),
            subject_first=F("subject__first_name"),
            subject_patronymic=F("subject__patronymic"),
            actor_last=F("actor__last_name"),
            actor_first=F("actor__first_name"),
        )
        .order_by("at", "id")
        .values(
            "at",
            "action",
            "data",
            "class_name",
            "new_class_name",
            "old_class_name",
            "subject_last",
            "subject_first",
            "subject_patronymic",
            "actor_last",
            "actor_first",
        )
    )
    return list(qs[:MAX_ROWS])


def _join(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


def _value(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _details(entry: dict[str, Any]) -> str:
    data, action = entry["data"] or {}, entry["action"]
    if action == "roster.student.added":
        return _("class %(class)s from %(day)s") % {"class": _value(entry["class_name"]), "day": data.get("start", "")}
    if action == "roster.student.moved":
        return _("from %(old)s to %(new)s on %(day)s") % {
            "old": _value(entry["old_class_name"]),
            "new": _value(entry["new_class_name"]),
            "day": data.get("on", ""),
        }
    if action == "roster.student.withdrawn":
        return _("left on %(day)s") % {"day": (data.get("new") or {}).get("left_on", "")}
    if action == "roster.students.imported":
        per_class = data.get("per_class") or {}
        return "; ".join(f"{name}: {count}" for name, count in sorted(per_class.items()))
    if action in ("people.role.granted", "people.role.removed"):
        role = str(data.get("role", ""))
        return str(Role(role).label) if role in Role.values else role
    changes = data.get("changes") or {}
    if isinstance(changes, dict) and changes:
        return "; ".join(
            f"{k}: {_value(v.get('old'))} → {_value(v.get('new'))}"
            for k, v in sorted(changes.items())
            if isinstance(v, dict)
        )
    return ""


def _row(entry: dict[str, Any]) -> FeedRow:
    return FeedRow(
        at=entry["at"],
        section=FEED_ACTIONS[entry["action"]],
        what=action_label(entry["action"]),
        person=_join(entry["subject_last"], entry["subject_first"], entry["subject_patronymic"]),
        details=_details(entry),
        actor=_join(entry["actor_last"], entry["actor_first"]),
    )


def change_feed(ctx: SchoolContext, since: dt.date, until: dt.date) -> list[FeedRow]:
    """The changes of the class lists and the staff list between ``since`` and ``until`` (both included),
    oldest first: one query whatever the number of rows (R7.1)."""
    return [_row(e) for e in _entries(ctx, since, until)]
