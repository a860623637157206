"""Who reads which document, through every door (scope, pages, API), and who manages them (R8.3).

The tables try to break the rule: another school, a role the document is not published to, a student, a
parent, a read-only authority viewer, an anonymous visitor."""

from __future__ import annotations

import pytest

from classbook.access import documents as rules
from classbook.documents import services
from classbook.documents.models import Document
from tests.conftest import client_for
from tests.documents.conftest import fetch, pdf

VISIBLE = {
    "admin": {"teachers", "parents", "draft"},
    "director": {"teachers", "parents", "draft"},
    "deputy": {"teachers", "parents", "draft"},
    "secretary": {"teachers", "parents", "draft"},
    "teacher": {"teachers"},
    "class_teacher": {"teachers"},
    "student": set(),
    "parent": {"parents"},
    "other_parent": {"parents"},
    "viewer": set(),
}


def _names(docs, documents):
    by_pk = {getattr(docs, n).pk: n for n in ("teachers", "parents", "draft", "foreign")}
    return {by_pk[d.pk] for d in documents}


@pytest.mark.parametrize(("persona", "visible"), list(VISIBLE.items()))
def test_readable_documents_by_persona(world, docs, ctx_of, persona, visible):
    assert _names(docs, rules.readable_documents(ctx_of(persona))) == visible
    versions = rules.readable_versions(ctx_of(persona))
    assert {v.document_id for v in versions} == {getattr(docs, n).pk for n in visible}


# persona -> (index, detail of the teachers' document, its current version's download, catalogue)
PAGES = {
    "director": (200, 200, 200, 200),
    "secretary": (200, 200, 200, 200),
    "teacher": (200, 200, 200, 200),
    "student": (200, 404, 404, 403),
    "parent": (200, 404, 404, 403),
    "viewer": (403, 403, 403, 403),
    "foreign_admin": (404, 404, 404, 404),
}


@pytest.mark.parametrize("persona", list(PAGES))
def test_who_opens_which_page(world, docs, persona):
    client = client_for(world.persona(persona))
    base = f"/s/{world.school.slug}/documents/"
    urls = [
        base,
        f"{base}{docs.teachers.pk}/",
        f"{base}versions/{docs.teachers.current_version_id}/download/",
        f"{base}resources/",
    ]
    assert tuple(fetch(client, u)[0] for u in urls) == PAGES[persona]


def test_anonymous_visitor_goes_to_login(world, docs):
    client = client_for(None)
    for url in ("", f"{docs.teachers.pk}/", f"versions/{docs.teachers.current_version_id}/download/", "resources/"):
        response = client.get(f"/s/{world.school.slug}/documents/{url}")
        assert response.status_code == 302 and "/login" in response["Location"]


def test_another_schools_document_is_not_found_in_our_school(world, docs, as_user):
    client = as_user(world.admin)
    base = f"/s/{world.school.slug}/documents/"
    assert client.get(f"{base}{docs.foreign.pk}/").status_code == 404
    assert client.get(f"{base}versions/{docs.foreign.current_version_id}/download/").status_code == 404
    api = f"/api/v1/schools/{world.school.slug}/documents"
    assert client.get(f"{api}/{docs.foreign.pk}/download").status_code == 404
    assert client.get(f"{api}/versions/{docs.foreign.current_version_id}/download").status_code == 404


@pytest.mark.parametrize(
    ("persona", "titles"),
    [
        ("teacher", ["For teachers"]),
        ("parent", ["For parents"]),
        ("student", []),
        ("director", ["Draft", "For parents", "For teachers"]),
    ],
)
def test_api_lists_what_the_caller_may_read(world, docs, persona, titles, django_assert_max_num_queries):
    client = client_for(world.persona(persona))
    with django_assert_max_num_queries(8):
        body = client.get(f"/api/v1/schools/{world.school.slug}/documents?sort=title").json()
    assert [d["title"] for d in body["items"]] == titles
    for item in body["items"]:
        assert fetch(client, item["download_url"]) == (200, b"%PDF-1.4 regulations")


@pytest.mark.parametrize(
    ("persona", "status"), [("parent", 404), ("student", 404), ("foreign_admin", 404), ("anonymous", 401)]
)
def test_api_download_refused_to_those_it_is_not_published_to(world, docs, persona, status):
    client = client_for(world.persona(persona))
    assert (
        client.get(f"/api/v1/schools/{world.school.slug}/documents/{docs.teachers.pk}/download").status_code == status
    )


@pytest.mark.parametrize("persona", ["teacher", "student", "parent", "viewer"])
def test_only_managers_write_and_a_refusal_changes_nothing(world, docs, persona):
    client = client_for(world.persona(persona))
    base = f"/s/{world.school.slug}/documents/"
    before = list(Document.objects.values_list("pk", "title", "current_version_id", "for_students"))
    new = client.post(f"{base}new/", {"title": "X", "kind": "order", "file": pdf()})
    version = client.post(f"{base}{docs.teachers.pk}/versions/", {"file": pdf()})
    edit = client.post(f"{base}{docs.teachers.pk}/", {"title": "X", "kind": "order", "audiences": ["students"]})
    assert {new.status_code, version.status_code, edit.status_code} <= {403, 404}
    assert list(Document.objects.values_list("pk", "title", "current_version_id", "for_students")) == before


def test_index_costs_the_same_for_more_documents(world, docs, as_user, django_assert_max_num_queries):
    url = f"/s/{world.school.slug}/documents/"
    client = as_user(world.director)
    client.get(url)
    for n in range(3):
        services.create_document(
            acting_user=world.deputy, school=world.school, title=f"More {n}", kind="other", upload=pdf()
        )
    with django_assert_max_num_queries(8):
        page = client.get(url)
    assert page.content.decode().count("/download/") == 6
