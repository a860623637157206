"""Schemathesis against the live OpenAPI document (issue 18): shared by the CI test and ``bench/api_fuzz.py``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@contextmanager
def live_app() -> Iterator[Callable[..., Any]]:
    """Django's real WSGI handler, inside the test's transaction.

    Like Django's test client, the handler must not close the database connection at the end of a request:
    that would end the transaction that holds the test data. Like a WSGI server, the wrapper reads the whole
    answer and closes it (a file download's file is closed by ``close()``).
    """
    handler = WSGIHandler()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        response = handler(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield app
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class Report:
    persona: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_operation: dict[str, Counter[int]] = field(default_factory=dict)  # "label [mode]": statuses
    failures: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def load(app: Callable[..., Any]) -> Any:
    """The live document, read as a client reads it: ``GET /api/v1/openapi.json``."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def run(
    schema: Any,
    persona: str,
    token: str,
    path_parameters: dict[str, Any],
    *,
    examples: int,
    negative_examples: int | None = None,
    only: str | None = None,
) -> Report:
    """``examples`` valid requests per operation (by the document), ``negative_examples`` invalid ones."""
    budget = {GenerationMode.POSITIVE: examples, GenerationMode.NEGATIVE: negative_examples or examples}
    report = Report(persona)
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        if only and only not in label:
            continue
        params = {p.name: path_parameters[p.name] for p in operation.path_parameters if p.name in path_parameters}
        op_started = time.perf_counter()
        for mode, count in budget.items():
            counter = report.per_operation.setdefault(f"{label} [{mode}]", Counter())
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=params or None)

            @given(case=strategy)
            @settings(
                max_examples=count,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                response = case.call(headers=headers)
                report.requests += 1
                report.statuses[response.status_code] += 1
                counter[response.status_code] += 1  # noqa: B023 - called within this iteration
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                check()
            except (Exception, BaseExceptionGroup) as exc:  # every failure is reported, the run goes on
                report.failures.setdefault(f"{label} [{mode}]", f"{type(exc).__name__}: {exc}"[:1500])
        report.timings[label] = time.perf_counter() - op_started
    report.seconds = time.perf_counter() - started
    return report


def refused_valid_data(report: Report) -> list[str]:
    """Operations that refused (422) most of the requests their own document says are valid."""
    found = []
    for key, statuses in report.per_operation.items():
        if key.endswith("[positive]") and statuses[422] > sum(statuses.values()) / 2:
            found.append(f"{key.removesuffix(' [positive]')}: {dict(statuses)}")
    return found


def known_ids(user: Any, school: Any) -> dict[str, Any]:
    """Path parameters naming objects the persona may see, so the generated bodies reach the rules behind them.

    Without them nearly every generated id is unknown and the run tests the 404 answer only.
    """
    from classbook.appeals.models import AbsenceReport, MarkFlag
    from classbook.journal.models import Attendance, HomeworkAttachment, Lesson, PeriodGrade, Remark
    from classbook.messaging.models import Announcement, Conversation, ForumReply, ForumTopic, MessageAttachment
    from classbook.people.models import ApiToken, Consent, Enrolment, GuardianLink, Student
    from classbook.schools.models import SchoolClass, TeachingAssignment
    from classbook.timetable.models import TimetableEntry

    children = list(GuardianLink.objects.filter(guardian=user, school=school).values_list("student_id", flat=True))
    taught = TeachingAssignment.objects.filter(school=school, teacher=user).order_by("pk").first()
    if children:
        enrolment = Enrolment.objects.filter(student_id=children[0], end__isnull=True).first()
        school_class = enrolment.school_class if enrolment else None
    elif taught:
        school_class = taught.school_class
    else:
        school_class = SchoolClass.objects.filter(school=school).order_by("pk").first()
    assignment = taught or TeachingAssignment.objects.filter(school_class=school_class).order_by("pk").first()
    students = Student.objects.filter(enrolments__school_class=school_class, enrolments__end__isnull=True)
    student_id = children[0] if children else students.order_by("pk").values_list("pk", flat=True).first()
    lesson = Lesson.objects.filter(assignment=assignment).order_by("-date", "-pk").first()
    conversation = Conversation.objects.filter(participants__user=user).order_by("pk").first()
    topic = ForumTopic.objects.filter(school=school).order_by("pk").first()
    found = {
        "school": school.slug,
        "class_id": school_class.pk if school_class else None,
        "assignment_id": assignment.pk if assignment else None,
        "subject_id": assignment.subject_id if assignment else None,
        "student_id": student_id,
        "user_id": user.pk,
        "lesson_id": lesson.pk if lesson else None,
        "attendance_id": Attendance.objects.filter(lesson=lesson).values_list("pk", flat=True).first(),
        "grade_id": PeriodGrade.objects.filter(assignment=assignment).values_list("pk", flat=True).first(),
        "remark_id": Remark.objects.filter(assignment=assignment).values_list("pk", flat=True).first(),
        "file_id": HomeworkAttachment.objects.filter(lesson__assignment=assignment).values_list("pk", flat=True).first()
        or MessageAttachment.objects.filter(message__conversation=conversation).values_list("pk", flat=True).first(),
        "link_id": GuardianLink.objects.filter(student_id=student_id).values_list("pk", flat=True).first(),
        "consent_id": Consent.objects.filter(student_id=student_id).values_list("pk", flat=True).first(),
        "entry_id": TimetableEntry.objects.filter(school=school).values_list("pk", flat=True).first(),
        "report_id": AbsenceReport.objects.filter(student_id=student_id).values_list("pk", flat=True).first(),
        "flag_id": MarkFlag.objects.filter(school=school).values_list("pk", flat=True).first(),
        "conversation_id": conversation.pk if conversation else None,
        "announcement_id": Announcement.objects.filter(school=school).values_list("pk", flat=True).first(),
        "topic_id": topic.pk if topic else None,
        "reply_id": ForumReply.objects.filter(topic=topic).values_list("pk", flat=True).first(),
        # a token of its own, not the one the run authenticates with
        "token_id": ApiToken.objects.filter(user=user, name="spare").values_list("pk", flat=True).first(),
    }
    return {name: value for name, value in found.items() if value is not None}
