"""The codes page of a 1,000-student school (issue 9: it answered 500 on SQLite, "expression tree is too
large", because it read every person at once with id lists thousands long).

The school is bulk-created (a few seconds): 1,000 students in 33 classes, 1,600 parents, 60 staff. The page
shows 50 people at a time, filtered by class, kind and name, in the same number of queries as for the
small test school.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from classbook.access import scopes
from classbook.access.context import resolve_school
from classbook.people import queries
from classbook.people.models import ActivationCode, Enrolment, GuardianLink, Membership, Role, Student, User
from classbook.people.views import CODES_PER_PAGE
from classbook.schools.models import SchoolClass
from tests import factories as f

STUDENTS, PARENTS, STAFF, CLASSES = 1000, 1600, 60, 33


@dataclass
class BigSchool:
    classes: list[SchoolClass]
    parents: list[User]


def build_big_school(world) -> BigSchool:
    school, year = world.school, world.class_a.year
    level = world.class_a.year_level
    classes = SchoolClass.objects.bulk_create(
        [SchoolClass(school=school, year=year, year_level=level, name=f"Б-{n}") for n in range(CLASSES)]
    )
    password = f.password_hash()

    def users(prefix: str, count: int) -> list[User]:
        return User.objects.bulk_create(
            [
                User(username=f"{prefix}{n}", last_name=f"Коваль{n:04d}", first_name="Олена", password=password)
                for n in range(count)
            ]
        )

    student_users, parents, staff = users("s", STUDENTS), users("p", PARENTS), users("t", STAFF)
    students = Student.objects.bulk_create([Student(school=school, user=u) for u in student_users])
    Enrolment.objects.bulk_create(
        [
            Enrolment(school=school, student=s, school_class=classes[n % CLASSES], start=year.start)
            for n, s in enumerate(students)
        ]
    )
    # Every student has a parent; 600 parents have a second child (siblings in other classes).
    links = [GuardianLink(school=school, guardian=p, student=students[n % STUDENTS]) for n, p in enumerate(parents)]
    links += [
        GuardianLink(school=school, guardian=p, student=students[(n * 7 + 3) % STUDENTS])
        for n, p in enumerate(parents[:600])
    ]
    GuardianLink.objects.bulk_create(links, ignore_conflicts=True)
    Membership.objects.bulk_create(
        [Membership(school=school, user=u, role=Role.STUDENT) for u in student_users]
        + [Membership(school=school, user=u, role=Role.PARENT) for u in parents]
        + [Membership(school=school, user=u, role=Role.TEACHER) for u in staff]
    )
    classes[0].class_teacher = world.class_teacher
    classes[0].save(update_fields=["class_teacher"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a bulk load; else plans assume empty tables
    return BigSchool(classes=classes, parents=parents)


PAGES = {
    "everyone": {},
    "a later page": {"page": "30"},
    "past the last page": {"page": "9999"},
    "one class": {"school_class": "CLASS"},
    "parents": {"kind": "parents"},
    "staff": {"kind": "staff"},
    "a name": {"q": "коваль00"},
    "everything at once": {"school_class": "CLASS", "kind": "students", "q": "коваль", "page": "1"},
}


def _params(params: dict[str, str], school_class: SchoolClass) -> dict[str, str]:
    return {k: (str(school_class.pk) if v == "CLASS" else v) for k, v in params.items()}


def _queries(client, url: str, params: dict[str, str]) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries), response


def test_codes_page_of_a_big_school_is_paged_filtered_and_reads_as_many_queries_as_a_small_one(world, as_user):
    url = reverse("school_people:codes", kwargs={"school": world.school.slug})
    client = as_user(world.admin)
    client.get(url)  # warm the per-process caches (prepared statements, translations)
    # The name filter finds a student, a parent and a teacher in the small school too.
    User.objects.filter(pk__in=[world.teacher.pk, world.student.user.pk, world.parent.pk]).update(
        last_name="Коваль0099"
    )
    small = {name: _queries(client, url, _params(p, world.class_a))[0] for name, p in PAGES.items()}

    big = build_big_school(world)
    for name, params in PAGES.items():
        count, response = _queries(client, url, _params(params, big.classes[0]))
        assert count == small[name], name
        assert count <= 14, name
        assert len(response.context["rows"]) <= CODES_PER_PAGE

    _count, response = _queries(client, url, {})
    page = response.context["page"]
    assert page.paginator.count > STUDENTS + PARENTS + STAFF
    assert len(response.context["rows"]) == CODES_PER_PAGE
    html = response.content.decode()
    assert "page=2" in html

    _count, response = _queries(client, url, {"kind": "parents", "page": "2"})
    assert {row.roles[0] for row in response.context["rows"]} == {"Parent"}
    assert "kind=parents&amp;page=3" in response.content.decode()  # the pager keeps the filters

    _count, response = _queries(client, url, {"q": "коваль0007"})
    assert {row.user.last_name for row in response.context["rows"]} == {"Коваль0007"}
    assert len(response.context["rows"]) == 3  # a student, a parent, a teacher

    for odd in ["0", "-1", "abc", "1e9", "9" * 40, ""]:  # a page, never an error (Paginator.get_page)
        _count, response = _queries(client, url, {"page": odd})
        assert response.context["rows"], odd


def test_class_teacher_pages_their_big_class_only(world, as_user):
    big = build_big_school(world)
    url = reverse("school_people:codes", kwargs={"school": world.school.slug})
    client = as_user(world.class_teacher)
    client.get(url)
    count, response = _queries(client, url, {"school_class": str(big.classes[0].pk), "kind": "students"})
    assert count <= 14
    in_class = set(Enrolment.objects.filter(school_class=big.classes[0]).values_list("student__user_id", flat=True))
    students = {row.user.pk for row in response.context["rows"] if row.user.pk in in_class}
    assert len(students) == len(in_class)
    # Another class of the big school: the class teacher stays in their own classes.
    other = set(Enrolment.objects.filter(school_class=big.classes[1]).values_list("student__user_id", flat=True))
    _count, response = _queries(client, url, {"school_class": str(big.classes[1].pk)})
    assert response.context["rows"]
    assert not {row.user.pk for row in response.context["rows"]} & other


def test_slips_for_a_page_of_a_big_school_print_and_500_rows_read_at_once(world, as_user):
    big = build_big_school(world)
    client = as_user(world.admin)
    url = reverse("school_people:codes", kwargs={"school": world.school.slug})
    rows = client.get(url, {"kind": "parents"}).context["rows"]
    response = client.post(
        reverse("school_people:codes_slips", kwargs={"school": world.school.slug}), {"user": [r.user.pk for r in rows]}
    )
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) == CODES_PER_PAGE // 8 + 1
    assert ActivationCode.objects.count() == CODES_PER_PAGE
    # The largest selection the form accepts: its rows read in one go, no SQLite expression limit.
    ctx = resolve_school(world.admin, world.school.slug)
    selected = [p.pk for p in big.parents[:500]]
    assert len(queries.code_rows(scopes.people_for_codes(ctx).filter(pk__in=selected), school=world.school)) == 500
