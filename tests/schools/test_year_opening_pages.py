"""The year-opening wizard's page (R4.3): who may open it, the form with last year's defaults, the preview
with a hold-back choice per student, the run, and refusals shown on the form with nothing changed."""

from __future__ import annotations

import pytest

from classbook.people.models import Enrolment
from classbook.schools.models import AcademicYear, SchoolClass
from tests.schools.opening_scene import old_year_checksum

URL = "/s/lyceum-1/manage/open-year/"
FORM = {"name": "2027/2028", "start": "2027-09-01", "end": "2028-06-30", "final_level": "11"}
FORM.update({"first_classes": "1-А, 1-Б", "copy_timetable": "on"})

ALLOWED = {"admin", "director", "deputy"}
PERSONAS = ["admin", "director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]


def expected(persona: str) -> int:
    if persona == "anonymous":
        return 302
    if persona == "foreign_admin":
        return 404
    return 200 if persona in ALLOWED else 403


@pytest.mark.parametrize("persona", [*PERSONAS, "foreign_admin", "anonymous"])
def test_only_the_administration_opens_the_wizard(scene, as_user, persona):
    client = as_user(scene.world.persona(persona))
    assert client.get(URL).status_code == expected(persona)
    response = client.post(URL, {**FORM, "action": "open"})
    assert response.status_code == (302 if persona in ALLOWED else expected(persona))
    assert AcademicYear.objects.filter(name="2027/2028").exists() == (persona in ALLOWED)


def test_the_form_starts_from_last_year(scene, as_user):
    response = as_user(scene.world.deputy).get(URL)
    form = response.context["form"]
    assert form.initial["name"] == "2027/2028"
    assert str(form.initial["start"]) == "2027-09-01" and str(form.initial["end"]) == "2028-06-30"
    assert form.initial["final_level"] == 11
    assert form.initial["first_classes"] == "1-А"
    home = as_user(scene.world.deputy).get("/s/lyceum-1/manage/")
    assert URL.encode() in home.content


def test_the_preview_writes_nothing_and_lists_students_to_hold_back(scene, as_user, django_assert_max_num_queries):
    w = scene.world
    before = old_year_checksum(scene.year)
    client = as_user(w.deputy)
    with django_assert_max_num_queries(30):
        response = client.post(URL, {**FORM, "action": "preview"})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [c.name for c in plan.classes] == ["2-А", "6-А", "6-Б", "1-А", "1-Б"]
    html = response.content.decode()
    assert f'name="held_back" value="{w.student.pk}"' in html
    assert "11-А (1)" in html  # graduating
    assert "Open the year" in html
    assert not AcademicYear.objects.filter(name="2027/2028").exists()
    assert old_year_checksum(scene.year) == before

    response = client.post(URL, {**FORM, "held_back": [str(w.student.pk)], "action": "preview"})
    assert [s.student_id for s in response.context["plan"].held_back] == [w.student.pk]
    assert f'value="{w.student.pk}" checked' in response.content.decode()


def test_the_run_opens_the_year_with_held_back_students(scene, as_user):
    w = scene.world
    response = as_user(w.deputy).post(URL, {**FORM, "held_back": [str(w.student.pk)], "action": "open"})
    assert response.status_code == 302
    assert response["Location"].endswith("/manage/years/")
    year = AcademicYear.objects.get(name="2027/2028")
    assert Enrolment.objects.get(student=w.student, school_class__year=year).school_class.name == "5-А"
    assert set(SchoolClass.objects.filter(year=year).values_list("name", flat=True)) == {
        "1-А",
        "1-Б",
        "2-А",
        "5-А",
        "6-А",
        "6-Б",
    }
    # A second run says the year exists, on the form.
    again = as_user(w.deputy).post(URL, {**FORM, "action": "open"})
    assert again.status_code == 200
    assert "exists already" in again.content.decode()
    assert AcademicYear.objects.filter(name="2027/2028").count() == 1


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"start": "2027-06-15"}, "overlaps the year 2026/2027"),
        ({"start": "2028-07-01"}, "after the first day"),
        ({"start": "not a date"}, "Enter a valid date"),
        ({"held_back": ["abc"]}, "Choose students from the list"),
        ({"held_back": ["999999"]}, "unknown: 999999"),
        ({"first_classes": "6-А"}, "name of a promoted class"),
    ],
)
def test_bad_input_is_shown_and_changes_nothing(scene, as_user, changes, text):
    before = (old_year_checksum(scene.year), AcademicYear.objects.count(), SchoolClass.objects.count())
    response = as_user(scene.world.deputy).post(URL, {**FORM, **changes, "action": "open"})
    assert response.status_code == 200
    assert text in response.content.decode()
    assert (old_year_checksum(scene.year), AcademicYear.objects.count(), SchoolClass.objects.count()) == before


def test_hold_back_by_a_list_of_file_numbers_and_names(scene, as_user):
    w = scene.world
    w.other_student.personal_file_number = "Б-17"
    w.other_student.save()
    name = f"{w.student.user.last_name}  {w.student.user.first_name}"  # spacing and case do not matter
    client = as_user(w.deputy)
    response = client.post(URL, {**FORM, "held_back_list": f"б-17\n{name.upper()}\n", "action": "preview"})
    assert response.status_code == 200
    held = {s.student_id: s.to_class for s in response.context["plan"].held_back}
    assert held == {w.other_student.pk: "5-Б", w.student.pk: "5-А"}
    # The list is applied once: the students now show ticked and the field is empty again.
    html = response.content.decode()
    assert f'value="{w.student.pk}" checked' in html and "б-17" not in html


@pytest.mark.parametrize(
    ("line", "text"),
    [("Nobody Here", "not current students: Nobody Here"), ("", None)],
)
def test_an_unknown_line_in_the_list_is_refused(scene, as_user, line, text):
    response = as_user(scene.world.deputy).post(URL, {**FORM, "held_back_list": line, "action": "open"})
    if text is None:
        assert response.status_code == 302  # an empty list holds nobody back
        return
    assert response.status_code == 200 and text in response.content.decode()
    assert not AcademicYear.objects.filter(name="2027/2028").exists()


def test_two_students_of_one_name_need_the_file_number(scene, as_user):
    from tests import factories as f

    w = scene.world
    twin = f.make_student(w.class_b)
    twin.user.last_name, twin.user.first_name = w.student.user.last_name, w.student.user.first_name
    twin.user.save()
    line = f"{w.student.user.last_name} {w.student.user.first_name}"
    response = as_user(w.deputy).post(URL, {**FORM, "held_back_list": line, "action": "preview"})
    assert "more than one student" in response.content.decode()
    assert response.context["plan"] is None
