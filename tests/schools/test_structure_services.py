"""The rules of the calendar and structure services (R1.7, R2.4, R2.5, R4.4): each refusal is a
translated message on the right field, and a refused change leaves the database as it was."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from classbook.core.errors import DomainError
from classbook.core.models import AuditEntry
from classbook.people.models import Role
from classbook.schools import services
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    Room,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subject,
    TeachingAssignment,
)
from tests import factories as f

D = dt.date


def field_errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def create(world, model, **fields):
    return services.create_row(acting_user=world.admin, school=world.school, model=model, fields=fields)


# --- years and periods -----------------------------------------------------------------------------


def test_year_end_before_start_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        create(world, AcademicYear, name="2030/2031", start=D(2031, 6, 1), end=D(2030, 9, 1))
    assert "end" in field_errors(exc)
    assert not AcademicYear.objects.filter(name="2030/2031").exists()


def test_a_new_current_year_takes_the_mark_from_the_old_one(world):
    old = world.class_a.year
    new = create(world, AcademicYear, name="2027/2028", start=D(2027, 9, 1), end=D(2028, 6, 30), is_current=True)
    old.refresh_from_db()
    assert new.is_current and not old.is_current


def test_a_refused_current_year_leaves_the_old_one_current(world):
    old = world.class_a.year
    with pytest.raises(ValidationError):
        create(world, AcademicYear, name="bad", start=D(2028, 9, 1), end=D(2027, 6, 30), is_current=True)
    old.refresh_from_db()
    assert old.is_current


def test_period_outside_its_year_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        create(
            world,
            StudyPeriod,
            year=world.class_a.year,
            kind="semester",
            name="I",
            start=D(2026, 8, 1),
            end=D(2026, 12, 1),
        )
    assert "start" in field_errors(exc)


def test_period_outside_its_parent_is_refused(world):
    half = f.PeriodFactory(year=world.class_a.year, kind="half", name="I", start=D(2026, 9, 1), end=D(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        create(
            world,
            StudyPeriod,
            year=half.year,
            parent=half,
            kind="quarter",
            name="II",
            ordinal=2,
            start=D(2026, 11, 1),
            end=D(2027, 1, 20),
        )
    assert "parent" in field_errors(exc)


def test_overlapping_periods_of_the_same_kind_are_refused_but_nested_kinds_are_fine(world):
    year = world.class_a.year
    first = f.PeriodFactory(year=year, kind="semester", name="I", start=D(2026, 9, 1), end=D(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        create(
            world,
            StudyPeriod,
            year=year,
            kind="semester",
            name="II",
            ordinal=2,
            start=D(2026, 12, 1),
            end=D(2027, 5, 31),
        )
    assert "overlaps" in " ".join(field_errors(exc)["start"])
    quarter = create(
        world,
        StudyPeriod,
        year=year,
        parent=first,
        kind="quarter",
        name="1",
        ordinal=1,
        start=D(2026, 9, 1),
        end=D(2026, 10, 31),
    )
    assert quarter.parent == first


def test_a_period_cannot_end_up_inside_itself(world):
    year = world.class_a.year
    outer = f.PeriodFactory(year=year, kind="half", name="I", start=D(2026, 9, 1), end=D(2026, 12, 31))
    inner = f.PeriodFactory(year=year, kind="quarter", name="1", parent=outer, start=D(2026, 9, 1), end=D(2026, 12, 31))
    with pytest.raises(ValidationError) as exc:
        services.update_row(acting_user=world.admin, obj=outer, fields={"parent": inner})
    assert "parent" in field_errors(exc)


def test_shortening_a_year_under_its_periods_is_refused(world):
    year = world.class_a.year
    f.PeriodFactory(year=year, start=D(2027, 3, 1), end=D(2027, 6, 30))
    with pytest.raises(ValidationError):
        services.update_row(acting_user=world.admin, obj=year, fields={"end": D(2027, 5, 31)})
    year.refresh_from_db()
    assert year.end == D(2027, 6, 30)


def test_holidays_outside_the_year_are_refused(world):
    with pytest.raises(ValidationError) as exc:
        create(
            world,
            SpecialDay,
            year=world.class_a.year,
            kind="vacation",
            name="Літо",
            start=D(2027, 7, 1),
            end=D(2027, 8, 31),
        )
    assert "start" in field_errors(exc)


# --- standard periods --------------------------------------------------------------------------------


def _tree(year):
    return [
        (p.kind, p.parent.kind if p.parent else None, p.start, p.end)
        for p in StudyPeriod.objects.filter(year=year).select_related("parent").order_by("start", "-end", "kind")
    ]


def test_ukrainian_school_gets_two_semesters_inside_the_year(world):
    year = world.class_a.year
    services.generate_standard_periods(acting_user=world.admin, year=year)
    assert _tree(year) == [
        ("year", None, D(2026, 9, 1), D(2027, 6, 30)),
        ("semester", "year", D(2026, 9, 1), D(2026, 12, 31)),
        ("semester", "year", D(2027, 1, 1), D(2027, 6, 30)),
    ]
    assert AuditEntry.objects.filter(action="schools.studyperiod.generated").count() == 1


def test_russian_style_school_gets_quarters_inside_half_years(db):
    school = f.SchoolFactory(country="RU")
    year = f.YearFactory(school=school)
    services.generate_standard_periods(acting_user=None, year=year)
    tree = _tree(year)
    assert [kind for kind, *_ in tree].count("quarter") == 4
    assert [kind for kind, *_ in tree].count("half") == 2
    assert all(parent == "half" for kind, parent, *_ in tree if kind == "quarter")
    for period in StudyPeriod.objects.filter(year=year, parent__isnull=False):
        assert period.parent.start <= period.start and period.end <= period.parent.end


def test_college_gets_semesters_even_in_a_russian_style_country(db):
    school = f.SchoolFactory(country="RU", kind="college")
    year = f.YearFactory(school=school)
    services.generate_standard_periods(acting_user=None, year=year)
    assert sorted(StudyPeriod.objects.filter(year=year).values_list("kind", flat=True)) == [
        "semester",
        "semester",
        "year",
    ]


def test_standard_periods_are_not_generated_twice(world):
    year = world.class_a.year
    services.generate_standard_periods(acting_user=world.admin, year=year)
    with pytest.raises(DomainError):
        services.generate_standard_periods(acting_user=world.admin, year=year)
    assert StudyPeriod.objects.filter(year=year).count() == 3


# --- classes, subgroups, assignments -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["foreign_teacher", "secretary", "student"])
def test_class_teacher_must_be_a_teacher_of_this_school(world, who):
    with pytest.raises(ValidationError) as exc:
        services.update_class(acting_user=world.admin, school_class=world.class_b, class_teacher=world.persona(who))
    assert "class_teacher" in field_errors(exc)
    world.class_b.refresh_from_db()
    assert world.class_b.class_teacher is None


def test_a_former_teacher_cannot_become_class_teacher(world):
    former = f.make_member(world.school, Role.TEACHER, username="former")
    former.memberships.update(is_active=False)
    with pytest.raises(ValidationError):
        services.update_class(acting_user=world.admin, school_class=world.class_b, class_teacher=former)


def test_other_schools_rows_are_refused_by_id(world):
    with pytest.raises(ValidationError) as exc:
        services.create_class(
            acting_user=world.admin,
            school=world.school,
            year=world.foreign_class.year_id,
            year_level=world.class_a.year_level_id,
            name="8-А",
        )
    assert field_errors(exc) == {"year": ["Choose a value of this school."]}
    assert not SchoolClass.objects.filter(name="8-А").exists()


def test_unknown_ids_are_a_field_error_not_a_crash(world):
    with pytest.raises(ValidationError) as exc:
        services.create_assignment(
            acting_user=world.admin,
            school=world.school,
            teacher=world.teacher.pk,
            school_class=world.class_a.pk,
            subgroup=999_999,
            subject=world.subject.pk,
        )
    assert "subgroup" in field_errors(exc)


def test_assignment_with_a_subgroup_of_another_class_is_refused(world):
    other_group = f.SubgroupFactory(school_class=world.class_b)
    with pytest.raises(ValidationError) as exc:
        services.create_assignment(
            acting_user=world.admin,
            school=world.school,
            teacher=world.teacher,
            school_class=world.class_a,
            subgroup=other_group,
            subject=f.SubjectFactory(school=world.school),
        )
    assert "subgroup" in field_errors(exc)


@pytest.mark.parametrize("hours", [Decimal("0"), Decimal("0.4"), Decimal("40.5"), Decimal("-2"), Decimal("1000")])
def test_hours_out_of_range_are_refused(world, hours):
    with pytest.raises(ValidationError) as exc:
        services.create_assignment(
            acting_user=world.admin,
            school=world.school,
            teacher=world.teacher,
            school_class=world.class_b,
            subject=world.subject,
            hours_per_week=hours,
        )
    assert "hours_per_week" in field_errors(exc)
    assert not TeachingAssignment.objects.filter(teacher=world.teacher, school_class=world.class_b).exists()


def test_assignment_takes_the_year_of_its_class_and_is_audited(world):
    created = services.create_assignment(
        acting_user=world.deputy,
        school=world.school,
        teacher=world.teacher,
        school_class=world.class_b,
        subject=world.subject,
        hours_per_week=Decimal("1.5"),
    )
    assert created.year == world.class_b.year
    entry = AuditEntry.objects.get(action="schools.teachingassignment.created")
    assert entry.actor == world.deputy and entry.data["new"]["hours_per_week"] == "1.5"


def test_assignment_teacher_must_teach_in_this_school(world):
    with pytest.raises(ValidationError) as exc:
        services.create_assignment(
            acting_user=world.admin,
            school=world.school,
            teacher=world.director,
            school_class=world.class_b,
            subject=world.subject,
        )
    assert "teacher" in field_errors(exc)


def test_subgroup_students_come_from_its_class(world):
    group = f.SubgroupFactory(school_class=world.class_a)
    with pytest.raises(ValidationError):
        services.set_subgroup_students(acting_user=world.admin, subgroup=group, students=[world.other_student])
    assert not group.students.exists()
    services.set_subgroup_students(acting_user=world.admin, subgroup=group, students=[world.student])
    assert list(group.students.all()) == [world.student]


def test_a_subgroup_with_students_cannot_move_to_another_class(world):
    group = f.SubgroupFactory(school_class=world.class_a)
    group.students.add(world.student)
    with pytest.raises(ValidationError) as exc:
        services.update_row(acting_user=world.admin, obj=group, fields={"school_class": world.class_b})
    assert "school_class" in field_errors(exc)


def test_fields_outside_the_editable_list_cannot_be_set(world):
    with pytest.raises(ValidationError):
        services.update_subject(acting_user=world.admin, subject=world.subject, school=world.other_school)
    world.subject.refresh_from_db()
    assert world.subject.school == world.school


# --- delete, settings, scales ------------------------------------------------------------------------


def test_deleting_a_row_in_use_is_refused_with_a_message(world):
    with pytest.raises(DomainError) as exc:
        services.delete_row(acting_user=world.admin, obj=world.subject)
    assert "cannot be deleted" in str(exc.value.message)
    assert Subject.objects.filter(pk=world.subject.pk).exists()


def test_deleting_an_unused_row_is_audited_with_its_old_values(world):
    room = f.RoomFactory(school=world.school, name="200")
    services.delete_row(acting_user=world.admin, obj=room)
    assert not Room.objects.filter(name="200").exists()
    assert AuditEntry.objects.get(action="schools.room.deleted").data["old"]["name"] == "200"


def test_school_settings_are_validated_and_audited(world):
    with pytest.raises(ValidationError) as exc:
        services.update_school_settings(acting_user=world.director, school=world.school, staff_idle_minutes=1)
    assert "staff_idle_minutes" in field_errors(exc)
    foreign_scale = MarkingScale.objects.filter(school=world.other_school).first()
    with pytest.raises(ValidationError):
        services.update_school_settings(acting_user=world.director, school=world.school, default_scale=foreign_scale)
    services.update_school_settings(
        acting_user=world.director, school=world.school, entry_deadline=dt.time(17, 0), require_staff_2fa=True
    )
    world.school.refresh_from_db()
    assert world.school.require_staff_2fa and world.school.entry_deadline == dt.time(17, 0)
    entry = AuditEntry.objects.get(action="schools.school.updated")
    assert entry.data == {
        "old": {"entry_deadline": "16:00:00", "require_staff_2fa": False},
        "new": {"entry_deadline": "17:00:00", "require_staff_2fa": True},
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "A",
        "A, superb",
        "A, high, lots",
        "A, high, 1e9",
        "A, high\na, high",
        "A, special",
        "A, high, 1, 2",
        "\n".join(f"V{i}, high" for i in range(41)),
    ],
)
def test_custom_scale_lines_are_checked(world, text):
    with pytest.raises(ValidationError):
        services.create_custom_scale(acting_user=world.admin, school=world.school, name="Custom", values=text)
    assert not MarkingScale.objects.filter(name="Custom").exists()


def test_custom_scale_gets_the_special_period_marks(world):
    scale = services.create_custom_scale(
        acting_user=world.admin, school=world.school, name="Custom", values="A, high, 5\nFX, fail"
    )
    assert scale.parse("A").numeric == Decimal(5)
    assert not scale.parse("fx").is_passing
    assert scale.parse("н/а", period_column=True).level == "special"


def test_a_duplicate_scale_name_is_refused(world):
    with pytest.raises(ValidationError):
        services.create_custom_scale(acting_user=world.admin, school=world.school, name="5-бальна", values="A, high")


def test_the_optional_one_is_only_on_five_point_scales(world):
    five = MarkingScale.objects.get(school=world.school, kind="5")
    twelve = MarkingScale.objects.get(school=world.school, kind="12")
    services.set_five_point_one(acting_user=world.admin, scale=five, enabled=True)
    assert [v.code for v in five.values.all()][:2] == ["1", "2"]
    services.set_five_point_one(acting_user=world.admin, scale=five, enabled=True)  # again: no change
    assert five.values.filter(code="1").count() == 1
    with pytest.raises(DomainError):
        services.set_five_point_one(acting_user=world.admin, scale=twelve, enabled=True)
    services.set_five_point_one(acting_user=world.admin, scale=five, enabled=False)
    with pytest.raises(ValidationError):
        five.parse("1")


def test_deleting_the_default_scale_leaves_the_school_without_a_default(world):
    scale = world.school.default_scale
    world.subject.scale = scale
    world.subject.save()
    services.delete_row(acting_user=world.admin, obj=scale)
    world.school.refresh_from_db()
    world.subject.refresh_from_db()
    assert world.school.default_scale is None and world.subject.scale is None


def test_deleting_a_year_with_classes_is_refused(world):
    with pytest.raises(DomainError) as exc:
        services.delete_row(acting_user=world.admin, obj=world.class_a.year)
    assert "classes" in str(exc.value.message)
    assert AcademicYear.objects.filter(pk=world.class_a.year_id).exists()


def test_a_create_racing_another_with_the_same_name_gets_a_message_not_a_500(world, monkeypatch):
    """Both writers pass validation before either commits; the unique constraint decides."""
    import pytest
    from django.core.exceptions import ValidationError

    from classbook.schools import services
    from classbook.schools.models import Subject

    monkeypatch.setattr(services, "_validate", lambda obj: None)  # as if validated before the other commit
    with pytest.raises(ValidationError):
        services.create_row(acting_user=world.admin, school=world.school, model=Subject, fields={"name": "Математика"})
    assert Subject.objects.filter(school=world.school, name="Математика").count() == 1


def test_the_decimals_of_averages_are_a_validated_audited_school_setting(world):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.update_school_settings(acting_user=world.director, school=world.school, average_decimals=3)
    assert "average_decimals" in field_errors(exc)
    world.school.refresh_from_db()
    assert (world.school.average_decimals, AuditEntry.objects.count()) == (1, before)  # refused: nothing written
    services.update_school_settings(acting_user=world.director, school=world.school, average_decimals=2)
    world.school.refresh_from_db()
    assert world.school.average_decimals == 2
    entry = AuditEntry.objects.latest("pk")
    assert entry.data["old"]["average_decimals"] == 1 and entry.data["new"]["average_decimals"] == 2
