"""Who reads, downloads, builds, verifies and destroys archives: a role × relationship table that tries to
break every rule (other school, other class, teacher, secretary, student, parent, viewer, anonymous), through
the pages and the API, which refuse the same people."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.archive import services
from classbook.archive.models import ArchiveBuild, ArchiveKind, DocumentKind

PERSONAS = [
    "admin",
    "director",
    "deputy",
    "class_teacher",
    "teacher",
    "secretary",
    "student",
    "parent",
    "viewer",
    "foreign_admin",
    "anonymous",
]
# Archives each persona reads: all, 5-А's only (the class teacher of 5-А), none.
READS = {"admin": "all", "director": "all", "deputy": "all", "class_teacher": "a"}
BUILDS = {"admin", "director", "deputy"}


@pytest.fixture
def archives(world, pdf):
    from tests.archive.conftest import new_build

    made = new_build(world)
    return {
        key: services.append_record(
            build=made,
            school_class=school_class,
            kind=ArchiveKind.YEAR,
            document=DocumentKind.SUMMARY,
            start=made.start,
            end=made.end,
            period=None,
            filename=f"summary-{key}.pdf",
            content=pdf,
            signed=False,
        )
        for key, school_class in (("a", world.class_a), ("b", world.class_b))
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_reads_and_downloads_which_archives(world, archives, as_user, persona):
    client = as_user(world.persona(persona))
    slug = world.school.slug
    reads = READS.get(persona)
    page = client.get(f"/s/{slug}/archive/")
    listed = client.get(f"/api/v1/schools/{slug}/archives")
    file_a = client.get(f"/s/{slug}/archive/{archives['a'].pk}/file")
    file_b = client.get(f"/api/v1/schools/{slug}/archives/{archives['b'].pk}/file")
    contents = {}
    for key, response in (("a", file_a), ("b", file_b)):
        if response.streaming:  # read to the end: the test client then closes the file (and not the database)
            contents[key] = b"".join(response.streaming_content)
    if persona == "anonymous":
        assert page.status_code == 302 and listed.status_code == 401
        return
    if reads is None:
        assert page.status_code in (403, 404) and listed.status_code in (403, 404)
        assert file_a.status_code in (403, 404) and file_b.status_code in (403, 404)
        return
    assert page.status_code == 200 and listed.status_code == 200
    numbers = {item["number"] for item in listed.json()["items"]}
    assert numbers == ({1, 2} if reads == "all" else {1})
    assert file_a.status_code == 200 and file_a["Content-Type"] == "application/pdf"
    with open(archives["a"].file.path, "rb") as handle:
        assert contents["a"] == handle.read()
    assert file_b.status_code == (200 if reads == "all" else 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_builds_and_verifies(world, as_user, persona):
    from tests.archive.conftest import new_build

    client = as_user(world.persona(persona))
    slug = world.school.slug
    finished = new_build(world)
    ArchiveBuild.objects.filter(pk=finished.pk).update(status="done")
    # Trying a build again: past the permission check only for those who may build (409: it did not fail).
    again = client.post(f"/api/v1/schools/{slug}/archives/builds/{finished.pk}/retry")
    again_page = client.post(f"/s/{slug}/archive/builds/{finished.pk}/retry/")
    verified = client.get(f"/s/{slug}/archive/verify/")
    # A semester without its semester: past the permission check only for those who may build (422).
    started = client.post(
        f"/api/v1/schools/{slug}/archives/builds", data={"kind": "semester"}, content_type="application/json"
    )
    page = client.post(f"/s/{slug}/archive/build/", {"kind": "semester"})
    if persona in BUILDS:
        assert verified.status_code == 200 and b'data-verified="ok"' in verified.content
        assert started.status_code == 422 and started.json()["error"]["code"] == "invalid_period"
        assert page.status_code == 302
        assert again.status_code == 409 and again.json()["error"]["code"] == "not_failed"
        assert again_page.status_code == 302
    else:
        assert verified.status_code in (302, 403, 404)
        assert started.status_code in (401, 403, 404)
        assert page.status_code in (302, 403, 404)
        assert again.status_code in (401, 403, 404) and again_page.status_code in (302, 403, 404)
    assert list(ArchiveBuild.objects.values_list("status", flat=True)) == ["done"]


def test_build_now_answers_202_with_the_builds_location_and_its_progress(world, data, as_user):
    client = as_user(world.deputy)
    slug = world.school.slug
    with time_machine.travel(dt.datetime(2026, 10, 9, 15, 0, tzinfo=dt.UTC)):
        started = client.post(
            f"/api/v1/schools/{slug}/archives/builds", data={"kind": "weekly"}, content_type="application/json"
        )
        assert started.status_code == 202, started.content
        state = client.get(started["Location"]).json()
        items = client.get(f"/api/v1/schools/{slug}/archives").json()["items"]
    body = started.json()
    assert started["Location"] == f"/api/v1/schools/{slug}/archives/builds/{body['id']}"
    assert (body["start"], body["end"]) == ("2026-10-03", "2026-10-09")
    assert (state["status"], state["done"], state["total"], state["percent"]) == ("done", 2, 2, 100)
    assert [(i["number"], i["kind"], i["class_name"]) for i in items] == [(2, "weekly", "5-Б"), (1, "weekly", "5-А")]


def test_another_schools_admin_never_sees_the_archives_even_by_id(world, archives, as_user):
    client = as_user(world.foreign_admin)
    other = world.other_school.slug
    assert client.get(f"/api/v1/schools/{other}/archives").json()["count"] == 0
    assert client.get(f"/api/v1/schools/{other}/archives/{archives['a'].pk}").status_code == 404
    assert client.get(f"/api/v1/schools/{other}/archives/{archives['a'].pk}/file").status_code == 404
