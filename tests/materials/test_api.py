"""The materials API (R8.1): the caller's list with filters, publishing for teachers (multipart), withdrawal,
download; structured errors."""

from __future__ import annotations

from classbook.materials.models import Material
from tests.conftest import client_for
from tests.materials.conftest import lesson_of, pdf, publish


def _url(world, path=""):
    return f"/api/v1/schools/{world.school.slug}/materials{path}"


def test_list_for_the_caller_and_create_for_teachers(world, django_assert_max_num_queries):
    publish(world, title="Бібліотека")
    publish(world, "other_teacher", title="5-Б", audience="class", school_class=world.class_b)
    student = client_for(world.student.user)
    student.get(_url(world))  # the session's bookkeeping, once
    with django_assert_max_num_queries(5):  # session, staff-idle check, school and context, the page
        body = student.get(_url(world)).json()
    assert [m["title"] for m in body["items"]] == ["Бібліотека"] and body["count"] == 1

    refused = student.post(_url(world), {"title": "x", "kind": "task", "audience": "library", "url": "https://a.b"})
    assert refused.status_code == 403

    teacher = client_for(world.teacher)
    lesson = lesson_of(world)
    created = teacher.post(
        _url(world), {"title": "Тест", "kind": "test", "audience": "lesson", "lesson": lesson.pk, "file": pdf()}
    )
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["school_class"] == world.class_a.pk and out["file"]["name"] == "test.pdf"
    download = student.get(out["file"]["url"])
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert client_for(world.other_student.user).get(out["file"]["url"]).status_code == 404

    week = student.get(f"/api/v1/schools/{world.school.slug}/diary/{world.student.pk}/week").json()
    lessons = [lesson for day in week["days"] for lesson in day["lessons"] if lesson["materials"]]
    assert [m["title"] for m in lessons[0]["materials"]] == ["Тест"]
    assert lessons[0]["materials"][0]["url"] == f"/s/{world.school.slug}/materials/{out['id']}/file/"

    other_class = teacher.post(
        _url(world),
        {"title": "x", "kind": "task", "audience": "class", "school_class": world.class_b.pk, "url": "https://a.b"},
    )
    assert other_class.status_code == 403 and other_class.json()["error"]["code"] == "forbidden"
    bad = teacher.post(_url(world), {"title": "x", "kind": "task", "audience": "library", "url": "javascript:1"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_url"
    html = teacher.post(
        _url(world), {"title": "x", "kind": "task", "audience": "library", "file": pdf("a.pdf", b"<html>x</html>")}
    )
    assert html.status_code == 422 and html.json()["error"]["code"] == "invalid_file_type"
    assert Material.objects.count() == 3

    filtered = teacher.get(_url(world), {"audience": "lesson", "q": "тест"}).json()
    assert [m["title"] for m in filtered["items"]] == ["Тест"]
    assert teacher.get(_url(world), {"sort": "nonsense"}).status_code == 422

    assert client_for(world.other_teacher).post(_url(world, f"/{out['id']}/withdraw")).status_code == 404
    assert teacher.post(_url(world, f"/{out['id']}/withdraw")).status_code == 204
    assert student.get(out["file"]["url"]).status_code == 404
    assert client_for(world.foreign_admin).get(_url(world)).status_code == 404
    assert client_for(None).get(_url(world)).status_code == 401
