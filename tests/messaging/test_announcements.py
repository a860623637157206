"""Announcements and events (R5.4): who publishes for whom, and who is in the audience."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from classbook.access import messaging as rules
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.messaging import services, signals
from classbook.messaging.models import Announcement
from classbook.people.models import GuardianLink
from tests import factories as f
from tests.conftest import client_for
from tests.messaging.conftest import ctx_of


@pytest.fixture
def published(world):
    """One announcement for every kind of audience, plus another year level's and another school's."""
    director = ctx_of(world.director, world.school)
    level5 = world.class_a.year_level
    other_level_class = f.SchoolClassFactory(
        year=world.class_a.year, name="7-А", year_level=f.YearLevelFactory(school=world.school, number=7)
    )
    return {
        "school": services.publish_announcement(director, audience="school", title="Свято", body="1 вересня"),
        "staff": services.publish_announcement(director, audience="staff", title="Нарада", body="О 14:00"),
        "level5": services.publish_announcement(
            director, audience="year_level", year_level=level5, title="5-ті", body="Екскурсія"
        ),
        "level7": services.publish_announcement(
            director, audience="year_level", year_level=other_level_class.year_level, title="7-мі", body="ДПА"
        ),
        "class_a": services.publish_announcement(
            ctx_of(world.class_teacher, world.school),
            audience="class",
            school_class=world.class_a,
            title="5-А",
            body="Збори",
            event_start=timezone.now() + dt.timedelta(days=2),
            place="каб. 12",
        ),
        "class_b": services.publish_announcement(
            director, audience="class", school_class=world.class_b, title="5-Б", body="Збори"
        ),
        "foreign": services.publish_announcement(
            ctx_of(world.foreign_admin, world.other_school), audience="school", title="Чуже", body="x"
        ),
    }


AUDIENCE = {
    "director": {"school", "staff", "level5", "level7", "class_a", "class_b"},
    "teacher": {"school", "staff", "level5", "level7", "class_a", "class_b"},
    "secretary": {"school", "staff", "level5", "level7", "class_a", "class_b"},
    "parent": {"school", "level5", "class_a"},
    "other_parent": {"school", "level5", "class_b"},
    "student": {"school", "level5", "class_a"},
    "other_student": {"school", "level5", "class_b"},
    "viewer": {"school"},
}


@pytest.mark.parametrize(("who", "expected"), AUDIENCE.items())
def test_audience_of_each_persona(world, published, who, expected):
    names = {v.pk: k for k, v in published.items()}
    seen = {names[a.pk] for a in rules.announcements(ctx_of(world.persona(who), world.school))}
    assert seen == expected


def test_parent_with_ended_link_sees_only_school_announcements(world, published):
    GuardianLink.objects.filter(guardian=world.parent).update(ended_on=timezone.localdate())
    seen = set(rules.announcements(ctx_of(world.parent, world.school)).values_list("title", flat=True))
    assert seen == {"Свято"}


@pytest.mark.parametrize(
    ("who", "audience", "target", "allowed"),
    [
        ("director", "school", None, True),
        ("deputy", "staff", None, True),
        ("deputy", "year_level", "level", True),
        ("deputy", "class", "class_b", True),
        ("class_teacher", "class", "class_a", True),
        ("class_teacher", "class", "class_b", False),
        ("class_teacher", "school", None, False),
        ("class_teacher", "staff", None, False),
        ("teacher", "class", "class_a", False),
        ("secretary", "school", None, False),
        ("parent", "school", None, False),
        ("student", "class", "class_a", False),
        ("viewer", "school", None, False),
    ],
)
def test_who_may_publish(world, who, audience, target, allowed):
    kwargs = {}
    if target == "level":
        kwargs["year_level"] = world.class_a.year_level
    elif target:
        kwargs["school_class"] = getattr(world, target)
    call = lambda: services.publish_announcement(  # noqa: E731
        ctx_of(world.persona(who), world.school), audience=audience, title="T", body="B", **kwargs
    )
    if allowed:
        assert call().pk
    else:
        with pytest.raises(PermissionDeniedError):
            call()
        assert not Announcement.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"audience": "school", "title": "", "body": "B"}, "title"),
        ({"audience": "school", "title": "T", "body": "x" * 5001}, "body"),
        ({"audience": "year_level", "title": "T", "body": "B"}, "year_level"),
        ({"audience": "class", "title": "T", "body": "B"}, "school_class"),
        ({"audience": "everyone", "title": "T", "body": "B"}, "audience"),
        ({"audience": "school", "title": "T", "body": "B", "event_end": timezone.now()}, "event_start"),
        (
            {
                "audience": "school",
                "title": "T",
                "body": "B",
                "event_start": timezone.now(),
                "event_end": timezone.now() - dt.timedelta(hours=1),
            },
            "event_end",
        ),
    ],
)
def test_bad_announcement_refused(world, kwargs, field):
    with pytest.raises(DomainError) as exc:
        services.publish_announcement(ctx_of(world.director, world.school), **kwargs)
    assert exc.value.field == field
    assert not Announcement.objects.exists()


def test_withdraw_keeps_the_row_and_is_audited(world, published, django_capture_on_commit_callbacks):
    a = published["class_a"]
    with pytest.raises(PermissionDeniedError):
        services.withdraw_announcement(ctx_of(world.teacher, world.school), announcement=a)
    response = client_for(world.class_teacher).post(f"/s/{world.school.slug}/announcements/{a.pk}/withdraw/")
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.withdrawn_by == world.class_teacher
    assert AuditEntry.objects.filter(action="messaging.announcement.withdrawn", object_id=str(a.pk)).exists()
    assert not rules.announcements(ctx_of(world.parent, world.school)).filter(pk=a.pk).exists()
    assert rules.announcements(ctx_of(world.director, world.school)).filter(pk=a.pk).exists()  # still on record


def test_published_signal(world, django_capture_on_commit_callbacks):
    seen = []
    receiver = lambda sender, instance, **kw: seen.append(instance)  # noqa: E731
    signals.announcement_published.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            a = services.publish_announcement(
                ctx_of(world.director, world.school), audience="school", title="T", body="B"
            )
    finally:
        signals.announcement_published.disconnect(receiver)
    assert seen == [a]


@pytest.mark.parametrize(
    ("who", "key"),
    [
        ("parent", "staff"),
        ("parent", "class_b"),
        ("parent", "level7"),
        ("student", "staff"),
        ("other_parent", "class_a"),
        ("viewer", "staff"),
        ("foreign_admin", "school"),
        ("director", "foreign"),
    ],
)
def test_announcement_outside_audience_is_404(world, published, who, key):
    client = client_for(world.persona(who))
    assert client.get(f"/s/{world.school.slug}/announcements/{published[key].pk}/").status_code == 404


def test_page_publish_and_list(world):
    client = client_for(world.class_teacher)
    url = f"/s/{world.school.slug}/announcements/new/"
    form = client.get(url).context["form"]
    assert [c for c, _ in form.fields["audience"].choices] == ["class"]
    response = client.post(url, {"audience": "class", "school_class": world.class_b.pk, "title": "T", "body": "B"})
    assert "school_class" in response.context["form"].errors  # not a class they may publish for
    response = client.post(url, {"audience": "class", "school_class": world.class_a.pk, "title": "", "body": "B"})
    assert response.status_code == 200 and "title" in response.context["form"].errors
    assert not Announcement.objects.exists()
    response = client.post(
        url,
        {"audience": "class", "school_class": world.class_a.pk, "title": "Збори", "body": "У п'ятницю", "place": "12"},
    )
    assert response.status_code == 302
    assert client_for(world.teacher).get(url).status_code == 403
    page = client_for(world.parent).get(f"/s/{world.school.slug}/announcements/")
    assert [a.title for a in page.context["page"]] == ["Збори"]


@pytest.mark.parametrize("n", [1, 20])
def test_announcement_list_query_count(world, n, django_assert_max_num_queries):
    director = ctx_of(world.director, world.school)
    for i in range(n):
        services.publish_announcement(director, audience="class", school_class=world.class_a, title=f"T{i}", body="B")
    client = client_for(world.parent)
    client.get(f"/s/{world.school.slug}/announcements/")
    with django_assert_max_num_queries(8):
        client.get(f"/s/{world.school.slug}/announcements/")
