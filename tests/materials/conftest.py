"""Materials on the shared ``world``: a lesson of the teacher's class, a subgroup of class_a with the student,
small files and a helper that publishes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.access.context import resolve_school
from classbook.journal.models import Lesson
from classbook.materials import services
from classbook.materials.models import Material
from classbook.schools.models import Subgroup, TeachingAssignment

NOW = dt.datetime(2026, 10, 7, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 7)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _now(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(NOW, tick=False):
        yield


def ctx_of(world, persona):
    school = world.other_school if persona.startswith("foreign") else world.school
    return resolve_school(world.persona(persona), school.slug)


def pdf(name="test.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def lesson_of(world) -> Lesson:
    assignment = TeachingAssignment.objects.get(teacher=world.teacher, school_class=world.class_a)
    return Lesson.objects.create(
        school=world.school, assignment=assignment, date=TODAY, number=2, created_by=world.teacher
    )


def subgroup_of(world, *, with_student=True) -> Subgroup:
    group = Subgroup.objects.create(school=world.school, school_class=world.class_a, name="Група 1")
    if with_student:
        group.students.add(world.student)
    return group


def publish(world, persona="teacher", *, title="Контрольна", kind="test", audience="library", **kwargs) -> Material:
    if "url" not in kwargs and "upload" not in kwargs:
        kwargs["url"] = "https://example.org/test"
    return services.publish_material(ctx=ctx_of(world, persona), title=title, kind=kind, audience=audience, **kwargs)
