"""Opening a school year places every promoted student in a new class: one ``enrolment.changed`` event
(``new_year``) each, from the old class to the new, delivered to the school's webhook."""

from __future__ import annotations

from classbook.people.models import Enrolment
from classbook.schools.opening import OpeningInput, open_year
from tests.schools.opening_scene import NEW, scene  # noqa: F401 - fixture reused here


def test_opening_a_year_sends_one_new_year_event_per_placed_student(scene, receiver, subscribe, committed):  # noqa: F811
    w = scene.world
    subscribe(events=["enrolment.changed"])
    with committed():
        open_year(acting_user=w.deputy, school=w.school, data=OpeningInput(**NEW))
    placed = Enrolment.objects.filter(start=NEW["start"])
    events = [r.json["data"] for r in receiver.requests]
    assert {e["change"] for e in events} == {"new_year"}
    expected = set(placed.values_list("student_id", "school_class_id"))
    assert {(e["student_id"], e["class_id"]) for e in events} == expected
    moved = next(e for e in events if e["student_id"] == w.student.pk)
    assert moved["previous_class_id"] == w.class_a.pk
    assert moved["on"] == NEW["start"].isoformat()
    assert all(r.verified for r in receiver.requests)
