"""What an event says: the other apps' after-commit items turned into webhook events.

Each event is ``(school_id, event type, data)``. The data are ids and the values the journal recorded,
the same ids an administrator of the school reads through the API (``/api/v1/schools/{school}/...``):
an integrator fetches the rest there, with its own token and the API's own access rules. Nothing of
another school can get in: an item carries the school of the row it describes, and only that school's
subscriptions are offered it (``services.record_events``).
"""

from __future__ import annotations

from typing import Any

from classbook.webhooks.models import EventType

Event = tuple[int, str, dict[str, Any]]

JOURNAL_KINDS = {
    "mark": (EventType.MARK, "mark_id"),
    "attendance": (EventType.ATTENDANCE, "attendance_id"),
    "period_grade": (EventType.PERIOD_GRADE, "period_grade_id"),
    "correction": (EventType.PERIOD_GRADE, "period_grade_id"),
}


def from_journal(items: list[dict[str, Any]]) -> list[Event]:
    events: list[Event] = []
    for item in items:
        kind = JOURNAL_KINDS.get(item.get("kind", ""))
        if kind is None:
            continue
        event, id_name = kind
        data: dict[str, Any] = {id_name: item.get("object_id"), "assignment_id": item.get("assignment_id")}
        if event == EventType.PERIOD_GRADE:
            data |= {"period_id": item.get("period_id"), "correction": item.get("kind") == "correction"}
        else:
            data["lesson_id"] = item.get("lesson_id")
        data |= {"student_id": item.get("student_id"), "old": item.get("old", ""), "new": item.get("new", "")}
        events.append((int(item["school_id"]), event, data))
    return events


def from_timetable(items: list[dict[str, Any]]) -> list[Event]:
    return [
        (
            int(i["school_id"]),
            EventType.LESSON,
            {"change": i.get("kind"), "lesson_id": i.get("lesson_id"), "change_id": i.get("change_id")},
        )
        for i in items
    ]


def from_roster(items: list[dict[str, Any]]) -> list[Event]:
    keys = ("change", "student_id", "class_id", "previous_class_id", "on")
    return [(int(i["school_id"]), EventType.ENROLMENT, {k: i.get(k) for k in keys}) for i in items]


SOURCES = {"journal": from_journal, "timetable": from_timetable, "roster": from_roster}
