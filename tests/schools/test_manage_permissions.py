"""Who may open and change the administration area (R1.7): persona × page × method → status.

Readers: administrator, director, deputy, authority viewer. Writers: the section's permission
(settings: administrator and director; calendar and structure: also the deputy). Viewers only read.
A refused request changes nothing.
"""

from __future__ import annotations

import pytest

from classbook.core.models import AuditEntry
from classbook.schools.models import AcademicYear, Room, School
from tests.schools.conftest import SECTIONS, manage_url

READERS = {"admin", "director", "deputy", "viewer"}
SCHOOL_PERSONAS = [
    "admin",
    "director",
    "deputy",
    "secretary",
    "teacher",
    "class_teacher",
    "student",
    "parent",
    "viewer",
]
ALL_PERSONAS = [*SCHOOL_PERSONAS, "foreign_admin", "anonymous"]

READ_PAGES = ["", "settings/", "scales/", "workload/", *[f"{s}/" for s in SECTIONS]]


def expected_read(persona: str) -> int:
    if persona == "anonymous":
        return 302
    if persona == "foreign_admin":
        return 404
    return 200 if persona in READERS else 403


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_only_the_administration_and_viewers_read_the_area(world, calendar, as_user, persona):
    client = as_user(world.persona(persona))
    for page in READ_PAGES:
        response = client.get(manage_url("lyceum-1", page))
        assert response.status_code == expected_read(persona), page
        if persona == "anonymous":
            assert "/accounts/login/" in response["Location"]


WRITERS = {
    "settings": {"admin", "director"},
    "year": {"admin", "director", "deputy"},
    "room": {"admin", "director", "deputy"},
}


def _write_request(action: str) -> tuple[str, dict[str, str]]:
    if action == "settings":
        return "settings/", {
            "name": "Changed name",
            "kind": "lyceum",
            "country": "UA",
            "language": "uk",
            "entry_deadline": "17:00",
            "staff_idle_minutes": "30",
            "remember_device_days": "60",
            "offline_window_hours": "72",
            "average_decimals": "2",
        }
    if action == "year":
        return "years/new/", {"name": "2027/2028", "start": "2027-09-01", "end": "2028-06-30"}
    return "rooms/new/", {"name": "Lab 7", "capacity": "30"}


def _state() -> tuple[object, ...]:
    return (
        School.objects.filter(name="Changed name").count(),
        AcademicYear.objects.count(),
        Room.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize("action", sorted(WRITERS))
@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_only_the_right_permission_writes(world, as_user, persona, action):
    path, data = _write_request(action)
    before = _state()
    response = as_user(world.persona(persona)).post(manage_url("lyceum-1", path), data)
    if persona in WRITERS[action]:
        assert response.status_code == 302
        assert "/accounts/login/" not in response["Location"]
        assert _state() != before
        assert AuditEntry.objects.filter(actor=world.persona(persona)).exists()
        return
    if persona == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    elif persona == "foreign_admin":
        assert response.status_code == 404
    else:
        assert response.status_code == 403
    assert _state() == before


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_create_and_edit_forms_are_refused_to_viewers_and_non_managers(world, calendar, as_user, persona):
    client = as_user(world.persona(persona))
    pages = ["classes/new/", f"classes/{world.class_a.pk}/", f"rooms/{calendar.room.pk}/delete/", "scales/new/"]
    expected = 200 if persona in {"admin", "director", "deputy"} else expected_read(persona)
    if persona == "viewer":
        expected = 403
    for page in pages:
        assert client.get(manage_url("lyceum-1", page)).status_code == expected, page


def test_the_navigation_shows_administration_to_readers_only(world, as_user):
    link = 'href="/s/lyceum-1/manage/"'
    assert link in as_user(world.director).get("/s/lyceum-1/").content.decode()
    assert link in as_user(world.viewer).get("/s/lyceum-1/").content.decode()
    assert link not in as_user(world.teacher).get("/s/lyceum-1/").content.decode()
    assert link not in as_user(world.parent).get("/s/lyceum-1/").content.decode()


def test_viewer_sees_settings_read_only(world, as_user):
    page = as_user(world.viewer).get(manage_url("lyceum-1", "settings/")).content.decode()
    assert 'name="name"' in page and "disabled" in page
    assert ">Зберегти<" not in page and ">Save<" not in page


def test_readers_without_the_permission_see_no_edit_buttons(world, calendar, as_user):
    viewer_page = as_user(world.viewer).get(manage_url("lyceum-1", "classes/")).content.decode()
    assert "/manage/classes/new/" not in viewer_page
    assert f"/manage/classes/{world.class_a.pk}/" not in viewer_page
    deputy_page = as_user(world.deputy).get(manage_url("lyceum-1", "classes/")).content.decode()
    assert "/manage/classes/new/" in deputy_page
    deputy_settings = as_user(world.deputy).get(manage_url("lyceum-1", "settings/")).content.decode()
    assert "disabled" in deputy_settings
