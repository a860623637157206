"""The administration pages create, change and delete rows through the services; refusals are clear
messages next to the field, never a 500, and change nothing (R1.7, R4.4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.core.models import AuditEntry
from classbook.people.models import Role
from classbook.schools.models import AcademicYear, MarkingScale, Room, SchoolClass, StudyPeriod, TeachingAssignment
from tests import factories as f
from tests.schools.conftest import SECTIONS, manage_url


def url(path: str = "") -> str:
    return manage_url("lyceum-1", path)


def test_home_lists_every_section_with_its_count(world, calendar, as_user):
    page = as_user(world.deputy).get(url()).content.decode()
    for section in SECTIONS:
        assert f'href="/s/lyceum-1/manage/{section}/"' in page
    assert 'href="/s/lyceum-1/manage/settings/"' in page
    assert 'href="/s/lyceum-1/manage/workload/"' in page
    assert '<span class="badge">2</span>' in page  # two classes


def test_admin_creates_a_class_with_a_teacher_of_the_school(world, as_user):
    response = as_user(world.admin).post(
        url("classes/new/"),
        {
            "year": world.class_a.year_id,
            "year_level": world.class_a.year_level_id,
            "name": "6-В",
            "kind": "class",
            "class_teacher": world.other_teacher.pk,
        },
    )
    assert response.status_code == 302
    created = SchoolClass.objects.get(school=world.school, name="6-В")
    assert created.class_teacher == world.other_teacher
    entry = AuditEntry.objects.get(action="schools.schoolclass.created", object_id=str(created.pk))
    assert entry.actor == world.admin
    assert entry.data["new"]["name"] == "6-В"


def test_class_teacher_choices_are_the_schools_teachers_only(world, as_user):
    secretary_pk = world.secretary.pk
    response = as_user(world.admin).post(
        url("classes/new/"),
        {
            "year": world.class_a.year_id,
            "year_level": world.class_a.year_level_id,
            "name": "6-Г",
            "kind": "class",
            "class_teacher": secretary_pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["class_teacher"]
    assert not SchoolClass.objects.filter(name="6-Г").exists()


@pytest.mark.parametrize(
    ("field", "foreign"),
    [
        ("year", lambda w: w.foreign_class.year_id),
        ("year_level", lambda w: w.foreign_class.year_level_id),
        ("class_teacher", lambda w: w.foreign_teacher.pk),
    ],
)
def test_a_posted_id_of_another_school_is_a_form_error(world, as_user, field, foreign):
    data = {"year": world.class_a.year_id, "year_level": world.class_a.year_level_id, "name": "7-А", "kind": "class"}
    data[field] = foreign(world)
    response = as_user(world.admin).post(url("classes/new/"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not SchoolClass.objects.filter(name="7-А").exists()


@pytest.mark.parametrize(
    "path",
    [
        "classes/{foreign_class}/",
        "classes/{foreign_class}/delete/",
        "years/{foreign_year}/",
        "years/{foreign_year}/current/",
        "years/{foreign_year}/generate/",
        "scales/{foreign_scale}/one/",
        "scales/{foreign_scale}/delete/",
        "subgroups/{foreign_subgroup}/students/",
        "nonsense/1/",
    ],
)
def test_other_schools_rows_answer_404_and_nothing_changes(world, as_user, path):
    foreign_subgroup = f.SubgroupFactory(school_class=world.foreign_class)
    ids = {
        "foreign_class": world.foreign_class.pk,
        "foreign_year": world.foreign_class.year_id,
        "foreign_scale": MarkingScale.objects.filter(school=world.other_school, kind="5").get().pk,
        "foreign_subgroup": foreign_subgroup.pk,
    }
    before = AuditEntry.objects.count()
    client = as_user(world.admin)
    assert client.get(url(path.format(**ids))).status_code in (404, 405)
    assert client.post(url(path.format(**ids)), {"name": "Hacked", "enabled": "1"}).status_code == 404
    world.foreign_class.refresh_from_db()
    assert world.foreign_class.name == "5-А"
    assert AuditEntry.objects.count() == before
    assert not StudyPeriod.objects.filter(school=world.other_school).exists()


def test_edit_changes_the_row_and_audits_old_and_new_values(world, calendar, as_user):
    response = as_user(world.deputy).post(url(f"rooms/{calendar.room.pk}/"), {"name": "102", "capacity": "28"})
    assert response.status_code == 302
    calendar.room.refresh_from_db()
    assert (calendar.room.name, calendar.room.capacity) == ("102", 28)
    entry = AuditEntry.objects.get(action="schools.room.updated")
    assert entry.data == {"old": {"name": "101", "capacity": None}, "new": {"name": "102", "capacity": 28}}


def test_deleting_a_class_in_use_gives_a_clear_message_and_keeps_it(world, as_user):
    client = as_user(world.admin)
    response = client.post(url(f"classes/{world.class_a.pk}/delete/"), follow=True)
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    assert "“5-А” cannot be deleted: it is still used by" in text
    assert SchoolClass.objects.filter(pk=world.class_a.pk).exists()


def test_deleting_an_unused_room_removes_it(world, calendar, as_user):
    response = as_user(world.admin).post(url(f"rooms/{calendar.room.pk}/delete/"))
    assert response.status_code == 302
    assert not Room.objects.filter(pk=calendar.room.pk).exists()
    assert AuditEntry.objects.filter(action="schools.room.deleted", object_id=str(calendar.room.pk)).exists()


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("years/new/", {"name": "2030/2031", "start": "2031-06-01", "end": "2030-09-01"}, "end"),
        ("years/new/", {"name": "2030/2031", "start": "not a date", "end": "2031-06-01"}, "start"),
        ("years/new/", {"name": "x" * 10_000, "start": "2030-09-01", "end": "2031-06-01"}, "name"),
        ("rooms/new/", {"name": "Big", "capacity": "abc"}, "capacity"),
        ("rooms/new/", {"name": "Big", "capacity": "99999999999999999999"}, "capacity"),
        ("year-levels/new/", {"number": "13"}, "number"),
        (
            "special-days/new/",
            {"year": "{year}", "kind": "holiday", "name": "Літо", "start": "2027-07-01", "end": "2027-08-31"},
            "start",
        ),
        (
            "periods/new/",
            {
                "year": "{year}",
                "kind": "semester",
                "name": "II",
                "ordinal": "2",
                "start": "2026-12-01",
                "end": "2027-05-30",
            },
            "start",
        ),
    ],
)
def test_bad_input_shows_a_message_and_changes_nothing(world, calendar, as_user, path, data, field):
    data = {k: v.format(year=calendar.year.pk) for k, v in data.items()}
    before = (
        AcademicYear.objects.count(),
        Room.objects.count(),
        StudyPeriod.objects.count(),
        AuditEntry.objects.count(),
    )
    response = as_user(world.admin).post(url(path), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    after = (
        AcademicYear.objects.count(),
        Room.objects.count(),
        StudyPeriod.objects.count(),
        AuditEntry.objects.count(),
    )
    assert after == before


def test_assignment_hours_out_of_range_is_refused(world, as_user):
    data = {
        "teacher": world.teacher.pk,
        "school_class": world.class_b.pk,
        "subject": world.subject.pk,
        "hours_per_week": "45",
    }
    response = as_user(world.admin).post(url("assignments/new/"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["hours_per_week"]
    assert not TeachingAssignment.objects.filter(teacher=world.teacher, school_class=world.class_b).exists()


def test_assignment_with_a_subgroup_of_another_class_is_refused(world, as_user):
    other_group = f.SubgroupFactory(school_class=world.class_b)
    data = {
        "teacher": world.teacher.pk,
        "school_class": world.class_a.pk,
        "subgroup": other_group.pk,
        "subject": f.SubjectFactory(school=world.school).pk,
        "hours_per_week": "2",
    }
    response = as_user(world.admin).post(url("assignments/new/"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["subgroup"]


def test_subgroup_students_are_chosen_among_the_class(world, calendar, as_user):
    client = as_user(world.deputy)
    page = client.get(url(f"subgroups/{calendar.subgroup.pk}/students/")).content.decode()
    assert f'value="{world.student.pk}"' in page
    assert f'value="{world.other_student.pk}"' not in page
    refused = client.post(url(f"subgroups/{calendar.subgroup.pk}/students/"), {"students": [world.other_student.pk]})
    assert refused.status_code == 200
    assert not calendar.subgroup.students.exists()
    client.post(url(f"subgroups/{calendar.subgroup.pk}/students/"), {"students": [world.student.pk]})
    assert list(calendar.subgroup.students.all()) == [world.student]


def test_generate_standard_periods_from_the_years_page(world, as_user):
    year = world.class_a.year
    response = as_user(world.deputy).post(url(f"years/{year.pk}/generate/"))
    assert response.status_code == 302
    assert sorted(StudyPeriod.objects.filter(year=year).values_list("kind", flat=True)) == [
        "semester",
        "semester",
        "year",
    ]
    again = as_user(world.deputy).post(url(f"years/{year.pk}/generate/"), follow=True)
    assert "already has study periods" in " ".join(str(m) for m in again.context["messages"])


def test_make_current_moves_the_current_mark(world, as_user):
    old = world.class_a.year
    new = f.YearFactory(school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30", is_current=False)
    as_user(world.admin).post(url(f"years/{new.pk}/current/"))
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.is_current, new.is_current) == (False, True)


def test_custom_scale_and_the_optional_one_on_five_point(world, as_user):
    client = as_user(world.admin)
    response = client.post(url("scales/new/"), {"name": "ECTS", "values": "A, high, 5\nB, sufficient, 4\nF, fail, 2"})
    assert response.status_code == 302
    ects = MarkingScale.objects.get(school=world.school, name="ECTS")
    assert ects.parse("a").level == "high"
    five = MarkingScale.objects.get(school=world.school, kind="5")
    client.post(url(f"scales/{five.pk}/one/"), {"enabled": "1"})
    assert five.parse("1").code == "1"
    page = client.get(url("scales/")).content.decode()
    assert "ECTS" in page
    assert "Do not allow the mark 1" in page
    client.post(url(f"scales/{five.pk}/one/"), {"enabled": "0"})
    assert not five.values.filter(code="1").exists()


def test_custom_scale_with_bad_lines_is_refused(world, as_user):
    response = as_user(world.admin).post(url("scales/new/"), {"name": "Bad", "values": "A, superb"})
    assert response.status_code == 200
    assert response.context["form"].errors["values"]
    assert not MarkingScale.objects.filter(name="Bad").exists()


def test_workload_sums_hours_per_teacher_and_per_class(world, as_user):
    f.make_assignment(world.teacher, world.class_b, hours_per_week=Decimal("3.5"))
    response = as_user(world.director).get(url("workload/"))
    by_teacher = {r.name: r.hours for r in response.context["by_teacher"]}
    by_class = {r.name: r.hours for r in response.context["by_class"]}
    assert by_teacher[world.teacher.full_name] == Decimal("5.5")
    assert by_teacher[world.other_teacher.full_name] == Decimal("2")
    assert by_class == {"5-А": Decimal("2"), "5-Б": Decimal("5.5")}
    assert response.context["total"] == Decimal("7.5")


def test_assignments_list_filters_by_teacher(world, as_user):
    response = as_user(world.director).get(url("assignments/"), {"teacher": world.other_teacher.pk})
    assert [obj.teacher for obj, _cells in response.context["table"]] == [world.other_teacher]


def _grow(world, first: int, n: int) -> None:
    year = world.class_a.year
    for i in range(first, first + n):
        school_class = f.SchoolClassFactory(year=year, name=f"9-{i}", class_teacher=world.class_teacher)
        f.SubgroupFactory(school_class=school_class)
        f.make_assignment(world.other_teacher, school_class)
        f.RoomFactory(school=world.school)
        f.PeriodFactory(year=year, kind="module", name=f"M{i}", ordinal=i + 1, start="2026-09-01", end="2026-09-01")
        f.SubjectFactory(school=world.school)


@pytest.mark.parametrize("page", ["", "scales/", "workload/", *[f"{s}/" for s in SECTIONS]])
def test_list_pages_make_a_constant_number_of_queries(world, as_user, page, django_assert_max_num_queries):
    client = as_user(world.admin)
    _grow(world, 0, 1)
    client.get(url(page))  # the first request of a session records the session; measure the usual one
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(page)).status_code == 200
    _grow(world, 1, 3)
    for i in range(2):
        f.make_member(world.school, Role.TEACHER, username=f"extra{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(page)).status_code == 200
    # session, user, school, roles, authority check, then the page's own queries (the home: a count per section)
    assert len(small.captured_queries) <= (16 if page == "" else 12)


def test_lists_filter_by_academic_year(world, as_user):
    next_year = f.YearFactory(
        school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30", is_current=False
    )
    f.SchoolClassFactory(year=next_year, name="6-А")
    client = as_user(world.director)
    shown = client.get(url("classes/"), {"year": next_year.pk}).context["table"]
    assert [obj.name for obj, _cells in shown] == ["6-А"]
    assert len(client.get(url("classes/")).context["table"]) == 3
    foreign = client.get(url("classes/"), {"year": world.foreign_class.year_id})
    assert foreign.status_code == 200
    assert foreign.context["filters"].errors  # another school's year is not a choice
    assert len(foreign.context["table"]) == 3


def test_workload_shows_the_hours_taught_to_subgroups(world, as_user):
    group = f.SubgroupFactory(school_class=world.class_b)
    f.make_assignment(world.teacher, world.class_b, subgroup=group, hours_per_week=Decimal("1"))
    response = as_user(world.director).get(url("workload/"))
    row = next(r for r in response.context["by_class"] if r.name == "5-Б")
    assert (row.hours, row.subgroup_hours) == (Decimal("3"), Decimal("1"))


def test_periods_list_indents_nested_periods(world, as_user):
    from classbook.schools.services import generate_standard_periods

    school = f.SchoolFactory(slug="school-ru", country="RU")
    year = f.YearFactory(school=school)
    director = f.make_member(school, Role.DIRECTOR, username="ru-director")
    generate_standard_periods(acting_user=director, year=year)
    table = as_user(director).get(manage_url("school-ru", "periods/")).context["table"]
    names = [cells[0] for _obj, cells in table]
    assert names[0] == "Year"
    assert names[1:4] == ["— Half-year I", "— — Quarter I", "— — Quarter II"]


def test_generate_button_is_offered_only_for_years_without_periods(world, as_user):
    client = as_user(world.admin)
    button = f"/manage/years/{world.class_a.year_id}/generate/"
    assert button in client.get(url("years/")).content.decode()
    f.PeriodFactory(year=world.class_a.year)
    assert button not in client.get(url("years/")).content.decode()
