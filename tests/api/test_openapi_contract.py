"""The API keeps its own OpenAPI document (issue 18): Schemathesis, as integrators' tooling would, generates
requests from ``/api/v1/openapi.json`` for three personas — staff (the deputy), a teacher, a parent — on the
demo school, each with an API token, and checks every answer:

- no server error (5xx);
- its status is one the operation documents;
- its content type is one the document gives for that status;
- its body matches the schema the document gives for that status.

Both kinds of data are generated: valid by the document (positive) and invalid (negative). The run is
bounded (``EXAMPLES`` valid and ``NEGATIVE_EXAMPLES`` invalid requests per operation) and derandomized,
so CI sees the same requests every time; ``bench/api_fuzz.py`` runs the same with more examples. Path
parameters name objects the persona can see (``fuzz.known_ids``), else nearly every request would test the
404 answer only. No check is excluded for any operation.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from classbook.demo.generator import DemoOptions, generate
from classbook.demo.logins import find_demo_logins
from classbook.people import credentials
from classbook.people.models import User
from classbook.schools.models import School
from tests.api import fuzz

EXAMPLES = 2  # valid requests per operation
NEGATIVE_EXAMPLES = 1  # invalid ones (generating them costs more than answering them)
PERSONAS = ("deputy", "teacher", "parent")


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ALLOWED_HOSTS = ["localhost"]  # Schemathesis' WSGI client
    settings.MEDIA_ROOT = tmp_path / "media"  # the uploads it makes
    # The journal is filled up to "today": a fixed day gives the same data, so the same requests, every run.
    with time_machine.travel(dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC), tick=False):
        generate(DemoOptions(seed=1, students=60))
    # The contract is about the answers: background work is queued and not run (a year archive of every class,
    # built inline by the immediate backend, cost four minutes of the run).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with time_machine.travel(dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC), tick=False):
        yield School.objects.get()


@pytest.mark.postgres_pass  # PostgreSQL is where out-of-range numbers and NUL bytes fail: run there, once a run
def test_every_answer_is_documented_for_staff_teacher_and_parent(demo):
    """One test for the three personas: seeding the demo school costs as much as a persona's run, so it is
    seeded once; each persona runs on it as seeded (a savepoint rolled back after each), and the failures of all
    three are reported together."""
    logins = {login.key: login.username for login in find_demo_logins(demo)}
    failures = []
    with fuzz.live_app() as app:
        schema = fuzz.load(app)
        for persona in PERSONAS:
            savepoint = transaction.savepoint()  # each persona starts from the seeded school
            user = User.objects.get(username=logins[persona])
            _row, token = credentials.create_api_token(user=user, name="fuzz")
            credentials.create_api_token(user=user, name="spare")  # the one DELETE /tokens/{id} may revoke
            ids = fuzz.known_ids(user, demo)
            report = fuzz.run(schema, persona, token, ids, examples=EXAMPLES, negative_examples=NEGATIVE_EXAMPLES)
            print(f"{persona}: {report.requests} requests in {report.seconds:.1f} s, {dict(report.statuses)}")
            assert report.requests >= 3 * 120, persona  # every operation was reached
            failures += [f"{persona} {operation}: {failure}" for operation, failure in report.failures.items()]
            transaction.savepoint_rollback(savepoint)
    assert not failures, "\n\n".join(failures)
