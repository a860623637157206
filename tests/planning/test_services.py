"""Plans: import (CSV/XLSX, all or nothing), copy, the shared base, approval, binding and confirming."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.journal.models import ChangeKind, JournalChange, Lesson, LessonType
from classbook.planning import files, queries, services
from classbook.planning.files import PlanFileError
from classbook.planning.models import LessonBinding, Plan, PlanStatus, PlanTopic
from classbook.timetable import services as timetable_services
from classbook.timetable.models import ChangeKind as LessonChangeKind
from tests import factories as f
from tests.planning.conftest import CSV_OK, make_lessons

DAYS = [dt.date(2026, 9, d) for d in (1, 2, 3, 4, 7, 8, 9, 10)]


def test_import_csv_binds_topics_to_lessons_in_date_order(world, assignment):
    lessons = make_lessons(assignment, list(reversed(DAYS)))
    plan = services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="plan.csv", content=CSV_OK.encode()
    )
    topics = list(plan.topics.order_by("position").values_list("title", "hours", "lesson_type", "section"))
    assert topics[0] == ("Natural numbers", 2, "regular", "Numbers")
    assert [t[2] for t in topics] == ["regular", "control", "laboratory", "practice", "revision"]
    by_date = {b.lesson.date: b.suggested_topic for b in LessonBinding.objects.select_related("lesson")}
    expected = ["Natural numbers", "Natural numbers", "Control work 1", "Angles", "Measuring", "Measuring", "Revision"]
    assert [by_date.get(d) for d in DAYS] == [*expected, None]  # 7 planned hours, 8 lessons
    # The lessons themselves are untouched: the suggestion is not yet part of the journal.
    assert not Lesson.objects.exclude(topic="").exists()
    assert not JournalChange.objects.exists()
    assert len(lessons) == 8
    assert AuditEntry.objects.filter(action="planning.plan.imported").count() == 1


def test_bad_rows_are_all_reported_and_nothing_changes(world, assignment):
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    before = list(PlanTopic.objects.values_list("title", flat=True))
    bad = (
        "order;topic;hours;lesson type\n"
        "1;Fine topic;1;regular\n"
        "2;;1;regular\n"
        "3;Hours wrong;x;regular\n"
        "3;Duplicate order;1;regular\n"
        "4;Unknown type;1;dancing\n"
        f"5;{'a' * 501};1;regular\n"
        "6;Zero hours;0;control\n"
    )
    with pytest.raises(PlanFileError) as exc:
        services.import_plan_file(
            acting_user=world.teacher, assignment=assignment, filename="p.csv", content=bad.encode()
        )
    problems = {(e.row, e.column) for e in exc.value.errors}
    assert problems == {(3, "topic"), (4, "hours"), (5, "order"), (6, "lesson type"), (7, "topic"), (8, "hours")}
    assert list(PlanTopic.objects.values_list("title", flat=True)) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"section,hours\nA,1\n", "header row"),
        (b"topic\n", "no topics"),
        (b"PK\x03\x04garbage", "Excel"),
    ],
)
def test_unreadable_files_are_refused(world, assignment, content, message):
    with pytest.raises(PlanFileError, match=message):
        services.import_plan_file(acting_user=world.teacher, assignment=assignment, filename="p.csv", content=content)
    assert not Plan.objects.exists() or not PlanTopic.objects.exists()


def test_xlsx_template_and_export_round_trip(world, assignment):
    rows = files.parse_file("t.xlsx", files.to_xlsx(files.template_rows()))
    assert [r.lesson_type for r in rows] == ["regular", "combined", "control"]
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    view = queries.plan_view(assignment, dt.date(2026, 9, 1))
    again = files.parse_file("p.xlsx", files.to_xlsx(files.topics_table(view.topics)))
    assert [(r.title, r.hours, r.lesson_type) for r in again] == [
        (t.title, t.hours, t.lesson_type) for t in view.topics
    ]


def test_localised_headers_and_type_labels(world, assignment):
    content = "Розділ,Тема,Години,Тип уроку\nА,Вступ,1,Control work\nА,Далі,,\n".encode()
    rows = files.parse_file("p.csv", content)
    assert [(r.title, r.hours, r.lesson_type) for r in rows] == [("Вступ", 1, "control"), ("Далі", 1, "regular")]


def test_only_the_assignments_teacher_edits_its_plan(world, assignment):
    for user in (world.other_teacher, world.deputy, world.class_teacher, world.student.user, world.foreign_teacher):
        with pytest.raises(PermissionDeniedError):
            services.import_plan_file(
                acting_user=user, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
            )
    assert not Plan.objects.exists()


def test_copy_from_parallel_class_and_refusals(world, assignment):
    parallel = f.make_assignment(world.other_teacher, world.class_b, world.subject)
    services.import_plan_file(
        acting_user=world.other_teacher, assignment=parallel, filename="p.csv", content=CSV_OK.encode()
    )
    source = Plan.objects.get(assignment=parallel)
    plan = services.copy_plan(acting_user=world.teacher, assignment=assignment, source=source)
    assert plan.topics.count() == 5 and plan.copied_from_id == source.pk
    with pytest.raises(DomainError, match="onto itself"):
        services.copy_plan(acting_user=world.teacher, assignment=assignment, source=plan)
    other_subject = Plan.objects.create(
        school=world.school,
        assignment=f.make_assignment(world.other_teacher, world.class_b),
        subject=f.SubjectFactory(school=world.school),
        year_level=world.class_b.year_level,
        year=world.class_b.year,
        created_by=world.other_teacher,
    )
    with pytest.raises(DomainError, match="same subject"):
        services.copy_plan(acting_user=world.teacher, assignment=assignment, source=other_subject)


def test_shared_base_publish_copy_withdraw(world, assignment):
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    shared = services.publish_plan(acting_user=world.teacher, assignment=assignment, title="Maths 5")
    assert shared.is_shared and shared.assignment_id is None and shared.topics.count() == 5
    parallel = f.make_assignment(world.other_teacher, world.class_b, world.subject)
    plan = services.copy_plan(acting_user=world.other_teacher, assignment=parallel, source=shared)
    assert plan.topics.count() == 5
    with pytest.raises(PermissionDeniedError):
        services.withdraw_shared(acting_user=world.other_teacher, plan=shared)
    services.withdraw_shared(acting_user=world.deputy, plan=shared)
    with pytest.raises(DomainError):
        services.copy_plan(acting_user=world.other_teacher, assignment=parallel, source=Plan.objects.get(pk=shared.pk))


def test_submit_approve_return_and_edit_goes_back_to_draft(world, assignment):
    with pytest.raises(DomainError, match="no topics"):
        services.submit_plan(acting_user=world.teacher, assignment=assignment)
    plan = services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    with pytest.raises(PermissionDeniedError):
        services.approve_plan(acting_user=world.teacher, plan=plan)
    with pytest.raises(DomainError, match="submitted"):
        services.approve_plan(acting_user=world.deputy, plan=plan)
    services.submit_plan(acting_user=world.teacher, assignment=assignment)
    plan = services.approve_plan(acting_user=world.deputy, plan=plan)
    assert plan.status == PlanStatus.APPROVED and plan.approved_by == world.deputy
    with pytest.raises(DomainError, match="Say what"):
        services.return_plan(acting_user=world.director, plan=plan, note=" ")
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.approved_at is None


def test_rebinding_never_overwrites_an_entered_or_confirmed_topic(world, assignment):
    lessons = make_lessons(assignment, DAYS)
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    with time_machine.travel(dt.datetime(2026, 9, 3, 12, 0), tick=False):
        # The teacher confirms the first lesson's suggestion and types their own topic for the second.
        assert services.confirm_topics(acting_user=world.teacher, lessons=[Lesson.objects.get(pk=lessons[0].pk)]) == 1
        from classbook.journal import services as journal_services

        journal_services.update_lesson(
            acting_user=world.teacher, lesson_id=lessons[1].pk, expected_version=lessons[1].version, topic="My own"
        )
        with pytest.raises(DomainError, match="day of the lesson"):
            services.confirm_topics(acting_user=world.teacher, lessons=[Lesson.objects.get(pk=lessons[5].pk)])
        with pytest.raises(PermissionDeniedError):
            services.confirm_topics(acting_user=world.other_teacher, lessons=[Lesson.objects.get(pk=lessons[2].pk)])
    change = JournalChange.objects.get(lesson=lessons[0], kind=ChangeKind.TOPIC)
    assert change.actor == world.teacher and change.new_value == "Natural numbers"
    # The plan changes: new topics; rebinding rewrites only the suggestions.
    services.import_plan_file(
        acting_user=world.teacher,
        assignment=assignment,
        filename="p.csv",
        content=b"topic,hours,type\nNew A,3,control\nNew B,1,\n",
    )
    lessons = list(Lesson.objects.order_by("date"))
    assert [x.topic for x in lessons[:3]] == ["Natural numbers", "My own", ""]
    assert lessons[0].lesson_type == LessonType.REGULAR
    bindings = {b.lesson_id: b.suggested_topic for b in LessonBinding.objects.all()}
    assert bindings[lessons[2].pk] == "New A" and bindings[lessons[3].pk] == "New B"
    assert lessons[4].pk not in bindings  # beyond the new, shorter plan
    view = queries.plan_view(assignment, dt.date(2026, 9, 4))
    assert view.to_confirm == [lessons[2].pk, lessons[3].pk]
    with time_machine.travel(dt.datetime(2026, 9, 4, 12, 0), tick=False):
        services.confirm_topics(acting_user=world.teacher, lessons=Lesson.objects.filter(pk__in=view.to_confirm))
    lessons[2].refresh_from_db()
    assert (lessons[2].topic, lessons[2].lesson_type) == ("New A", LessonType.CONTROL)


def test_substitute_confirms_the_lesson_they_gave(world, assignment):
    (lesson,) = make_lessons(assignment, [dt.date(2026, 9, 1)])
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    Lesson.objects.filter(pk=lesson.pk).update(conducted_by=world.other_teacher)
    with time_machine.travel(dt.datetime(2026, 9, 2, 12, 0), tick=False):
        services.confirm_topics(acting_user=world.other_teacher, lessons=[Lesson.objects.get(pk=lesson.pk)])
    assert JournalChange.objects.get(lesson=lesson, kind=ChangeKind.TOPIC).actor == world.other_teacher


def test_timetable_still_cancels_a_lesson_that_only_has_a_suggestion(world, assignment):
    lessons = make_lessons(assignment, DAYS[:3])
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    timetable_services.record_lesson_change(
        acting_user=world.deputy, lesson=lessons[1], kind=LessonChangeKind.CANCELLED, reason="quarantine"
    )
    result = services.bind_plan(acting_user=world.teacher, assignment=assignment)
    assert result.bound == 2 and result.hours_without_lesson == 5
    assert not LessonBinding.objects.filter(lesson=lessons[1]).exists()


def test_deadline_default_and_setting(world, assignment):
    year = assignment.year
    assert services.deadline_for(world.school, year) == dt.date(2026, 9, 10)
    with pytest.raises(PermissionDeniedError):
        services.set_deadline(acting_user=world.teacher, year=year, deadline=dt.date(2026, 9, 15))
    with pytest.raises(DomainError):
        services.set_deadline(acting_user=world.deputy, year=year, deadline=dt.date(2030, 1, 1))
    services.set_deadline(acting_user=world.deputy, year=year, deadline=dt.date(2026, 9, 15))
    assert services.deadline_for(world.school, year) == dt.date(2026, 9, 15)


def test_separators_and_odd_numbers(world, assignment):
    semicolon = "topic;hours\nA, with a comma;2\n".encode("cp1251")
    assert [(r.title, r.hours) for r in files.parse_file("p.csv", semicolon)] == [("A, with a comma", 2)]
    tabs = b"topic\thours\nB\t1\n"
    assert [r.title for r in files.parse_file("p.txt", tabs)] == ["B"]
    with pytest.raises(PlanFileError) as exc:
        files.parse_file("p.csv", "topic,hours,order\nC,²,1\nD,1.5,x\n".encode())
    assert {(e.row, e.column) for e in exc.value.errors} == {(2, "hours"), (3, "hours"), (3, "order")}


def test_last_years_plan_of_the_same_subject_and_year_level_is_a_copy_source(world, assignment):
    from classbook.access.context import build_context
    from classbook.access.planning import copy_sources

    last_year = f.YearFactory(
        school=world.school, name="2025/2026", start=dt.date(2025, 9, 1), end=dt.date(2026, 6, 30), is_current=False
    )
    old_class = f.SchoolClassFactory(year=last_year, year_level=world.class_a.year_level, name="5-А")
    old = f.make_assignment(world.teacher, old_class, world.subject)
    services.import_plan_file(acting_user=world.teacher, assignment=old, filename="p.csv", content=CSV_OK.encode())
    other_level = f.SchoolClassFactory(year=last_year, year_level=f.YearLevelFactory(school=world.school, number=6))
    unrelated = f.make_assignment(world.teacher, other_level, world.subject)
    services.import_plan_file(
        acting_user=world.teacher, assignment=unrelated, filename="p.csv", content=CSV_OK.encode()
    )
    ctx = build_context(world.teacher, world.school)
    sources = list(copy_sources(ctx, assignment))
    assert [p.assignment for p in sources] == [old]
    plan = services.copy_plan(acting_user=world.teacher, assignment=assignment, source=sources[0])
    assert plan.topics.count() == 5 and plan.year_id == assignment.year_id
    # Students and parents have no copy sources at all.
    assert not copy_sources(build_context(world.student.user, world.school), assignment).exists()
