"""The catalogue of resources (R8.3): rooms are the timetable's, resources are managed by the administration
and the secretary, read by the staff; writes are audited and bad input is refused."""

from __future__ import annotations

import pytest

from classbook.core.errors import DomainError
from classbook.core.models import AuditEntry
from classbook.documents import services
from classbook.documents.models import Resource
from classbook.schools.models import Room
from tests.conftest import client_for


@pytest.fixture
def rooms(world):
    return (
        Room.objects.create(school=world.school, name="Кабінет фізики", capacity=30),
        Room.objects.create(school=world.other_school, name="Foreign room"),
    )


def _add(client, world, **data):
    form = {"kind": "equipment", "title": "Проєктор", "quantity": 2, "state": "good"} | data
    return client.post(f"/s/{world.school.slug}/documents/resources/", form)


def test_secretary_adds_a_resource_in_a_room_and_staff_read_the_catalogue(world, rooms, django_assert_max_num_queries):
    assert _add(client_for(world.secretary), world, inventory_number="INV-1", room=rooms[0].pk).status_code == 302
    resource = Resource.objects.get()
    assert (resource.room, resource.quantity, resource.school) == (rooms[0], 2, world.school)
    assert AuditEntry.objects.get(action="documents.resource.created").data["inventory_number"] == "INV-1"
    teacher = client_for(world.teacher)
    teacher.get(f"/s/{world.school.slug}/documents/resources/")
    with django_assert_max_num_queries(8):
        page = teacher.get(f"/s/{world.school.slug}/documents/resources/").content.decode()
    assert "Проєктор" in page and "Кабінет фізики" in page and "Foreign room" not in page
    assert 'id="add-resource"' not in page


@pytest.mark.parametrize("persona", ["teacher", "student", "parent", "viewer", "foreign_admin"])
def test_others_cannot_change_the_catalogue(world, rooms, persona):
    resource = services.create_resource(acting_user=world.director, school=world.school, kind="library", title="Book")
    client = client_for(world.persona(persona))
    base = f"/s/{world.school.slug}/documents/resources/"
    statuses = {
        _add(client, world).status_code,
        client.post(
            f"{base}{resource.pk}/", {"kind": "library", "title": "X", "quantity": 1, "state": "good"}
        ).status_code,
        client.post(f"{base}{resource.pk}/delete/").status_code,
    }
    assert statuses <= {403, 404}
    assert list(Resource.objects.values_list("title", flat=True)) == ["Book"]


def test_bad_input_is_refused_with_a_message(world, rooms):
    client = client_for(world.director)
    services.create_resource(
        acting_user=world.director, school=world.school, kind="library", title="Book", inventory_number="B-1"
    )
    duplicate = _add(client, world, inventory_number="B-1")
    assert duplicate.status_code == 200 and "inventory number" in duplicate.content.decode()
    assert _add(client, world, room=rooms[1].pk).status_code == 200  # another school's room is not a choice
    assert _add(client, world, quantity=0).status_code == 200
    with pytest.raises(DomainError):
        services.create_resource(
            acting_user=world.director, school=world.school, kind="equipment", title="X", room=rooms[1]
        )
    assert Resource.objects.count() == 1


def test_director_changes_and_removes_a_resource_with_an_audit_trail(world, rooms):
    resource = services.create_resource(acting_user=world.director, school=world.school, kind="library", title="Book")
    client = client_for(world.director)
    base = f"/s/{world.school.slug}/documents/resources/{resource.pk}/"
    assert client.get(base).status_code == 200
    changed = client.post(base, {"kind": "library", "title": "Book", "quantity": 5, "state": "repair"})
    assert changed.status_code == 302
    assert AuditEntry.objects.get(action="documents.resource.updated").data["new"]["state"] == "repair"
    assert client.post(f"{base}delete/").status_code == 302
    assert not Resource.objects.exists()
    assert AuditEntry.objects.get(action="documents.resource.deleted").data["quantity"] == 5
    assert client.get(f"/s/{world.school.slug}/documents/resources/{resource.pk}/").status_code == 404
