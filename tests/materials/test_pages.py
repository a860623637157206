"""The materials pages and the diary (R8.1): publish through the form, search, download, the quota form,
materials next to the lesson in the diary; constant query counts."""

from __future__ import annotations

from classbook.materials.models import Material
from tests.conftest import client_for
from tests.materials.conftest import PDF, TODAY, lesson_of, pdf, publish


def _url(world, path=""):
    return f"/s/{world.school.slug}/materials/{path}"


def test_a_teacher_publishes_a_file_to_a_lesson_and_the_family_finds_it(world):
    lesson = lesson_of(world)
    client = client_for(world.teacher)
    assert client.get(_url(world, "new/")).status_code == 200
    response = client.post(
        _url(world, "new/"),
        {"title": "Самостійна 1", "kind": "task", "audience": "lesson", "lesson": lesson.pk, "file": pdf()},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    material = Material.objects.get()
    assert material.lesson_id == lesson.pk and material.school_class_id == world.class_a.pk

    family = client_for(world.parent)
    page = family.get(_url(world)).content.decode()
    assert "Самостійна 1" in page
    download = family.get(_url(world, f"{material.pk}/file/"))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF
    assert client_for(world.other_parent).get(_url(world, f"{material.pk}/file/")).status_code == 404

    week = family.get(f"/s/{world.school.slug}/diary/{world.student.pk}/week/{TODAY.isoformat()}/")
    assert week.status_code == 200
    html = week.content.decode()
    assert "Самостійна 1" in html and f"/materials/{material.pk}/file/" in html


def test_the_form_shows_a_refused_file_with_its_reason(world):
    client = client_for(world.teacher)
    response = client.post(
        _url(world, "new/"),
        {"title": "x", "kind": "task", "audience": "library", "file": pdf("x.pdf", b"<html>hi</html>")},
    )
    assert response.status_code == 200 and "cannot be attached" in response.content.decode()
    assert not Material.objects.exists()


def test_search_by_title_subject_and_year_level(world):
    publish(world, title="Дроби", subject=world.subject)
    publish(world, title="Вірші", audience="class", school_class=world.class_a)
    client = client_for(world.student.user)
    page = client.get(_url(world), {"q": "дроб"}).content.decode()
    assert "Дроби" in page and "Вірші" not in page
    page = client.get(_url(world), {"subject": world.subject.pk}).content.decode()
    assert "Дроби" in page and "Вірші" not in page
    page = client.get(_url(world), {"year_level": world.class_a.year_level_id}).content.decode()
    assert "Вірші" in page and "Дроби" not in page
    assert client.get(_url(world), {"subject": "x", "page": "zz", "q": "a\x00"}).status_code == 200  # no 500


def test_the_list_has_a_constant_query_count(world, django_assert_max_num_queries):
    client = client_for(world.teacher)
    client.get(_url(world))
    for n in (1, 15):
        for i in range(n):
            publish(world, title=f"m{n}-{i}", audience="class", school_class=world.class_a)
        with django_assert_max_num_queries(10):
            assert client.get(_url(world)).status_code == 200


def test_edit_withdraw_and_quota_forms(world):
    material = publish(world)
    teacher = client_for(world.teacher)
    assert teacher.post(_url(world, f"{material.pk}/"), {"title": "Нове", "kind": "exercise"}).status_code == 302
    assert teacher.post(_url(world, f"{material.pk}/withdraw/")).status_code == 302
    material.refresh_from_db()
    assert material.title == "Нове" and material.withdrawn_at is not None

    director = client_for(world.director)
    assert "Storage quota" in director.get(_url(world)).content.decode()
    assert director.post(_url(world, "quota/"), {"quota_mb": "abc"}).status_code == 302
    assert director.post(_url(world, "quota/"), {"quota_mb": "42"}).status_code == 302
    assert "of 42 MB" in teacher.get(_url(world)).content.decode()
    assert teacher.post(_url(world, "quota/"), {"quota_mb": "1"}).status_code == 403
