"""OneRoster 1.2 (issue 13): CSV export checked column by column, delta, round trip, all-or-nothing import,
and the REST provider's access rules (another school's client, expired token, wrong scope, no token, paging)."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import zipfile

import pytest
from django.utils import timezone

from classbook.journal.models import Lesson, Mark, WorkType
from classbook.oneroster import csvzip, rows, services, spec
from classbook.oneroster.ids import Ids
from classbook.oneroster.models import SCOPE_GRADEBOOK, SCOPE_ROSTER_CORE, AccessToken, Client
from classbook.people.models import Consent, ConsentPurpose, Enrolment, Membership, Role, Student
from classbook.schools.models import AcademicYear, ScaleValue, SchoolClass, TeachingAssignment
from tests import factories as f

ROSTER = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"


def _seed(world) -> None:
    """The small school's extras: a semester, a consent, a subgroup lesson's marks."""
    f.PeriodFactory(year=world.class_a.year)
    Consent.objects.create(
        school=world.school,
        student=world.student,
        purpose=ConsentPurpose.PERSONAL_DATA,
        given_by="Мати",
        given_on=dt.date(2026, 9, 1),
        recorded_by=world.director,
    )
    assignment = TeachingAssignment.objects.get(teacher=world.teacher)
    work = WorkType.objects.create(school=world.school, code="current", name="Поточна", weight=1)
    lesson = Lesson.objects.create(
        school=world.school, assignment=assignment, date=dt.date(2026, 10, 1), topic="Дроби", created_by=world.teacher
    )
    twelve = ScaleValue.objects.filter(school=world.school, scale__kind="12", code="10").first()
    Mark.objects.create(
        school=world.school,
        lesson=lesson,
        student=world.student,
        work_type=work,
        value=twelve,
        created_by=world.teacher,
        updated_by=world.teacher,
    )


def _unzip(data: bytes) -> dict[str, list[list[str]]]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {i.filename[:-4]: list(csv.reader(io.StringIO(zf.read(i).decode()))) for i in zf.infolist()}


def test_export_follows_the_1p2_binding_and_is_identical_when_repeated(world, django_assert_max_num_queries):
    _seed(world)
    with django_assert_max_num_queries(30):  # a constant number of queries, whatever the school's size
        first = services.export_package(acting_user=world.director, school=world.school)
    assert first == services.export_package(acting_user=world.director, school=world.school)
    files = _unzip(first)
    assert spec.check_package(files) == []
    assert files["users"][0] == list(spec.HEADERS["users"])
    users = {r[4]: dict(zip(files["users"][0], r, strict=True)) for r in files["users"][1:]}
    assert users["student"]["middleName"] == "Іванович" and users["student"]["grades"] == "05"
    assert users["parent"]["agentSourcedIds"] == users["student"]["sourcedId"]
    # Demographics only where the guardian's consent is in force: the student, not the other student.
    assert [r[0] for r in files["demographics"][1:]] == [users["student"]["sourcedId"]]
    results = [dict(zip(files["results"][0], r, strict=True)) for r in files["results"][1:]]
    assert [(r["score"], r["scoreStatus"]) for r in results] == [("10", "fully graded")]
    items = [dict(zip(files["lineItems"][0], r, strict=True)) for r in files["lineItems"][1:]]
    assert (items[0]["resultValueMin"], items[0]["resultValueMax"]) == ("1", "12")
    manifest = dict(r for r in files["manifest"][1:])
    assert manifest["file.users"] == "bulk" and manifest["file.userProfiles"] == "absent"


def test_the_checker_catches_a_wrong_header_a_bad_value_and_a_dangling_reference():
    files = {"manifest": [["propertyName", "value"], *csvzip.manifest_rows({"orgs": "bulk", "courses": "bulk"})]}
    files["orgs"] = [list(spec.HEADERS["orgs"]), ["o1", "", "", "School", "castle", "", ""]]
    files["courses"] = [list(spec.HEADERS["courses"]), ["c1", "", "", "", "Maths", "", "", "o2", "", ""]]
    problems = {(p.file, p.column) for p in spec.check_package(files)}
    assert problems == {("orgs", "type"), ("courses", "orgSourcedId")}
    files["orgs"][0] = ["sourcedId", "name"]
    assert any(p.row == 1 for p in spec.check_package(files))


def test_a_delta_lists_what_changed_since_and_an_ended_enrolment_as_tobedeleted(world):
    since = timezone.now()
    assert rows.build(world.school, since=since, files=["enrollments"])["enrollments"] == []
    services_user = world.director
    from classbook.roster import services as roster

    roster.withdraw_student(acting_user=services_user, student=world.other_student, on=timezone.localdate())
    data = rows.build(world.school, since=since, files=["enrollments", "users"])
    statuses = {r["status"] for r in data["enrollments"]}
    assert statuses == {"tobedeleted"} and data["enrollments"]
    assert all(r["dateLastModified"] > since.strftime("%Y-%m-%dT%H:%M:%S") for r in data["enrollments"])
    assert (
        spec.check_rows(
            "enrollments",
            list(spec.HEADERS["enrollments"]),
            [[r[c] for c in spec.HEADERS["enrollments"]] for r in data["enrollments"]],
            delta=True,
        )
        == []
    )


def _roster_only(files: dict[str, list[list[str]]], usernames: dict[str, str], org: tuple[str, str]) -> dict:
    """The files to compare after a round trip: the target's org id and logins mapped back; demographics left
    out (a consent is the parent's, given to a school: it does not travel with the package)."""
    out = {}
    for name in ("academicSessions", "courses", "classes", "users", "roles", "enrollments"):
        text = "\n".join(",".join(r) for r in files[name]).replace(org[1], org[0])
        for new, old in usernames.items():
            text = text.replace(f",{new},", f",{old},")
        out[name] = text
    return out


def test_round_trip_into_an_empty_school_exports_the_same_package(world):
    f.PeriodFactory(year=world.class_a.year)
    subgroup = f.SubgroupFactory(school_class=world.class_a, name="Група 1")
    subgroup.students.add(world.student)
    f.make_assignment(
        world.other_teacher,
        world.class_a,
        f.SubjectFactory(school=world.school, name="Англійська мова"),
        subgroup=subgroup,
    )
    # A student's phone is in their personal file; roles keep their dates (one began long ago, one ends next year).
    Student.objects.filter(pk=world.student.pk).update(phone="+380 67 000 00 01")
    Membership.objects.filter(user=world.teacher).update(since=dt.date(2015, 8, 25))
    Membership.objects.filter(user=world.other_teacher).update(until=dt.date(2027, 6, 30))
    source = services.export_package(acting_user=world.director, school=world.school, gradebook=False)
    target = f.SchoolFactory(slug="empty-school", name="Порожня школа")
    director = f.make_member(target, Role.DIRECTOR)
    result = services.import_package(acting_user=director, school=target, data=source)
    assert result.counts["users"] == 11
    assert Membership.objects.get(school=target, user__student__isnull=True, until=dt.date(2027, 6, 30))
    again = _unzip(services.export_package(acting_user=director, school=target, gradebook=False))
    # The target's own director (who ran the import) is not part of the package.
    own = Ids(target).sid("user", f"u{director.pk}")
    for name in ("users", "roles"):
        again[name] = [r for r in again[name] if own not in r]
    first = _unzip(source)
    org = (first["orgs"][1][0], again["orgs"][1][0])
    names = {a[4]: b[4] for a, b in zip(again["users"][1:], first["users"][1:], strict=True)}
    assert _roster_only(again, names, org) == _roster_only(first, {}, org)
    assert Student.objects.filter(school=target).count() == 2


def test_a_past_year_and_the_teachers_who_have_left_since_are_not_in_a_bulk_package(world):
    """A year that ended before today, once the next one is opened (records' rule for closing years), is history:
    a bulk package leaves out its sessions, classes and enrollments as it leaves out an ended enrolment, so it
    never names last year's teacher who has left (inactive account, ended role). The package imports."""
    last = f.YearFactory(
        school=world.school, name="2025/2026", start=dt.date(2025, 9, 1), end=dt.date(2026, 6, 30), is_current=False
    )
    f.PeriodFactory(year=last)
    old = f.SchoolClassFactory(year=last, year_level=world.class_a.year_level, name="4-А")
    former = f.UserFactory(is_active=False)
    Membership.objects.create(
        school=world.school, user=former, role=Role.TEACHER, is_active=False, until=dt.date(2026, 6, 30)
    )
    SchoolClass.objects.filter(pk=old.pk).update(class_teacher=former)
    f.make_assignment(former, old)
    Enrolment.objects.create(
        school=world.school, student=world.student, school_class=old, start=last.start, end=last.end
    )
    source = services.export_package(acting_user=world.director, school=world.school)
    files = _unzip(source)
    assert spec.check_package(files) == []
    text = "\n".join(",".join(r) for name, rs in files.items() for r in rs)
    gone = [Ids(world.school).sid(kind, key) for kind, key in (("session", f"y{last.pk}"), ("class", f"c{old.pk}"))]
    assert not any(sid in text for sid in [*gone, Ids(world.school).sid("user", f"u{former.pk}")])
    target = f.SchoolFactory(slug="empty-school", name="Порожня школа")
    services.import_package(acting_user=f.make_member(target, Role.DIRECTOR), school=target, data=source)
    assert AcademicYear.objects.filter(school=target).count() == 1
    # A year that ended with no later year is still the school's (its lists are the school's until the opening).
    later = rows.Build(school=world.school, ids=Ids(world.school), since=None, today=dt.date(2027, 8, 1))
    assert later.past(last.pk) and not later.past(world.class_a.year_id)


def test_a_bad_package_is_refused_row_by_row_and_nothing_is_saved(world):
    files = _unzip(services.export_package(acting_user=world.director, school=world.school, gradebook=False))
    header = files["users"][0]
    files["users"][2][header.index("givenName")] = ""
    files["users"][3][header.index("enabledUser")] = "yes"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{name}.csv", csvzip.to_csv(data[0], data[1:]))
    target = f.SchoolFactory(slug="target-school")
    director = f.make_member(target, Role.DIRECTOR)
    client = f.UserFactory()  # unused persona guard: the import must not touch other schools either
    with pytest.raises(services.imports.ImportRefused) as refused:
        services.import_package(acting_user=director, school=target, data=buffer.getvalue())
    assert {(e.file, e.row) for e in refused.value.errors} == {("users", 3), ("users", 4)}
    assert not SchoolClass.objects.filter(school=target).exists()
    assert client.pk and not Enrolment.objects.filter(school=target).exists()
    with pytest.raises(services.DomainError):
        services.import_package(acting_user=director, school=target, data=b"not a zip")
    # A row the services refuse (a grade outside 01-12) is reported on its row, and nothing is saved either.
    files["users"][2][header.index("givenName")] = "Олена"
    files["users"][3][header.index("enabledUser")] = "true"
    classes = files["classes"]
    row = next(i for i, r in enumerate(classes) if r[classes[0].index("classType")] == "homeroom")
    classes[row][classes[0].index("grades")] = "13"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{name}.csv", csvzip.to_csv(data[0], data[1:]))
    with pytest.raises(services.imports.ImportRefused) as refused:
        services.import_package(acting_user=director, school=target, data=buffer.getvalue())
    assert [(e.file, e.row) for e in refused.value.errors] == [("classes", row + 1)]
    assert "01" in refused.value.errors[0].message
    assert not AcademicYear.objects.filter(school=target).exists()


# --- REST provider ----------------------------------------------------------------------------------------


def _token(client, registered, scope: str = "") -> str:
    basic = base64.b64encode(f"{registered.client.client_id}:{registered.secret}".encode()).decode()
    response = client.post(
        "/ims/oneroster/oauth2/token",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def _get(client, url: str, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(url, **headers)


def test_the_provider_serves_only_the_client_school_and_refuses_bad_tokens(
    world, client, django_assert_max_num_queries
):
    own = services.register_client(
        acting_user=world.director, school=world.school, name="LMS", scopes=[SCOPE_ROSTER_CORE]
    )
    other = services.register_client(
        acting_user=world.foreign_admin,
        school=world.other_school,
        name="LMS",
        scopes=[SCOPE_ROSTER_CORE, SCOPE_GRADEBOOK],
    )
    assert own.secret not in Client.objects.get(pk=own.client.pk).secret_hash
    token = _token(client, own)
    with django_assert_max_num_queries(12):
        users = _get(client, f"{ROSTER}/users?limit=100", token).json()["users"]
    usernames = {u["username"] for u in users}
    assert "student" in usernames and "foreignstudent" not in usernames
    student = next(u for u in users if u["username"] == "student")
    assert student["middleName"] == "Іванович" and student["roles"][0]["role"] == "student"
    # Another school's client does not see this school's objects, even by sourcedId.
    foreign = _token(client, other)
    assert _get(client, f"{ROSTER}/users/{student['sourcedId']}", foreign).status_code == 404
    assert (
        _get(client, f"{ROSTER}/users/{student['sourcedId']}", token).json()["user"]["sourcedId"]
        == student["sourcedId"]
    )
    # No token, a wrong one, an expired one: 401 with the spec's payload; a scope not granted: 403.
    refused = _get(client, f"{ROSTER}/users")
    assert refused.status_code == 401
    assert (
        refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
    )
    assert _get(client, f"{ROSTER}/users", "made-up").status_code == 401
    AccessToken.objects.filter(client=own.client).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _get(client, f"{ROSTER}/users", token).status_code == 401
    token = _token(client, own)
    forbidden = _get(client, f"{GRADEBOOK}/results", token)
    assert forbidden.status_code == 403 and forbidden.json()["imsx_codeMajor"] == "failure"
    basic = base64.b64encode(f"{own.client.client_id}:{own.secret}".encode()).decode()
    asked = client.post(
        "/ims/oneroster/oauth2/token",
        {"grant_type": "client_credentials", "scope": SCOPE_GRADEBOOK},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert asked.status_code == 400 and asked.json() == {"error": "invalid_scope"}
    wrong = client.post(
        "/ims/oneroster/oauth2/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{own.client.client_id}:nope".encode()).decode(),
    )
    assert wrong.status_code == 401
    services.revoke_client(acting_user=world.director, client=own.client)
    assert _get(client, f"{ROSTER}/users", token).status_code == 401


def test_paging_filter_sort_and_fields(world, client):
    own = services.register_client(
        acting_user=world.director, school=world.school, name="LMS", scopes=[SCOPE_ROSTER_CORE]
    )
    token = _token(client, own)
    page = _get(client, f"{ROSTER}/users?limit=2&offset=2&sort=username", token)
    total = int(page["X-Total-Count"])
    assert total == 11 and len(page.json()["users"]) == 2
    assert 'rel="next"' in page["Link"] and 'rel="prev"' in page["Link"] and "offset=4" in page["Link"]
    assert _get(client, f"{ROSTER}/users?offset=500", token).json()["users"] == []
    for bad in ("limit=0", "limit=-1", "limit=abc", "offset=-3", "limit=100000"):
        answer = _get(client, f"{ROSTER}/users?{bad}", token)
        assert answer.status_code == 400, bad
    names = _get(client, f"{ROSTER}/students?sort=familyName&orderBy=desc&fields=sourcedId,familyName", token).json()[
        "users"
    ]
    assert [set(u) for u in names] == [{"sourcedId", "familyName"}] * 2
    assert names[0]["familyName"] >= names[1]["familyName"]
    found = _get(client, f"{ROSTER}/users?filter=username='student'", token).json()["users"]
    assert [u["username"] for u in found] == ["student"]
    assert _get(client, f"{ROSTER}/users?filter=nonsense='1'", token).status_code == 400
    assert _get(client, f"{ROSTER}/users?fields=password", token).status_code == 400
    classes = _get(client, f"{ROSTER}/classes?filter=classType='homeroom' AND title='5-А'", token).json()["classes"]
    students = _get(client, f"{ROSTER}/classes/{classes[0]['sourcedId']}/students", token).json()["users"]
    assert [u["username"] for u in students] == ["student"]
    assert _get(client, f"{ROSTER}/classes/nope/students", token).status_code == 404
    assert _get(client, f"{ROSTER}/nothing", token).status_code == 404


@pytest.mark.parametrize(
    ("persona", "status"),
    [("director", 201), ("admin", 403), ("teacher", 403), ("parent", 403), ("foreign_admin", 404), ("anonymous", 401)],
)
def test_only_the_director_registers_clients(world, as_user, persona, status):
    answer = as_user(world.persona(persona)).post(
        f"/api/v1/schools/{world.school.slug}/oneroster/clients",
        {"name": "LMS", "scopes": [SCOPE_ROSTER_CORE]},
        content_type="application/json",
    )
    assert answer.status_code == status
    if status == 201:
        assert answer.json()["client_secret"] and Client.objects.filter(school=world.school).count() == 1
        listed = as_user(world.director).get(f"/api/v1/schools/{world.school.slug}/oneroster/clients").json()
        assert [c["name"] for c in listed["items"]] == ["LMS"] and "client_secret" not in listed["items"][0]


def test_the_export_door_is_for_the_administration(world, as_user):
    url = f"/api/v1/schools/{world.school.slug}/oneroster/export"
    assert as_user(world.teacher).get(url).status_code == 403
    answer = as_user(world.admin).get(url)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/zip"
    bad = as_user(world.director).post(
        f"/api/v1/schools/{world.school.slug}/oneroster/import", {"file": io.BytesIO(b"junk")}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_file"


def test_the_operator_command_exports_and_checks_a_package(world, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "school.zip"
    out = io.StringIO()
    call_command("oneroster", "export", school=world.school.slug, output=str(target), stdout=out)
    call_command("oneroster", "check", str(target), stdout=out)
    assert out.getvalue().endswith(": 0 problems\n")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(target) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(
                info.filename, data.replace(b"homeroom", b"homerooms") if info.filename == "classes.csv" else data
            )
    with pytest.raises(SystemExit):
        call_command("oneroster", "check", str(broken), stdout=out)
    assert "classes.csv" in out.getvalue()
