"""The school's OneRoster page (issue 13) and the navigation to it and to the book of orders: who opens them
(the API's rules, tried with another school, a teacher, a parent, a student, anonymous), the export download,
the import's all-or-nothing report by file and row, the platforms' credentials (secret shown once, revoke)."""

from __future__ import annotations

import base64
import csv
import io
import zipfile

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from classbook.access.context import resolve_school
from classbook.core.models import AuditEntry
from classbook.oneroster import csvzip, services
from classbook.oneroster.models import SCOPE_GRADEBOOK, SCOPE_ROSTER_CORE, AccessToken, Client
from classbook.people.models import Role
from classbook.schools.models import SchoolClass
from tests import factories as f

# (persona, the page and the export, the platforms' form, the OneRoster link, the book of orders' link)
TABLE = [
    ("director", 200, 200, True, True),
    ("admin", 200, 403, True, True),
    ("deputy", 403, 403, False, True),
    ("secretary", 403, 403, False, True),
    ("teacher", 403, 403, False, False),
    ("class_teacher", 403, 403, False, False),
    ("student", 403, 403, False, False),
    ("parent", 403, 403, False, False),
    ("viewer", 403, 403, False, True),  # the authority viewer reads orders, exchanges nothing
    ("foreign_admin", 404, 404, None, None),  # another school's administrator: not even the school's existence
    ("foreign_student", 404, 404, None, None),
    ("anonymous", 302, 302, None, None),  # to the login page
]


def _url(world, name: str) -> str:
    return reverse(f"oneroster_pages:{name}", kwargs={"school": world.school.slug})


@pytest.mark.parametrize(("persona", "page", "clients", "link", "orders"), TABLE)
def test_the_page_and_its_links_follow_the_oneroster_rules(world, as_user, persona, page, clients, link, orders):
    client = as_user(world.persona(persona))
    before = (Client.objects.count(), AuditEntry.objects.count())
    assert client.get(_url(world, "index")).status_code == page
    exported = client.get(_url(world, "export"))
    assert exported.status_code == page
    if page == 200:
        assert exported["Content-Type"] == "application/zip"
        assert zipfile.ZipFile(io.BytesIO(exported.content)).read("manifest.csv")
        before = (before[0], before[1] + 1)  # the export is audited
    register = client.post(_url(world, "clients"), {"name": "LMS", "scopes": [SCOPE_ROSTER_CORE]})
    assert register.status_code == clients
    if clients != 200:
        assert (Client.objects.count(), AuditEntry.objects.count()) == before
    if link is not None:
        nav = render_to_string("_nav.html", {"ctx": resolve_school(world.persona(persona), world.school.slug)})
        assert (_url(world, "index") in nav) is link
        assert (reverse("records:orders", kwargs={"school": world.school.slug}) in nav) is orders


def test_the_director_registers_a_platform_sees_the_secret_once_and_revokes_it(
    world, as_user, django_assert_max_num_queries
):
    director = as_user(world.director)
    answer = director.post(_url(world, "clients"), {"name": "Moodle", "scopes": [SCOPE_ROSTER_CORE, SCOPE_GRADEBOOK]})
    assert answer.status_code == 200
    registered = Client.objects.get(school=world.school, name="Moodle")
    secret = answer.context["secret"]
    assert secret in answer.content.decode() and registered.client_id in answer.content.decode()
    assert registered.secret_hash != secret and registered.scopes == sorted([SCOPE_ROSTER_CORE, SCOPE_GRADEBOOK])
    # The secret works for a token, and the page lists the platform without it.
    basic = base64.b64encode(f"{registered.client_id}:{secret}".encode()).decode()
    token = as_user(None).post(
        "/ims/oneroster/oauth2/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert token.status_code == 200 and AccessToken.objects.filter(client=registered).count() == 1
    services.register_client(acting_user=world.director, school=world.school, name="Другий", scopes=[SCOPE_GRADEBOOK])
    with django_assert_max_num_queries(12):  # constant: the platforms are one query
        page = director.get(_url(world, "index")).content.decode()
    assert "Moodle" in page and "Другий" in page and secret not in page
    # Bad input: a translated message, nothing registered.
    refused = director.post(_url(world, "clients"), {"name": "", "scopes": [SCOPE_ROSTER_CORE]})
    assert refused.status_code == 400 and Client.objects.filter(school=world.school).count() == 2
    assert director.post(_url(world, "clients"), {"name": "X", "scopes": ["made-up"]}).status_code == 400
    # Another school's platform cannot be revoked from here; ours can, and its tokens end.
    foreign = services.register_client(
        acting_user=world.foreign_admin, school=world.other_school, name="LMS", scopes=[SCOPE_ROSTER_CORE]
    )
    assert director.post(_url(world, "clients"), {"action": "revoke", "client": foreign.client.pk}).status_code == 404
    revoked = director.post(_url(world, "clients"), {"action": "revoke", "client": registered.pk})
    assert revoked.status_code == 302
    registered.refresh_from_db()
    foreign.client.refresh_from_db()
    assert registered.revoked_at is not None and foreign.client.revoked_at is None
    assert not AccessToken.objects.filter(client=registered).exists()
    assert director.post(_url(world, "clients"), {"action": "revoke", "client": registered.pk}).status_code == 400


def _zip(files: dict[str, list[list[str]]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{name}.csv", csvzip.to_csv(data[0], data[1:]))
    buffer.seek(0)
    buffer.name = "school.zip"
    return buffer


def test_the_import_lists_every_bad_row_and_saves_nothing_then_imports_a_good_package(world, as_user):
    exported = services.export_package(acting_user=world.director, school=world.school, gradebook=False)
    zf = zipfile.ZipFile(io.BytesIO(exported))
    files = {i.filename[:-4]: list(csv.reader(io.StringIO(zf.read(i).decode()))) for i in zf.infolist()}
    target = f.SchoolFactory(slug="target-school")
    director = as_user(f.make_member(target, Role.DIRECTOR))
    url = reverse("oneroster_pages:index", kwargs={"school": target.slug})
    header = files["users"][0]
    good_name = files["users"][2][header.index("givenName")]
    files["users"][2][header.index("givenName")] = ""
    files["users"][3][header.index("enabledUser")] = "yes"
    refused = director.post(url, {"file": _zip(files)})
    assert refused.status_code == 422
    assert [(e["file"], e["row"]) for e in refused.context["errors"]] == [("users.csv", 3), ("users.csv", 4)]
    assert "users.csv" in refused.content.decode()
    assert not SchoolClass.objects.filter(school=target).exists()
    # Not a zip, no file: a translated message, nothing saved.
    junk = io.BytesIO(b"junk")
    junk.name = "junk.zip"
    assert director.post(url, {"file": junk}).status_code == 400
    assert director.post(url, {}).status_code == 400
    assert not SchoolClass.objects.filter(school=target).exists()
    # The corrected package goes in whole.
    files["users"][2][header.index("givenName")] = good_name
    files["users"][3][header.index("enabledUser")] = "true"
    done = director.post(url, {"file": _zip(files)})
    assert done.status_code == 302
    assert set(SchoolClass.objects.filter(school=target).values_list("name", flat=True)) >= {"5-А", "5-Б"}


def test_a_delta_export_from_the_page_and_a_bad_date_refused(world, as_user):
    director = as_user(world.director)
    delta = director.get(_url(world, "export"), {"since": "2020-01-01T00:00"})
    assert delta.status_code == 200 and "delta" in delta["Content-Disposition"]
    manifest = zipfile.ZipFile(io.BytesIO(delta.content)).read("manifest.csv").decode()
    assert "delta" in manifest
    before = AuditEntry.objects.count()
    assert director.get(_url(world, "export"), {"since": "yesterday"}).status_code == 302
    assert AuditEntry.objects.count() == before  # nothing exported
