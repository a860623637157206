"""Who reads which reports: role × relationship tables that try to break the rules (access/reports.py)."""

from __future__ import annotations

import pytest

from classbook.access.context import build_context
from classbook.access.reports import (
    may_change_report_settings,
    may_read_reports,
    report_assignments,
    report_classes,
    summary_classes,
)
from classbook.core.models import AuditEntry
from classbook.reports.models import ReportSettings
from tests.conftest import client_for

URL = "/s/lyceum-1/reports/"
API = "/api/v1/schools/lyceum-1/reports"

PAGES = [
    *[(p, 200) for p in ["admin", "director", "deputy", "teacher", "class_teacher", "other_teacher", "viewer"]],
    ("secretary", 403),  # no reports: the roster is theirs
    ("student", 403),
    ("parent", 403),
    ("foreign_admin", 404),  # another school's people: not even the school's existence
    ("foreign_teacher", 404),
    ("foreign_student", 404),
    ("anonymous", 302),
]


@pytest.mark.parametrize(("persona", "status"), PAGES)
@pytest.mark.parametrize("page", ["", "progress/", "settings/"])
def test_report_pages_open_only_for_staff_who_read_reports(world, persona, status, page):
    assert client_for(world.persona(persona)).get(f"{URL}{page}").status_code == status


@pytest.mark.parametrize(("persona", "status"), [(p, 401 if s == 302 else s) for p, s in PAGES])
def test_the_api_refuses_the_same_people(world, built, persona, status):
    response = client_for(world.persona(persona)).get(f"{API}/progress?period=p{built.semester.pk}")
    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("director", 200),
        ("deputy", 200),
        ("viewer", 200),
        ("class_teacher", 200),  # of 5-А
        ("teacher", 403),  # teaches mathematics in 5-А, but the summary sheet is the class teacher's
        ("other_teacher", 403),
        ("parent", 403),
        ("student", 403),
        ("foreign_admin", 404),
        ("anonymous", 302),
    ],
)
def test_the_summary_sheet_of_5a(world, built, persona, status):
    url = f"{URL}summary/?school_class={built.class_a.pk}&period=p{built.semester.pk}"
    assert client_for(world.persona(persona)).get(url).status_code == status


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("class_teacher", "class_b", 404),  # another class
        ("class_teacher", "foreign_class", 404),  # another school's class in our school's URL
        ("deputy", "foreign_class", 404),
        ("deputy", "class_b", 200),
    ],
)
def test_the_summary_sheet_of_another_class(world, built, persona, target, status):
    school_class = getattr(world, target)
    url = f"{URL}summary/?school_class={school_class.pk}&period=p{built.semester.pk}"
    assert client_for(world.persona(persona)).get(url).status_code == status
    api = f"{API}/summary?school_class={school_class.pk}&period=p{built.semester.pk}"
    assert client_for(world.persona(persona)).get(api).status_code == status


def _ctx(world, persona):
    ctx = build_context(world.persona(persona), world.school)
    assert ctx is not None
    return ctx


@pytest.mark.parametrize(
    ("persona", "subjects"),
    [
        ("director", {"Математика", "Історія", "Історія України", "Англійська мова", "Фізична культура"}),
        ("viewer", {"Математика", "Історія", "Історія України", "Англійська мова", "Фізична культура"}),
        ("teacher", {"Математика"}),  # own subject, in both classes
        ("class_teacher", {"Математика", "Історія України", "Англійська мова", "Фізична культура"}),  # 5-А's
        ("other_teacher", {"Історія"}),  # 5-Б's history only
        ("secretary", set()),
        ("parent", set()),
        ("student", set()),
    ],
)
def test_whose_grades_each_persona_counts(world, built, persona, subjects):
    ctx = _ctx(world, persona)
    assert {a.subject.name for a in report_assignments(ctx).select_related("subject")} == subjects


@pytest.mark.parametrize(
    ("persona", "classes", "summaries"),
    [
        ("deputy", {"5-А", "5-Б"}, {"5-А", "5-Б"}),
        ("teacher", {"5-А", "5-Б"}, set()),
        ("class_teacher", {"5-А"}, {"5-А"}),
        ("other_teacher", {"5-Б"}, set()),
        ("student", set(), set()),
    ],
)
def test_which_classes_each_persona_reports_on(world, built, persona, classes, summaries):
    ctx = _ctx(world, persona)
    assert {c.name for c in report_classes(ctx)} == classes
    assert {c.name for c in summary_classes(ctx)} == summaries


def test_a_teachers_page_shows_only_their_own_lines(world, built):
    body = (
        client_for(world.teacher).get(f"{URL}progress/?period=p{built.semester.pk}&group_by=subject").content.decode()
    )
    assert "Математика" in body
    assert "Історія" not in body and "Англійська мова" not in body


def test_a_teachers_api_answer_is_narrowed_the_same_way(world, built):
    body = client_for(world.other_teacher).get(f"{API}/progress?period=p{built.semester.pk}&group_by=subject").json()
    assert [line["label"] for line in body["lines"]] == ["Історія"]
    assert body["lines"][0]["students"] == 1  # the mover left 5-Б before the semester ended


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("admin", True),
        ("director", True),
        ("deputy", False),
        ("teacher", False),
        ("class_teacher", False),
        ("viewer", False),  # read-only
        ("secretary", False),
        ("parent", False),
    ],
)
def test_who_changes_the_definitions(world, persona, allowed):
    assert may_change_report_settings(_ctx(world, persona)) is allowed


@pytest.mark.parametrize(
    ("persona", "status"),
    [("director", 302), ("deputy", 403), ("viewer", 403), ("teacher", 403), ("foreign_admin", 404), ("anonymous", 302)],
)
def test_a_refused_settings_change_changes_nothing(world, persona, status):
    before = AuditEntry.objects.count()
    response = client_for(world.persona(persona)).post(
        f"{URL}settings/", {"basis": "grades", "not_attested_fails": "on", "show_sou": "on"}
    )
    assert response.status_code == status
    if status == 302 and persona != "anonymous":
        saved = ReportSettings.objects.get(school=world.school)
        assert (saved.basis, saved.not_attested_fails, saved.include_departed, saved.show_sou) == (
            "grades",
            True,
            False,
            True,
        )
        entry = AuditEntry.objects.get(action="reports.settings.updated")
        assert entry.data == {
            "old": {"basis": "students", "show_sou": False},
            "new": {"basis": "grades", "show_sou": True},
        }
    else:
        assert not ReportSettings.objects.exists()
        assert AuditEntry.objects.count() == before


def test_a_bad_basis_is_refused_with_a_message(world):
    response = client_for(world.director).post(f"{URL}settings/", {"basis": "everything"})
    assert response.status_code == 422
    assert not ReportSettings.objects.exists()


@pytest.mark.parametrize(
    ("persona", "shown"),
    [
        ("director", True),
        ("teacher", True),
        ("viewer", True),
        ("parent", False),
        ("student", False),
        ("secretary", False),
    ],
)
def test_the_navigation_links_the_reports_exactly_for_those_who_may_read_them(world, persona, shown):
    body = client_for(world.persona(persona)).get("/s/lyceum-1/").content.decode()
    assert (f'href="{URL}"' in body) is shown
    assert may_read_reports(_ctx(world, persona)) is shown


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("teacher", "class_b", 200),  # teaches mathematics there
        ("other_teacher", "class_a", 404),  # teaches nothing in 5-А
        ("class_teacher", "class_b", 404),
        ("deputy", "foreign_class", 404),  # another school's class
        ("deputy", "class_b", 200),
    ],
)
def test_the_progress_api_narrowed_to_a_class_outside_ones_reports_is_404(world, built, persona, target, status):
    school_class = getattr(world, target)
    url = f"{API}/progress?period=p{built.semester.pk}&school_class={school_class.pk}&group_by=subject"
    response = client_for(world.persona(persona)).get(url)
    assert response.status_code == status
    if status == 200 and persona == "teacher":
        assert [line["label"] for line in response.json()["lines"]] == ["Математика"]
