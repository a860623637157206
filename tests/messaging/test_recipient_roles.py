"""Whom a parent writes to (issue 14): each recipient with their role for this child, the class teacher first;
a teacher of a subgroup the child is not in is not named as the child's teacher; the subject line is "Тема"."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import translation

from classbook.messaging.forms import ConversationForm
from classbook.people.models import Role
from tests import factories as f
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _labels(page: str) -> list[str]:
    return [
        html.unescape(re.sub(r"\s+", " ", label).strip())
        for label in re.findall(r"<label for=\"id_recipients_\d+\">.*?>(.*?)</label>", page, re.S)
    ]


def test_parent_sees_the_class_teacher_first_then_the_childs_teachers_with_their_subjects(
    world, django_assert_max_num_queries
):
    # A teacher of the other English group is not this child's teacher (the child is in no group here).
    group = f.SubgroupFactory(school_class=world.class_a)
    stranger = f.make_member(world.school, Role.TEACHER, username="english2", last_name="Англієць")
    english = f.SubjectFactory(school=world.school, name="Англійська мова")
    f.make_assignment(stranger, world.class_a, english, subgroup=group)
    client = client_for(world.parent)
    client.cookies["django_language"] = "en"
    url = reverse("messaging:new", args=[world.school.slug]) + f"?student={world.student.pk}"
    with translation.override("en"), django_assert_max_num_queries(20):
        labels = _labels(client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert labels[0] == f"{world.class_teacher.full_name} — class teacher"
    assert f"{world.teacher.full_name} — teacher of Математика" in labels
    assert any(label.startswith(world.director.full_name) and label.endswith("Director") for label in labels)
    assert labels.index(f"{world.teacher.full_name} — teacher of Математика") < next(
        i for i, label in enumerate(labels) if label.startswith(world.director.full_name)
    )
    assert not any("Англійська" in label for label in labels)


def test_the_subject_line_of_a_message_is_not_a_school_subject():
    # Needs the msgctxt "message" entries of /work/wt/po_pwa.txt in the catalogues (the lead merges them).
    label = ConversationForm().fields["subject"].label
    with translation.override("uk"):
        assert str(label) == "Тема"
    with translation.override("ru"):
        assert str(label) == "Тема"


def test_the_api_gives_the_same_roles_and_order(world):
    client = client_for(world.parent)
    url = f"/api/v1/schools/{world.school.slug}/messages/recipients?student_id={world.student.pk}&sort=rank,name"
    with translation.override("en"):
        items = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["items"]
    assert (items[0]["id"], items[0]["role"], items[0]["rank"]) == (world.class_teacher.pk, "class teacher", 0)
    assert {"id": world.teacher.pk, "role": "teacher of Математика", "rank": 1}.items() <= next(
        i for i in items if i["id"] == world.teacher.pk
    ).items()
