"""The book of orders (R7.5): each kind changes enrolments only once the director signs it, on its day (R7.2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.people.models import Enrolment, Student
from classbook.records import services
from classbook.records.models import LineInput, Order, OrderInput, OrderKind
from classbook.roster import services as roster
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_school_day():
    """Orders take effect inside the school year (the factories' 2026/2027): the tests date them from "today",
    so "today" is a day of that year, not the day the suite runs (in July they failed: TEST_CLOCK=2027-07-10)."""
    with time_machine.travel(dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


def _input(world, kind, lines, *, effective_on=None, number=None, **extra):
    today = timezone.localdate()
    year = world.class_a.year
    return OrderInput(
        year_id=year.pk,
        number=number or services.suggested_number(world.school, year),
        date=today,
        effective_on=effective_on or today,
        kind=kind,
        text="Про рух учнів",
        lines=lines,
        **extra,
    )


def _draft(world, kind, lines, **kw) -> Order:
    return services.create_order(
        acting_user=world.secretary, school=world.school, data=_input(world, kind, lines, **kw)
    )


def _open_classes(student) -> list[str]:
    return sorted(
        Enrolment.objects.filter(student=student, end__isnull=True).values_list("school_class__name", flat=True)
    )


def _sign(world, order) -> Order:
    services.sign_order(acting_user=world.director, order=order)
    return Order.objects.get(pk=order.pk)


def test_arrival_creates_the_student_and_enrols_them_only_when_signed(world):
    line = LineInput(new_student={"last_name": "Нова", "first_name": "Олена", "birth_date": "2015-03-02"},
                     target_class_id=world.class_b.pk)  # fmt: skip
    order = _draft(world, OrderKind.ARRIVAL, [line])
    assert not Student.objects.filter(user__last_name="Нова").exists()
    order = _sign(world, order)
    student = Student.objects.get(user__last_name="Нова")
    assert _open_classes(student) == ["5-Б"]
    assert student.enrolments.get().start == order.effective_on
    assert order.applied_at is not None and order.lines.get().student_id == student.pk
    actions = set(AuditEntry.objects.filter(object_id=str(order.pk)).values_list("action", flat=True))
    assert {"records.order.created", "records.order.signed", "records.order.applied"} <= actions


def test_departure_closes_the_enrolment_and_keeps_the_file_read_only(world):
    order = _draft(world, OrderKind.DEPARTURE, [LineInput(student_id=world.student.pk, reason="Ліцей № 2")])
    assert _open_classes(world.student) == ["5-А"]
    _sign(world, order)
    student = Student.objects.get(pk=world.student.pk)
    assert student.has_left and _open_classes(student) == []
    assert Enrolment.objects.get(student=student).end == order.effective_on  # the enrolment is kept, ended
    with pytest.raises(ConflictError):
        roster.update_student(acting_user=world.secretary, student=student, data={"phone": "1"}, fields=("phone",))


def test_transfer_closes_one_class_and_opens_another(world):
    order = _draft(
        world, OrderKind.TRANSFER, [LineInput(student_id=world.student.pk, target_class_id=world.class_b.pk)]
    )
    assert _open_classes(world.student) == ["5-А"]
    _sign(world, order)
    assert _open_classes(world.student) == ["5-Б"]
    assert Enrolment.objects.get(
        student=world.student, school_class=world.class_a
    ).end == order.effective_on - dt.timedelta(days=1)


def test_graduation_closes_every_enrolment(world):
    year2 = f.YearFactory(school=world.school, name="2025/2026", start="2025-09-01", end="2026-06-30", is_current=False)
    old = f.SchoolClassFactory(year=year2, name="4-А")
    Enrolment.objects.create(school=world.school, student=world.student, school_class=old, start=year2.start)
    order = _draft(world, OrderKind.GRADUATION, [LineInput(student_id=world.student.pk)])
    assert _open_classes(world.student) == ["4-А", "5-А"]
    _sign(world, order)
    assert _open_classes(world.student) == [] and Student.objects.get(pk=world.student.pk).has_left


def test_held_back_moves_next_years_enrolment_to_the_same_level(world):
    nxt = f.YearFactory(school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30", is_current=False)
    six = f.SchoolClassFactory(year=nxt, name="6-А", year_level=f.YearLevelFactory(school=world.school, number=6))
    five = f.SchoolClassFactory(year=nxt, name="5-А", year_level=world.class_a.year_level)
    Enrolment.objects.create(school=world.school, student=world.student, school_class=six, start=nxt.start)
    order = _draft(world, OrderKind.HELD_BACK, [LineInput(student_id=world.student.pk, target_class_id=five.pk)])
    assert Enrolment.objects.filter(student=world.student, school_class=six).exists()
    _sign(world, order)
    assert not Enrolment.objects.filter(student=world.student, school_class=six).exists()
    assert Enrolment.objects.get(student=world.student, school_class=five).start == dt.date(2027, 9, 1)
    assert services.held_back_for_opening(world.school, world.class_a.year) == {world.student.pk}


def test_held_back_before_the_next_year_is_left_to_the_year_opening(world):
    order = _draft(world, OrderKind.HELD_BACK, [LineInput(student_id=world.student.pk)])
    assert services.held_back_for_opening(world.school, world.class_a.year) == set()  # a draft counts for nothing
    _sign(world, order)
    assert _open_classes(world.student) == ["5-А"]
    assert services.held_back_for_opening(world.school, world.class_a.year) == {world.student.pk}


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        (OrderKind.STUDY_FORM, {"study_form": "family"}),
        (OrderKind.EXEMPTION, {"reason": "за станом здоров'я"}),
    ],
)
def test_form_of_study_and_exemption_are_recorded_without_moving_anyone(world, kind, line):
    order = _sign(world, _draft(world, kind, [LineInput(student_id=world.student.pk, **line)]))
    assert order.applied_at is not None
    assert _open_classes(world.student) == ["5-А"] and _open_classes(world.other_student) == ["5-Б"]


def test_year_end_order_closes_the_years_enrolments(world):
    order = _sign(world, _draft(world, OrderKind.YEAR_END, []))
    assert _open_classes(world.student) == [] and _open_classes(world.other_student) == []
    assert not Student.objects.get(pk=world.student.pk).has_left  # closing a year is not leaving the school
    assert Enrolment.objects.get(student=world.student).end == order.effective_on


def test_an_order_takes_effect_on_its_day_not_before(world):
    day = timezone.localdate() + dt.timedelta(days=3)
    order = _sign(
        world,
        _draft(world, OrderKind.TRANSFER, [LineInput(student_id=world.student.pk, target_class_id=world.class_b.pk)],
               effective_on=day),
    )  # fmt: skip
    assert order.signed_at is not None and order.applied_at is None
    assert services.apply_due_orders(school=world.school) == (0, 0)
    assert _open_classes(world.student) == ["5-А"]
    with time_machine.travel(dt.datetime.combine(day, dt.time(9)).astimezone(), tick=False):
        assert services.apply_due_orders(school=world.school) == (1, 0)
    assert _open_classes(world.student) == ["5-Б"]
    assert Order.objects.get(pk=order.pk).applied_at is not None


def test_an_order_that_cannot_take_effect_is_not_signed(world):
    # A transfer into the class the student is in: refused at signing, so the order stays a draft.
    order = _draft(
        world, OrderKind.TRANSFER, [LineInput(student_id=world.student.pk, target_class_id=world.class_a.pk)]
    )
    with pytest.raises(DomainError):
        services.sign_order(acting_user=world.director, order=order)
    assert Order.objects.get(pk=order.pk).signed_at is None
    assert _open_classes(world.student) == ["5-А"]


def test_a_signed_order_is_never_edited_only_corrected(world):
    order = _sign(world, _draft(world, OrderKind.EXEMPTION, [LineInput(student_id=world.student.pk, reason="x")]))
    data = _input(world, OrderKind.EXEMPTION, [LineInput(student_id=world.student.pk, reason="y")], number=order.number)
    with pytest.raises(ConflictError):
        services.update_order(acting_user=world.secretary, order=order, data=data)
    with pytest.raises(ConflictError):
        services.delete_draft(acting_user=world.secretary, order=order)
    with pytest.raises(ConflictError):
        services.sign_order(acting_user=world.director, order=order)
    fix = _draft(world, OrderKind.EXEMPTION, [LineInput(student_id=world.student.pk, reason="y")], corrects_id=order.pk)
    assert fix.corrects_id == order.pk and Order.objects.get(pk=order.pk).lines.get().reason == "x"


def test_only_the_director_signs_and_only_the_secretary_or_admin_drafts(world):
    order = _draft(world, OrderKind.EXEMPTION, [LineInput(student_id=world.student.pk, reason="x")])
    for user in (world.secretary, world.admin, world.deputy, world.foreign_admin):
        with pytest.raises(PermissionDeniedError):
            services.sign_order(acting_user=user, order=order)
    for user in (world.director, world.teacher, world.class_teacher, world.viewer):
        with pytest.raises(PermissionDeniedError):
            _draft_as(world, user)
    assert Order.objects.get(pk=order.pk).signed_at is None


def _draft_as(world, user):
    data = _input(world, OrderKind.EXEMPTION, [LineInput(student_id=world.student.pk, reason="x")])
    return services.create_order(acting_user=user, school=world.school, data=data)


def test_numbers_are_unique_per_school_and_year_and_the_next_one_is_suggested(world):
    _draft(world, OrderKind.EXEMPTION, [LineInput(student_id=world.student.pk, reason="x")], number=7)
    assert services.suggested_number(world.school, world.class_a.year) == 8
    with pytest.raises(ConflictError):
        _draft(world, OrderKind.EXEMPTION, [LineInput(student_id=world.other_student.pk, reason="x")], number=7)
    other_year = f.YearFactory(school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30",
                               is_current=False)  # fmt: skip
    assert services.suggested_number(world.school, other_year) == 1


def test_bad_input_is_refused_with_a_message_and_writes_nothing(world):
    me, other = world.student.pk, world.foreign_student.pk
    today = timezone.localdate()
    cases = [
        _input(world, OrderKind.DEPARTURE, []),  # no students
        _input(world, "expelled", [LineInput(student_id=me)]),  # unknown kind
        _input(world, OrderKind.DEPARTURE, [LineInput(student_id=me)]),  # no reason
        _input(world, OrderKind.TRANSFER, [LineInput(student_id=me)]),  # no class
        _input(world, OrderKind.TRANSFER, [LineInput(student_id=me, target_class_id=world.foreign_class.pk)]),
        _input(world, OrderKind.EXEMPTION, [LineInput(student_id=other, reason="x")]),  # another school's student
        _input(world, OrderKind.EXEMPTION, [LineInput(student_id=me, reason="x")] * 2),  # named twice
        _input(world, OrderKind.YEAR_END, [LineInput(student_id=me)]),
        _input(world, OrderKind.ARRIVAL, [LineInput(new_student={"last_name": "Х"}, target_class_id=world.class_a.pk)]),
        _input(world, OrderKind.STUDY_FORM, [LineInput(student_id=me, study_form="online")]),
        _input(
            world, OrderKind.EXEMPTION, [LineInput(student_id=me, reason="x")], effective_on=today - dt.timedelta(1)
        ),
        _input(world, OrderKind.EXEMPTION, [LineInput(student_id=me, reason="x")], effective_on=dt.date(2030, 1, 1)),
        _input(world, OrderKind.EXEMPTION, [LineInput(student_id=me, reason="x")], corrects_id=10**9),
    ]
    for data in cases:
        with pytest.raises(DomainError) as refused:
            services.create_order(acting_user=world.secretary, school=world.school, data=data)
        assert str(refused.value.message)
    assert not Order.objects.exists()


def test_the_daily_command_closes_an_ended_year_once_the_next_one_exists(world):
    f.YearFactory(school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30", is_current=False)
    with time_machine.travel(dt.datetime(2027, 7, 2, 9, 0).astimezone(), tick=False):
        closed = services.close_ended_years(school=world.school)
    assert closed == 2
    assert Enrolment.objects.get(student=world.student).end == world.class_a.year.end
