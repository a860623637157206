"""The offline queue's batch sync (issue 17): each entry through the journal's write services, bounded in time.

One rule table: who sends what, and what becomes of it (applied, a conflict with who and when, or refused with
the reason); then the late flag and the audit's two times, the lesson's topic, and the query budget.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from classbook.journal import services
from classbook.journal.models import JournalChange, Lesson, Mark
from tests import factories as f
from tests.journal.conftest import AFTER_DEADLINE, IN_TIME, LESSON_DAY

pytestmark = pytest.mark.django_db


def sync_url(world, school=None):
    return f"/api/v1/schools/{(school or world.school).slug}/journal/offline-sync"


def entry(lesson, student, value="10", version="0.0", at=IN_TIME, kind="cell", **extra):
    return {
        "id": f"e{lesson.pk}-{getattr(student, 'pk', 0)}-{value}",
        "kind": kind,
        "lesson": lesson.pk,
        "student": getattr(student, "pk", None),
        "value": value,
        "version": version,
        "device_at": at.isoformat(),
        **extra,
    }


def post(client, world, entries, school=None):
    return client.post(sync_url(world, school), data=json.dumps({"entries": entries}), content_type="application/json")


def _other_lesson(world, journal):
    with time_machine.travel(IN_TIME):
        return services.create_lesson(
            acting_user=world.other_teacher, assignment=journal.other_assignment, date=LESSON_DAY
        )


def _written_before(world, journal):
    services.record_mark(
        acting_user=world.teacher,
        lesson=journal.lesson,
        student=world.student,
        text="9",
        expected_version=0,
    )


HOUR = dt.timedelta(hours=1)
# (case, persona, now, device time, setup, status, outcome, code)
RULES = [
    ("applied", "teacher", IN_TIME, IN_TIME - HOUR, None, 200, "applied", ""),
    ("conflict", "teacher", IN_TIME, IN_TIME - HOUR, _written_before, 200, "conflict", ""),
    ("too old", "teacher", IN_TIME + 73 * HOUR, IN_TIME, None, 200, "refused", "offline_too_old"),
    ("before the lesson", "teacher", IN_TIME, IN_TIME - 24 * HOUR, None, 200, "refused", "before_lesson"),
    ("clock ahead", "teacher", IN_TIME, IN_TIME + 2 * HOUR, None, 200, "refused", "device_clock_ahead"),
    ("other teacher's journal", "teacher", IN_TIME, IN_TIME, "other", 200, "refused", "not_yours"),
    ("another school's teacher", "foreign_teacher", IN_TIME, IN_TIME, None, 404, None, None),
    ("student", "student", IN_TIME, IN_TIME, None, 403, None, None),
    ("parent", "parent", IN_TIME, IN_TIME, None, 403, None, None),
    ("deputy (not their journal)", "deputy", IN_TIME, IN_TIME, None, 200, "refused", "not_yours"),
    ("anonymous", "anonymous", IN_TIME, IN_TIME, None, 401, None, None),
]


@pytest.mark.parametrize(
    ("case", "persona", "now", "device_at", "setup", "status", "outcome", "code"), RULES, ids=[r[0] for r in RULES]
)
def test_offline_sync_rules(world, journal, as_user, case, persona, now, device_at, setup, status, outcome, code):
    lesson, student = journal.lesson, world.student
    if setup == "other":
        lesson, student = _other_lesson(world, journal), world.other_student
    elif setup is not None:
        with time_machine.travel(IN_TIME - 2 * HOUR):
            setup(world, journal)
    before = JournalChange.objects.count()
    with time_machine.travel(now, tick=False):
        res = post(as_user(world.persona(persona)), world, [entry(lesson, student, at=device_at)])
    assert res.status_code == status, res.content
    if outcome is None:
        assert JournalChange.objects.count() == before  # nothing written
        return
    result = res.json()["results"][0]
    assert (result["status"], result["code"]) == (outcome, code)
    marks = list(Mark.objects.filter(lesson=lesson, student=student).values_list("value__code", flat=True))
    if outcome == "applied":
        assert (result["value"], result["version"]) == ("10", "1.0")
        assert marks == ["10"]
    elif outcome == "conflict":
        # Nothing silently overwritten: the cell keeps the other write; the answer says what, who and when.
        assert marks == ["9"]
        assert result["current"]["value"] == "9"
        assert result["current"]["version"] == "1.0"
        assert result["current"]["by"] == world.teacher.short_name
        assert result["current"]["at"].startswith((IN_TIME - 2 * HOUR).date().isoformat())
    else:
        assert result["message"]
        assert marks == []
        assert JournalChange.objects.count() == before


def test_late_flag_and_audit_use_the_device_time(world, journal, as_user):
    """Entered offline before the deadline, sent after it: not late; the audit keeps both times."""
    with time_machine.travel(AFTER_DEADLINE, tick=False):
        res = post(
            as_user(world.teacher),
            world,
            [
                entry(journal.lesson, world.student, "н", at=IN_TIME),
                entry(journal.lesson, None, kind="lesson", version="1", at=IN_TIME, topic="Дроби", homework="№ 5"),
            ],
        )
    results = res.json()["results"]
    assert [(r["status"], r["late"]) for r in results] == [("applied", False), ("applied", False)]
    change = JournalChange.objects.get(kind="attendance")
    assert (change.device_at, change.at, change.is_late) == (IN_TIME, AFTER_DEADLINE, False)
    history = as_user(world.teacher).get(
        f"/s/{world.school.slug}/journal/{journal.assignment.pk}/history/",
        {"lesson": journal.lesson.pk, "student": world.student.pk},
    )
    assert "entered offline at 05.10.2026 13:00" in history.content.decode()  # Kyiv time of the device
    lesson = Lesson.objects.get(pk=journal.lesson.pk)
    assert (lesson.topic, lesson.homework, lesson.version) == ("Дроби", "№ 5", 2)
    assert set(JournalChange.objects.filter(kind__in=["topic", "homework"]).values_list("device_at", flat=True)) == {
        IN_TIME
    }


def test_a_refused_entry_does_not_undo_the_others_and_bad_input_is_a_structured_error(world, journal, as_user):
    client = as_user(world.teacher)
    with time_machine.travel(IN_TIME, tick=False):
        res = post(client, world, [entry(journal.lesson, world.student, "13"), entry(journal.lesson, world.student)])
        bad = post(client, world, [entry(journal.lesson, world.student, version="x")])
    assert [r["status"] for r in res.json()["results"]] == ["refused", "applied"]
    assert res.json()["results"][0]["code"] == "not_on_scale"
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"


def test_sync_queries_grow_only_by_the_writes_of_each_entry(world, journal, as_user, django_assert_max_num_queries):
    students = [world.student, *(f.make_student(world.class_a) for _ in range(9))]
    client = as_user(world.teacher)
    counts = []
    with time_machine.travel(IN_TIME, tick=False):
        post(client, world, [])  # warm the session
        for marks in (["8"], ["9"] * 10):
            versions = {m.student_id: m.version for m in Mark.objects.filter(lesson=journal.lesson)}
            cells = zip(students, marks, strict=False)
            entries = [entry(journal.lesson, s, v, f"{versions.get(s.pk, 0)}.0") for s, v in cells]
            with django_assert_max_num_queries(5 + 5 * len(entries)) as captured:
                res = post(client, world, entries)
            assert {r["status"] for r in res.json()["results"]} == {"applied"}
            counts.append(len(captured.captured_queries))
    # The request's own reads (session, school twice, the lessons) are paid once; each entry costs only its
    # write: the cell's query, the row, the audit row and the transaction's savepoint (in the test).
    per_entry = (counts[1] - counts[0]) / 9
    assert per_entry == int(per_entry) and per_entry <= 5


def test_a_mark_with_its_comment_changed_offline_keeps_the_device_time_in_the_audit(world, journal, as_user):
    """A change of an existing mark (on PostgreSQL the one-statement save writes the audit row itself)."""
    with time_machine.travel(IN_TIME - 2 * HOUR):
        services.record_mark(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="9", expected_version=0
        )
    with time_machine.travel(IN_TIME, tick=False):
        made = IN_TIME - HOUR
        res = post(
            as_user(world.teacher),
            world,
            [entry(journal.lesson, world.student, "10", "1", made, "mark", comment="усно")],
        )
    assert [(r["status"], r["value"], r["version"]) for r in res.json()["results"]] == [("applied", "10", "2")]
    mark = Mark.objects.get(lesson=journal.lesson, student=world.student)
    assert (mark.value.code, mark.comment) == ("10", "усно")
    change = JournalChange.objects.filter(kind="mark").order_by("-id").first()
    assert (change.old_value, change.new_value, change.device_at, change.at) == ("9", "10", made, IN_TIME)


def test_a_topic_changed_online_meanwhile_comes_back_as_a_conflict_with_who_and_when(world, journal, as_user):
    with time_machine.travel(IN_TIME - 2 * HOUR):
        services.update_lesson(acting_user=world.teacher, lesson_id=journal.lesson.pk, expected_version=1, topic="A")
    with time_machine.travel(IN_TIME, tick=False):
        mine = entry(journal.lesson, None, kind="lesson", version="1", at=IN_TIME - HOUR, topic="B")
        res = post(as_user(world.teacher), world, [mine])
    result = res.json()["results"][0]
    assert (result["status"], result["current"]["value"], result["current"]["version"]) == ("conflict", "A", "2")
    assert result["current"]["by"] == world.teacher.short_name
    assert Lesson.objects.get(pk=journal.lesson.pk).topic == "A"  # not overwritten
