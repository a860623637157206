import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.journal.conftest import IN_TIME


@time_machine.travel(IN_TIME)
def test_measure(world, journal, as_user):
    client = as_user(world.teacher)
    url = reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk])
    client.get("/")
    for value, version in (("10", "0.0"), ("11", "1.0")):
        with CaptureQueriesContext(connection) as c:
            r = client.post(url, {"kind": "lesson", "lesson": journal.lesson.pk, "student": world.student.pk, "value": value, "version": version}, HTTP_ACCEPT="application/json")
        print(r.status_code, r.content[:200])
        for q in c.captured_queries:
            if "SAVEPOINT" not in q["sql"]:
                print("  ", q["sql"][:220])
