"""The demo's plans: one per assignment (but a late teacher's), bound to the year's lessons, agreeing with
the topics the journal step entered, and a few teachers late."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.demo.generator import DemoOptions, generate
from classbook.journal.models import Lesson
from classbook.planning import queries
from classbook.planning.models import LessonBinding, Plan, PlanTopic
from classbook.schools.models import School, TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange

pytestmark = pytest.mark.django_db


# engine_neutral: the demo's decisions; the planning queries run on PostgreSQL in tests/planning's own tests. In
# the full PostgreSQL pass this test took 53-106 s against 7 s alone (planner statistics of tables analysed empty;
# docs/development.md), the largest single cost of that pass.
@pytest.mark.engine_neutral
def test_demo_plans_bound_and_some_teachers_late():
    with time_machine.travel(dt.datetime(2026, 10, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        generate(DemoOptions(seed=1, students=60))
        school = School.objects.get(slug="demo")
        assignments = TeachingAssignment.objects.filter(school=school, year__is_current=True)  # not last year's
        plans = Plan.objects.filter(school=school)
        assert 0 < plans.count() < assignments.count()  # the teacher without plans
        cancelled = LessonChange.objects.filter(school=school, kind=ChangeKind.CANCELLED).values("lesson_id")
        planned_lessons = Lesson.objects.filter(assignment__plan__isnull=False).exclude(pk__in=cancelled)
        assert LessonBinding.objects.filter(school=school).count() == planned_lessons.count()
        # Every topic the journal step entered is the plan's topic for that lesson.
        entered = LessonBinding.objects.filter(school=school).exclude(lesson__topic="")
        assert entered.exists()
        assert all(b.lesson.topic == b.suggested_topic for b in entered.select_related("lesson")[:500])
        assert PlanTopic.objects.filter(school=school, lesson_type="control").exists()
        year = assignments.first().year
        status = queries.plan_status(assignments, due=queries.deadline(school.pk, year), today=dt.date(2026, 10, 15))
        late = [s for s in status if s.is_late]
        assert 1 <= len(late) <= 4
        rows = queries.completion(assignments, as_of=dt.date(2026, 10, 15))
        assert sum(r.conducted for r in rows) > 0
        assert all(r.behind == 0 for r in rows if r.planned)  # the journal gave every planned lesson so far
