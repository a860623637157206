"""The forecast of period grades (R6.5): figures against an independent computation from the raw marks, the
access table of every page and endpoint (trying to break it), the parents' switch, constant query counts."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.urls import reverse

from classbook.core.models import AuditEntry
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import JournalPolicy, Lesson, Mark, WorkType
from classbook.people.models import Enrolment, Role, Student
from classbook.reports import forecast
from classbook.reports.forecast_services import set_parent_forecast
from classbook.reports.models import ReportSettings
from classbook.schools.models import StudyPeriod, TeachingAssignment
from tests import factories as f
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(autouse=True)
def fixed_today():
    with time_machine.travel(dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


def mark(assignment, student, day, code, work="current", slot=0):
    scale = assignment.effective_scale()
    lesson, _ = Lesson.objects.get_or_create(
        school=assignment.school,
        assignment=assignment,
        date=day,
        number=1,
        defaults={"created_by": assignment.teacher},
    )
    wt = WorkType.objects.get(school=assignment.school, code=work)
    return Mark.objects.create(
        school=assignment.school,
        lesson=lesson,
        student=student,
        work_type=wt,
        slot=slot,
        value=scale.values.get(code=code),
        created_by=assignment.teacher,
        updated_by=assignment.teacher,
    )


@pytest.fixture
def fc(world):
    if not WorkType.objects.filter(school=world.school).exists():
        create_journal_defaults(world.school)
    year = world.class_a.year
    semester = f.PeriodFactory(
        year=year, name="I семестр", ordinal=1, start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 26)
    )
    math_a = TeachingAssignment.objects.get(teacher=world.teacher, school_class=world.class_a)
    hist_b = TeachingAssignment.objects.get(teacher=world.other_teacher, school_class=world.class_b)
    weak = f.make_student(world.class_a, user=f.UserFactory(last_name="Бойко", username="weak"))
    steady = f.make_student(world.class_a, user=f.UserFactory(last_name="Гнатюк", username="steady"))
    empty = f.make_student(world.class_a, user=f.UserFactory(last_name="Дорошенко", username="empty"))
    d = dt.date
    # world.student: 10 (current), 12 (control, weight 2) -> (10 + 24) / 3 = 11.33 -> 11.3 -> 11
    mark(math_a, world.student, d(2026, 9, 10), "10")
    mark(math_a, world.student, d(2026, 10, 1), "12", work="control")
    # weak: 3, 2 -> 2.5 -> 3 (lowest level: at risk); two marks: a wide range
    mark(math_a, weak, d(2026, 9, 10), "3")
    mark(math_a, weak, d(2026, 10, 1), "2")
    # steady: six marks of 8 and a 5 at a control work
    for i in range(6):
        mark(math_a, steady, d(2026, 9, 2 + i), "8")
    mark(math_a, steady, d(2026, 10, 1), "5", work="control")
    # a mark of the last period and one in the future do not count
    mark(math_a, steady, d(2026, 8, 31), "1")
    mark(math_a, steady, d(2026, 12, 1), "1")
    # 5-Б history: other_student 9, 9, 9, 9, 9
    for i in range(5):
        mark(hist_b, world.other_student, d(2026, 9, 2 + i), "9")
    return {"semester": semester, "math_a": math_a, "hist_b": hist_b, "weak": weak, "steady": steady, "empty": empty}


def reference(assignment, student, period, as_of, weighted=True):
    """The likely grade and range from the raw rows, computed here independently (Decimal)."""
    rows = Mark.objects.filter(
        lesson__assignment=assignment,
        student=student,
        lesson__date__gte=period.start,
        lesson__date__lte=as_of,
        value__isnull=False,
    ).values_list("value__numeric", "work_type__weight")
    pairs = [(Decimal(n), Decimal(w) if weighted else Decimal(1)) for n, w in rows if n is not None]
    if not pairs:
        return None
    total = sum(w for _n, w in pairs)
    mean = (sum(n * w for n, w in pairs) / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    grade = int(mean.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    m = float(sum(n * w for n, w in pairs) / total)
    var = sum(float(w) * (float(n) - m) ** 2 for n, w in pairs) / float(total)
    n_eff = float(total) ** 2 / sum(float(w) ** 2 for _n, w in pairs)
    sigma0 = 11 / 8
    s = math.sqrt((n_eff * var + 2 * sigma0**2) / (n_eff + 2))
    half = 1.5 * s / math.sqrt(n_eff)

    def clamp(x):
        return min(12, max(1, int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))))

    return {"mean": mean, "grade": str(grade), "low": str(clamp(m - half)), "high": str(clamp(m + half))}


def _forecasts(fc, world, assignment):
    journals = forecast.journal_assignments(TeachingAssignment.objects.filter(pk=assignment.pk))
    return {
        x.student_id: x for x in forecast.forecasts(journals, fc["semester"], TODAY, school=world.school)[assignment.pk]
    }


def test_figures_agree_with_an_independent_computation_from_the_raw_marks(fc, world):
    found = _forecasts(fc, world, fc["math_a"])
    assert set(found) == {world.student.pk, fc["weak"].pk, fc["steady"].pk, fc["empty"].pk}
    for student in (world.student, fc["weak"], fc["steady"]):
        ref = reference(fc["math_a"], student, fc["semester"], TODAY)
        got = found[student.pk]
        assert (got.mean, got.grade, got.low, got.high) == (ref["mean"], ref["grade"], ref["low"], ref["high"]), student
    # By hand: (10 + 2 × 12) / 3 = 11.33 → 11.3 → 11; 2.5 → 3; (6 × 8 + 2 × 5) / 8 = 7.25 → 7.3 → 7.
    assert [found[s.pk].grade for s in (world.student, fc["weak"], fc["steady"])] == ["11", "3", "7"]
    assert found[fc["steady"].pk].count == 7  # the marks of the period up to today, not before, not after
    # Two marks give a wider range than seven.
    weak, steady = found[fc["weak"].pk], found[fc["steady"].pk]
    assert int(weak.high) - int(weak.low) >= int(steady.high) - int(steady.low)
    assert int(weak.low) <= 3 <= int(weak.high) and int(weak.high) - int(weak.low) >= 2
    # No mark: no grade, below the rule, at risk.
    empty = found[fc["empty"].pk]
    assert (empty.grade, empty.mean, empty.count, empty.required, empty.below) == ("", None, 0, 5, True)
    assert empty.at_risk and weak.at_risk and weak.passing is False
    assert found[world.student.pk].at_risk and found[world.student.pk].passing  # 11, but 2 of 5 marks so far
    assert not found[fc["steady"].pk].at_risk


def test_the_drivers_are_the_marks_that_move_the_average_most(fc, world):
    steady = _forecasts(fc, world, fc["math_a"])[fc["steady"].pk]
    top = steady.drivers[0]
    # Without the control work's 5 (weight 2) the average would be 8: it moved it by 2 × (5 − 7.25) / 6 = −0.75.
    assert (top.value, top.weight, top.work_type, top.shift) == (
        "5",
        Decimal("2.00"),
        "Контрольна робота",
        Decimal("-0.75"),
    )
    assert len(steady.drivers) == 3
    assert all(abs(d.shift) <= abs(top.shift) for d in steady.drivers)


def test_unweighted_school_and_the_accumulation_rule_switched_off(fc, world):
    JournalPolicy.objects.update_or_create(
        school=world.school, defaults={"weighted_averages": False, "accumulation_policy": "off"}
    )
    found = _forecasts(fc, world, fc["math_a"])
    ref = reference(fc["math_a"], world.student, fc["semester"], TODAY, weighted=False)
    assert found[world.student.pk].grade == ref["grade"] == "11"  # (10 + 12) / 2
    assert found[fc["empty"].pk].below is False and not found[fc["empty"].pk].at_risk


def test_at_risk_lists_the_lowest_level_and_too_few_marks(fc, world):
    journals = forecast.journal_assignments(TeachingAssignment.objects.filter(school=world.school))
    lines = forecast.at_risk(journals, fc["semester"], TODAY, school=world.school)
    found = {(line.assignment.pk, line.forecast.student_id) for line in lines}
    math_a, hist_b = fc["math_a"], fc["hist_b"]
    assert (math_a.pk, fc["weak"].pk) in found  # likely 3
    assert (math_a.pk, fc["empty"].pk) in found  # no marks
    assert (math_a.pk, world.student.pk) in found  # 2 marks of 5 required so far
    assert (hist_b.pk, world.other_student.pk) not in found  # 5 marks of 9
    assert (math_a.pk, fc["steady"].pk) not in found


@pytest.mark.parametrize("weighted", [True, False])
def test_the_school_list_from_the_sums_is_the_per_mark_forecast(fc, world, weighted, django_assert_num_queries):
    """The school's list decides risk from the database's sums and reads the marks of the students at risk only:
    the same lines (grade, range, drivers, reason) as every journal's forecast read mark by mark."""
    JournalPolicy.objects.update_or_create(school=world.school, defaults={"weighted_averages": weighted})
    math_a, d = fc["math_a"], dt.date

    def student(name):
        return f.make_student(world.class_a, user=f.UserFactory(last_name=name, username=name))

    one = student("Євтушенко")  # a lone mark of the lowest level: its own driver
    mark(math_a, one, d(2026, 10, 5), "2")
    cleared = student("Жук")  # four marks, one cleared: 3 of the 4 required so far
    for i, code in enumerate(("9", "9", "9", "9")):
        m = mark(math_a, cleared, d(2026, 9, 14 + i), code)
    Mark.objects.filter(pk=m.pk).update(value=None)
    corrected = student("Зінченко")  # 2, 2, 2 and a 2 corrected to 12 (a control work): passing
    for i in range(3):
        mark(math_a, corrected, d(2026, 9, 14 + i), "2")
    m = mark(math_a, corrected, d(2026, 9, 21), "2", work="control")
    Mark.objects.filter(pk=m.pk).update(value=m.value.scale.values.get(code="12"), version=2)
    left = student("Іваненко")  # left in October with a 1: not on the list
    mark(math_a, left, d(2026, 9, 14), "1")
    Enrolment.objects.filter(student=left).update(end=d(2026, 10, 15))
    journals = forecast.journal_assignments(TeachingAssignment.objects.filter(school=world.school))
    policy = JournalPolicy.objects.get(school=world.school)
    # The tallies, the students, the scales, the names, the marks of those at risk.
    with django_assert_num_queries(5):
        lines = forecast.at_risk(journals, fc["semester"], TODAY, school=world.school, policy=policy)
    every = forecast.forecasts(journals, fc["semester"], TODAY, school=world.school, with_drivers=True)
    by_mark = [(a.pk, x) for a in journals for x in every[a.pk] if x.at_risk]

    def key(pair):
        return (pair[0], pair[1].student_id)

    assert sorted(((line.assignment.pk, line.forecast) for line in lines), key=key) == sorted(by_mark, key=key)
    assert len(lines) == len(by_mark) == 5  # one, cleared, weak, empty, world.student (2 marks of 4 so far)
    got = {line.forecast.student_id: line.forecast for line in lines if line.assignment.pk == math_a.pk}
    assert left.pk not in got and fc["steady"].pk not in got
    reasons = {sid: (x.grade, x.passing, x.below) for sid, x in got.items()}
    assert reasons[one.pk] == ("2", False, True)
    assert reasons[cleared.pk] == ("9", True, True) and got[cleared.pk].count == 3
    corrected_grade = "6" if weighted else "5"  # (3 × 2 + 2 × 12) / 5 = 6; unweighted (6 + 12) / 4 = 4.5 → 5
    assert corrected.pk not in got  # passing with 4 of 4 marks
    assert reasons[fc["empty"].pk] == ("", None, True) and got[fc["empty"].pk].drivers == ()
    assert got[one.pk].drivers[0].shift is None and len(got[one.pk].drivers) == 1
    for sid in (one.pk, cleared.pk, fc["weak"].pk, world.student.pk):
        ref = reference(math_a, Student.objects.get(pk=sid), fc["semester"], TODAY, weighted=weighted)
        x = got[sid]
        assert (x.mean, x.grade, x.low, x.high) == (ref["mean"], ref["grade"], ref["low"], ref["high"])
    whole = {x.student_id: x for x in every[math_a.pk]}
    assert whole[corrected.pk].grade == corrected_grade and not whole[corrected.pk].at_risk


# --- Access: every page and endpoint, role × relationship ------------------------------------------------


def _urls(fc, world):
    slug = world.school.slug
    return {
        "index": reverse("reports:forecast", kwargs={"school": slug}),
        "journal": reverse("reports:forecast_journal", kwargs={"school": slug, "assignment": fc["math_a"].pk}),
        "class": reverse("reports:forecast_class", kwargs={"school": slug, "school_class": world.class_a.pk}),
        "risk": reverse("reports:forecast_risk", kwargs={"school": slug}),
        "api_journal": f"/api/v1/schools/{slug}/reports/forecast/journals/{fc['math_a'].pk}",
        "api_risk": f"/api/v1/schools/{slug}/reports/forecast/at-risk",
    }


# persona -> expected status of: index, journal (5-А maths), class (5-А), risk, API journal, API risk
TABLE = {
    "director": (200, 200, 200, 200, 200, 200),
    "deputy": (200, 200, 200, 200, 200, 200),
    "admin": (200, 200, 200, 200, 200, 200),
    "viewer": (200, 200, 200, 200, 200, 200),
    "teacher": (200, 200, 404, 403, 200, 403),  # own journal; not the class's sheet, not the school's list
    "class_teacher": (200, 200, 200, 403, 200, 403),  # every journal of their class
    "other_teacher": (200, 404, 404, 403, 404, 403),  # another class's journal
    "secretary": (403, 403, 403, 403, 403, 403),
    "student": (403, 403, 403, 403, 403, 403),
    "parent": (403, 403, 403, 403, 403, 403),
    "foreign_admin": (404, 404, 404, 404, 404, 404),  # another school
    "foreign_teacher": (404, 404, 404, 404, 404, 404),
}


@pytest.mark.parametrize("persona", sorted(TABLE))
def test_pages_and_api_refuse_whoever_may_not_read_the_forecast(fc, world, persona):
    client = client_for(world.persona(persona))
    urls = _urls(fc, world)
    got = tuple(
        client.get(urls[k]).status_code for k in ("index", "journal", "class", "risk", "api_journal", "api_risk")
    )
    assert got == TABLE[persona]


def test_anonymous_is_sent_to_login_and_the_api_answers_401(fc, world):
    client = client_for(None)
    urls = _urls(fc, world)
    for key in ("index", "journal", "class", "risk"):
        assert client.get(urls[key]).status_code == 302
    for key in ("api_journal", "api_risk"):
        assert client.get(urls[key]).status_code == 401


def test_a_journal_or_class_of_another_school_is_404_even_for_the_director(fc, world):
    foreign = f.make_assignment(world.foreign_teacher, world.foreign_class)
    client = client_for(world.director)
    slug = world.school.slug
    assert (
        client.get(reverse("reports:forecast_journal", kwargs={"school": slug, "assignment": foreign.pk})).status_code
        == 404
    )
    assert (
        client.get(
            reverse("reports:forecast_class", kwargs={"school": slug, "school_class": world.foreign_class.pk})
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/schools/{slug}/reports/forecast/journals/{foreign.pk}").status_code == 404
    assert client.get(f"/api/v1/schools/{slug}/reports/forecast/journals/{2**63}").status_code in (404, 422)


def test_the_journal_page_and_api_show_the_figures(fc, world):
    client = client_for(world.teacher)
    urls = _urls(fc, world)
    page = client.get(urls["journal"]).content.decode()
    assert "Контрольна робота" in page and "Бойко" in page
    data = client.get(urls["api_journal"]).json()
    assert data["count"] == 4
    row = next(i for i in data["items"] if i["student_id"] == fc["steady"].pk)
    assert (row["grade"], row["marks"], row["required"], row["at_risk"]) == ("7", 7, 5, False)
    assert row["drivers"][0]["value"] == "5"
    risk = client_for(world.deputy).get(urls["api_risk"] + "?sort=subject,name").json()
    assert {i["student_id"] for i in risk["items"]} >= {fc["weak"].pk, fc["empty"].pk}


# --- Parents: only when the school shows it --------------------------------------------------------------


def _child_url(world, student):
    return reverse("reports:forecast_child", kwargs={"school": world.school.slug, "student": student.pk})


def test_parents_see_nothing_until_the_school_switches_it_on(fc, world):
    parent = client_for(world.parent)
    assert parent.get(_child_url(world, world.student)).status_code == 404
    set_parent_forecast(acting_user=world.deputy, school=world.school, shown=True)
    page = parent.get(_child_url(world, world.student))
    assert page.status_code == 200 and "Математика" in page.content.decode()
    # Another child, the student themself, another parent, a teacher, another school's people.
    assert parent.get(_child_url(world, world.other_student)).status_code == 404
    assert client_for(world.other_parent).get(_child_url(world, world.student)).status_code == 404
    assert client_for(world.student.user).get(_child_url(world, world.student)).status_code == 403
    assert client_for(world.teacher).get(_child_url(world, world.student)).status_code == 403
    assert client_for(world.foreign_admin).get(_child_url(world, world.student)).status_code == 404
    assert client_for(None).get(_child_url(world, world.student)).status_code == 302
    # A hidden link ("may not see") is no link.
    hidden = f.make_parent(world.student, may_see=False, username="hiddenparent")
    assert client_for(hidden).get(_child_url(world, world.student)).status_code in (403, 404)
    set_parent_forecast(acting_user=world.director, school=world.school, shown=False)
    assert parent.get(_child_url(world, world.student)).status_code == 404


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("director", True), ("deputy", True), ("admin", False), ("teacher", False), ("viewer", False), ("parent", False)],
)
def test_only_the_director_or_a_deputy_switch_it_and_it_is_audited(fc, world, persona, allowed):
    url = reverse("reports:forecast_parents", kwargs={"school": world.school.slug})
    before = AuditEntry.objects.count()
    response = client_for(world.persona(persona)).post(url, {"shown": "1"})
    shown = ReportSettings.objects.filter(school=world.school, forecast_for_parents=True).exists()
    if allowed:
        assert response.status_code == 302 and shown
        entry = AuditEntry.objects.latest("pk")
        assert entry.action == "reports.forecast.parents_switched" and entry.data == {"old": False, "new": True}
    else:
        assert response.status_code in (403, 404) and not shown
        assert AuditEntry.objects.count() == before


def test_the_service_checks_the_role_itself(fc, world):
    from classbook.core.errors import PermissionDeniedError

    for user in (world.teacher, world.admin, world.parent, world.foreign_admin):
        with pytest.raises(PermissionDeniedError):
            set_parent_forecast(acting_user=user, school=world.school, shown=True)
    assert not ReportSettings.objects.filter(forecast_for_parents=True).exists()


def test_parents_setting_is_off_by_default():
    assert ReportSettings._meta.get_field("forecast_for_parents").default is False


# --- Query counts: constant whatever the number of students and marks ---------------------------------------


def _grow(fc, world, students):
    for i in range(students):
        s = f.make_student(world.class_a, user=f.UserFactory(last_name=f"Учень{i:03d}", username=f"grow{i}"))
        for k in range(4):
            mark(fc["math_a"], s, dt.date(2026, 9, 2 + k), str(4 + (i + k) % 8))


@pytest.mark.parametrize("students", [0, 25])
def test_query_counts_are_constant(fc, world, students, django_assert_max_num_queries):
    _grow(fc, world, students)
    urls = _urls(fc, world)
    for persona, keys in (("teacher", ("journal", "api_journal")), ("deputy", ("class", "risk", "api_risk"))):
        client = client_for(world.persona(persona))
        for key in keys:
            with django_assert_max_num_queries(16):
                assert client.get(urls[key]).status_code == 200
    set_parent_forecast(acting_user=world.deputy, school=world.school, shown=True)
    parent = client_for(world.parent)
    with django_assert_max_num_queries(16):
        assert parent.get(_child_url(world, world.student)).status_code == 200


def test_no_study_period_today_means_nothing_to_forecast(fc, world):
    StudyPeriod.objects.filter(pk=fc["semester"].pk).update(end=dt.date(2026, 10, 31))
    client = client_for(world.deputy)
    urls = _urls(fc, world)
    assert client.get(urls["journal"]).status_code == 200
    assert client.get(urls["api_risk"]).json()["count"] == 0
    assert Role.DEPUTY  # the list is empty, not an error


def test_the_diary_links_to_the_forecast_only_when_the_school_shows_it(fc, world):
    diary = (
        reverse("diary:student", kwargs={"school": world.school.slug, "student_id": world.student.pk})
        + "week/2026-11-20/"
    )
    slot = reverse("reports:forecast_child_link", kwargs={"school": world.school.slug, "student": world.student.pk})
    link = _child_url(world, world.student)
    parent = client_for(world.parent)
    # The diary's head loads the link (htmx) for the child's parent only: no query on the diary's page.
    assert slot in parent.get(diary).content.decode()
    assert parent.get(slot).content.decode() == ""
    set_parent_forecast(acting_user=world.director, school=world.school, shown=True)
    assert link in parent.get(slot).content.decode()
    # Another parent's child, the class teacher's preview, the student's own diary: no link, the slot refuses.
    assert client_for(world.other_parent).get(slot).content.decode() == ""
    for user in (world.class_teacher, world.student.user):
        assert slot not in client_for(user).get(diary).content.decode()
        assert client_for(user).get(slot).status_code == 403
