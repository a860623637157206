"""Plan pages and API: who may read, edit, approve; bad input; constant query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.planning import services
from classbook.planning.models import Plan, PlanStatus, PlanTopic
from tests import factories as f
from tests.conftest import client_for
from tests.planning.conftest import CSV_OK, make_lessons

URL = "/s/lyceum-1/plans/"


def plan_url(assignment, suffix=""):
    return f"{URL}a/{assignment.pk}/{suffix}"


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("teacher", 200),
        ("class_teacher", 200),  # reads own class's plan
        ("deputy", 200),
        ("director", 200),
        ("admin", 200),
        ("other_teacher", 404),  # another teacher's plan
        ("student", 403),
        ("parent", 403),
        ("viewer", 403),
        ("foreign_admin", 404),  # another school
        ("anonymous", 302),
    ],
)
def test_who_opens_a_plan(world, assignment, persona, status):
    response = client_for(world.persona(persona)).get(plan_url(assignment))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [("class_teacher", 403), ("deputy", 403), ("other_teacher", 404), ("student", 403), ("foreign_teacher", 404)],
)
def test_only_the_teacher_imports(world, assignment, persona, status):
    upload = SimpleUploadedFile("p.csv", CSV_OK.encode(), content_type="text/csv")
    response = client_for(world.persona(persona)).post(plan_url(assignment, "import/"), {"file": upload})
    assert response.status_code == status
    assert not PlanTopic.objects.exists()


def test_import_page_shows_every_bad_row_and_changes_nothing(world, assignment):
    client = client_for(world.teacher)
    bad = SimpleUploadedFile("p.csv", b"topic,hours\n,1\nOk,zero\n", content_type="text/csv")
    response = client.post(plan_url(assignment, "import/"), {"file": bad})
    assert response.status_code == 422
    text = response.content.decode()
    assert "The topic is empty." in text and "Hours must be a whole number" in text
    assert not PlanTopic.objects.exists()
    good = SimpleUploadedFile("p.csv", CSV_OK.encode(), content_type="text/csv")
    assert client.post(plan_url(assignment, "import/"), {"file": good}).status_code == 302
    assert PlanTopic.objects.count() == 5


def test_plan_page_side_by_side_and_confirm(world, assignment):
    lessons = make_lessons(assignment, [dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    client = client_for(world.teacher)
    page = client.get(plan_url(assignment)).content.decode()
    assert "Natural numbers" in page and "suggested" in page
    response = client.post(plan_url(assignment, "confirm/"), {"all": "1"})
    assert response.status_code == 302
    lessons[0].refresh_from_db()
    assert lessons[0].topic == "Natural numbers"
    # The class teacher reads but cannot confirm another teacher's lessons.
    client_for(world.class_teacher).post(plan_url(assignment, "confirm/"), {"lesson": [lessons[1].pk]})
    lessons[1].refresh_from_db()
    assert lessons[1].topic == "Natural numbers"  # confirmed above by the teacher (all), unchanged since


def test_approval_by_deputy_only(world, assignment):
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    services.submit_plan(acting_user=world.teacher, assignment=assignment)
    assert client_for(world.teacher).post(plan_url(assignment, "approve/")).status_code == 403
    assert client_for(world.foreign_admin).post(plan_url(assignment, "approve/")).status_code == 404
    assert Plan.objects.get().status == PlanStatus.SUBMITTED
    assert client_for(world.deputy).post(plan_url(assignment, "approve/")).status_code == 302
    assert Plan.objects.get().status == PlanStatus.APPROVED


def test_status_page_lists_late_and_missing(world, assignment, other_assignment):
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    services.submit_plan(acting_user=world.teacher, assignment=assignment)
    response = client_for(world.deputy).get(f"{URL}status/")
    assert response.status_code == 200
    rows = {r.teacher: r for r in response.context["rows"]}
    assert rows[world.other_teacher].missing == 1
    assert rows[world.teacher].submitted == 1
    for persona, status in [("teacher", 403), ("student", 403), ("foreign_admin", 404)]:
        assert client_for(world.persona(persona)).get(f"{URL}status/").status_code == status
    # Setting the deadline: a deputy yes, bad date refused, nothing saved.
    client = client_for(world.deputy)
    assert client.post(f"{URL}status/", {"deadline": "2031-01-01"}).status_code == 422
    assert client.post(f"{URL}status/", {"deadline": "2026-09-12"}).status_code == 302
    assert services.deadline_for(world.school, assignment.year) == dt.date(2026, 9, 12)


def test_completion_page_constant_queries(world, assignment, django_assert_max_num_queries):
    client = client_for(world.deputy)
    make_lessons(assignment, [dt.date(2026, 9, 1)])
    client.get(f"{URL}completion/")  # the first request of a session costs more (login bookkeeping)
    with django_assert_max_num_queries(20) as small:
        assert client.get(f"{URL}completion/").status_code == 200
    for i in range(6):
        cls = f.SchoolClassFactory(year=world.class_a.year, year_level=world.class_a.year_level, name=f"6-{i}")
        a = f.make_assignment(f.make_member(world.school, "teacher"), cls, world.subject)
        make_lessons(a, [dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
        services.import_plan_file(acting_user=a.teacher, assignment=a, filename="p.csv", content=CSV_OK.encode())
    with django_assert_max_num_queries(len(small.captured_queries)) as big:
        response = client.get(f"{URL}completion/")
    assert len(response.context["rows"]) == 8
    assert len(big.captured_queries) == len(small.captured_queries)
    assert client.get(f"{URL}completion/?teacher={world.teacher.pk}").context["rows"][0].assignment == assignment


def test_template_and_export_downloads(world, assignment):
    client = client_for(world.teacher)
    assert client.get(f"{URL}template.xlsx").status_code == 200
    assert client.get(f"{URL}template.csv").content.startswith("\ufeff".encode())
    assert client.get(f"{URL}template.pdf").status_code == 404
    assert client.get(plan_url(assignment, "plan.csv")).status_code == 200
    assert client_for(world.student.user).get(f"{URL}template.csv").status_code == 403


def test_base_pages(world, assignment):
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    shared = services.publish_plan(acting_user=world.teacher, assignment=assignment, title="Maths 5")
    assert "Maths 5" in client_for(world.other_teacher).get(f"{URL}base/").content.decode()
    assert client_for(world.other_teacher).get(f"{URL}base/{shared.pk}/").status_code == 200
    assert client_for(world.foreign_admin).get(f"{URL}base/{shared.pk}/").status_code == 404
    assert client_for(world.parent).get(f"{URL}base/").status_code == 403


# --- API ---------------------------------------------------------------------------------------------

API = "/api/v1/schools/lyceum-1/plans"


def test_api_import_copy_bind_read(world, assignment):
    client = client_for(world.teacher)
    make_lessons(assignment, [dt.date(2026, 9, 1), dt.date(2026, 9, 2), dt.date(2026, 9, 3)])
    bad = client.post(
        f"{API}/assignments/{assignment.pk}/import", {"file": SimpleUploadedFile("p.csv", b"topic,hours\nA,-1\n")}
    )
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["code"] == "import_invalid" and body["rows"] == [
        {"row": 2, "column": "hours", "message": "Hours must be a whole number of 1 or more, not “-1”."}
    ]
    ok = client.post(
        f"{API}/assignments/{assignment.pk}/import", {"file": SimpleUploadedFile("p.csv", CSV_OK.encode())}
    )
    assert ok.status_code == 200, ok.content
    data = ok.json()
    assert data["total_hours"] == 7 and data["slots"][0]["state"] in {"suggested", "future"}
    assert client.post(f"{API}/assignments/{assignment.pk}/bind").json()["bound"] == 3
    assert [p["assignment_id"] for p in client.get(API).json()["items"]] == [assignment.pk]
    parallel = f.make_assignment(world.other_teacher, world.class_b, world.subject)
    source = Plan.objects.get(assignment=assignment)
    other = client_for(world.other_teacher)
    copied = other.post(
        f"{API}/assignments/{parallel.pk}/copy", {"source_plan_id": source.pk}, content_type="application/json"
    )
    assert copied.status_code == 200 and len(copied.json()["topics"]) == 5
    unknown = other.post(
        f"{API}/assignments/{parallel.pk}/copy", {"source_plan_id": 999999}, content_type="application/json"
    )
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("other_teacher", 404),
        ("deputy", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),
        ("anonymous", 401),
    ],
)
def test_api_refuses_others(world, assignment, persona, status):
    response = client_for(world.persona(persona)).post(
        f"{API}/assignments/{assignment.pk}/import", {"file": SimpleUploadedFile("p.csv", CSV_OK.encode())}
    )
    assert response.status_code == status
    assert not PlanTopic.objects.exists()


def test_api_completion_and_scope(world, assignment, other_assignment):
    rows = client_for(world.deputy).get(f"{API}/completion").json()["items"]
    assert {r["assignment_id"] for r in rows} == {assignment.pk, other_assignment.pk}
    mine = client_for(world.teacher).get(f"{API}/completion").json()["items"]
    assert [r["assignment_id"] for r in mine] == [assignment.pk]
    assert client_for(world.student.user).get(f"{API}/completion").status_code == 403
    assert client_for(world.foreign_admin).get(f"{API}/completion").status_code == 404
    assert client_for(world.teacher).get(f"{API}/assignments/{other_assignment.pk}").status_code == 404


def test_substitute_opens_the_plan_and_confirms_only_the_lesson_they_gave(world, assignment):
    from classbook.journal.models import Lesson

    given, other = make_lessons(assignment, [dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    Lesson.objects.filter(pk=given.pk).update(conducted_by=world.other_teacher)
    client = client_for(world.other_teacher)
    assert client.get(plan_url(assignment)).status_code == 200
    assert (
        client.post(plan_url(assignment, "import/"), {"file": SimpleUploadedFile("p.csv", b"topic\nX\n")}).status_code
        == 403
    )
    client.post(plan_url(assignment, "confirm/"), {"lesson": [other.pk]})
    client.post(plan_url(assignment, "confirm/"), {"lesson": [given.pk]})
    given.refresh_from_db()
    other.refresh_from_db()
    assert (given.topic, other.topic) == ("Natural numbers", "")


def test_journal_grid_fills_in_the_plans_topic_until_a_topic_is_entered(world, assignment):
    f.PeriodFactory(year=assignment.year)
    first, _second = make_lessons(assignment, [dt.date(2026, 9, 1), dt.date(2026, 9, 2)])
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    services.confirm_topics(acting_user=world.teacher, lessons=[first])
    grid = f"/s/lyceum-1/journal/{assignment.pk}/?all=1"
    page = client_for(world.teacher).get(grid).content.decode()
    # The second lesson: the plan's topic is filled in, to keep or change (issue 14), marked as the plan's.
    second_topic = re.search(rf'id="topic-{_second.pk}"[^>]*>', page).group(0)
    assert 'value="Natural numbers"' in second_topic and 'class="from-plan"' in second_topic
    first_topic = re.search(rf'id="topic-{first.pk}"[^>]*>', page).group(0)
    assert 'value="Natural numbers"' in first_topic and "from-plan" not in first_topic  # confirmed: its own
    # "№ з/п" is the running number in the subject; homework is due at the next lesson by default.
    assert sorted(re.findall(r'class="running"[^>]*>[^<]*?(\d+)</span>', page)) == ["1", "2"]
    first_form = page[page.index(f'id="lesson-{first.pk}"') :]
    assert re.search(r'name="homework_due" value="([\d-]*)"', first_form).group(1) == "2026-09-02"
    read_only = client_for(world.deputy).get(grid).content.decode()
    assert "plan: Natural numbers" in read_only


def test_api_sources_submit_approve_and_foreign_plan(world, assignment):
    parallel = f.make_assignment(world.other_teacher, world.class_b, world.subject)
    services.import_plan_file(
        acting_user=world.other_teacher, assignment=parallel, filename="p.csv", content=CSV_OK.encode()
    )
    foreign_assignment = f.make_assignment(world.foreign_teacher, world.foreign_class)
    services.import_plan_file(
        acting_user=world.foreign_teacher, assignment=foreign_assignment, filename="p.csv", content=CSV_OK.encode()
    )
    foreign_plan = Plan.objects.get(assignment=foreign_assignment)
    client = client_for(world.teacher)
    sources = client.get(f"{API}/assignments/{assignment.pk}/sources").json()["items"]
    assert [(s["plan_id"], s["topics"]) for s in sources] == [(Plan.objects.get(assignment=parallel).pk, 5)]
    copy = client.post(
        f"{API}/assignments/{assignment.pk}/copy", {"source_plan_id": foreign_plan.pk}, content_type="application/json"
    )
    assert copy.status_code == 404
    assert client.post(f"{API}/assignments/{assignment.pk}/submit").status_code == 422  # no topics yet
    client.post(
        f"{API}/assignments/{assignment.pk}/copy",
        {"source_plan_id": sources[0]["plan_id"]},
        content_type="application/json",
    )
    assert client.post(f"{API}/assignments/{assignment.pk}/submit").json()["status"] == "submitted"
    assert client.post(f"{API}/assignments/{assignment.pk}/approve").status_code == 403
    assert client_for(world.foreign_admin).post(f"{API}/assignments/{assignment.pk}/approve").status_code == 404
    assert client_for(world.deputy).post(f"{API}/assignments/{assignment.pk}/approve").json()["status"] == "approved"
    stale = client.post(
        f"{API}/assignments/{assignment.pk}/copy",
        {"source_plan_id": sources[0]["plan_id"], "expected_version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409


@pytest.mark.parametrize(
    ("persona", "status", "sees"),
    [
        ("teacher", 200, ["Математика"]),
        ("class_teacher", 200, ["Математика"]),
        ("other_teacher", 200, ["Історія"]),
        ("deputy", 200, ["Математика", "Історія"]),
        ("student", 403, []),
        ("parent", 403, []),
        ("viewer", 403, []),
        ("secretary", 403, []),
        ("foreign_admin", 404, []),
    ],
)
def test_plans_index(world, persona, status, sees):
    response = client_for(world.persona(persona)).get(URL)
    assert response.status_code == status
    if status == 200:
        shown = {r["assignment"].subject.name for r in [*response.context["mine"], *response.context["others"]]}
        assert shown == set(sees)


def test_unknown_filters_are_refused_with_a_message(world, assignment):
    page = client_for(world.deputy).get(f"{URL}completion/?teacher=999999")
    assert page.status_code == 422 and "Select a valid choice" in page.content.decode()
    assert page.context["rows"] == []
    foreign = client_for(world.deputy).get(f"{URL}completion/?school_class={world.foreign_class.pk}")
    assert foreign.status_code == 422
    api = client_for(world.deputy)
    body = api.get(f"{API}/completion?teacher_id=999999").json()["error"]
    assert body["fields"] == {"teacher_id": ["Unknown teacher."]}
    assert api.get(f"{API}/completion?class_id={world.foreign_class.pk}").status_code == 422
    assert api.get(f"{API}/completion?subject_id=999999").status_code == 422
    assert api.get(f"{API}/completion?as_of=not-a-date").status_code == 422
    ok = api.get(f"{API}/completion?teacher_id={world.teacher.pk}").json()["items"]
    assert [r["assignment_id"] for r in ok] == [assignment.pk]


def test_plan_page_in_every_state(world, assignment):
    make_lessons(assignment, [dt.date(2026, 9, d) for d in range(1, 12)])
    deputy, teacher = client_for(world.deputy), client_for(world.teacher)
    assert "The plan has no topics yet." in teacher.get(plan_url(assignment)).content.decode()
    services.import_plan_file(
        acting_user=world.teacher, assignment=assignment, filename="p.csv", content=CSV_OK.encode()
    )
    assert "Submit for approval" in teacher.get(plan_url(assignment)).content.decode()
    services.submit_plan(acting_user=world.teacher, assignment=assignment)
    page = deputy.get(plan_url(assignment)).content.decode()
    assert "Approve" in page and "Return to the teacher" in page and "Submit for approval" not in page
    assert deputy.post(plan_url(assignment, "return/"), {"note": ""}).status_code == 302  # refused with a message
    assert Plan.objects.get().status == PlanStatus.SUBMITTED
    deputy.post(plan_url(assignment, "return/"), {"note": "Add the revision lessons"})
    page = teacher.get(plan_url(assignment)).content.decode()
    assert "Add the revision lessons" in page
    assert "beyond the plan" in page  # 11 lessons, 7 planned hours


def test_deadline_field_shows_the_current_deadline(world, assignment):
    page = client_for(world.deputy).get(f"{URL}status/").content.decode()
    assert 'value="2026-09-10"' in page  # a date input needs the ISO form to show it
