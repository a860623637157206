"""Retention (R6.8): an archive is never deleted one by one (refused with a translated reason and audited,
on the page and in the API); after its term it goes into a destruction act that only the director confirms,
which removes the file and keeps the record, so the chain still verifies."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import time_machine
from django.utils import translation

from classbook.archive import services, verify
from classbook.archive.models import ArchiveKind, ArchiveRecord, DestructionAct, DocumentKind
from classbook.core.models import AuditEntry

LATER = dt.datetime(2029, 2, 2, 10, 0, tzinfo=dt.UTC)  # journals kept 1 year (below) are past their term


@pytest.fixture
def kept(world, pdf):
    from tests.archive.conftest import new_build

    services.change_settings(acting_user=world.director, school=world.school, values={"journal_retention_years": 1})
    made = new_build(world)
    return [
        services.append_record(
            build=made,
            school_class=world.class_a,
            kind=ArchiveKind.YEAR,
            document=document,
            start=made.start,
            end=made.end,
            period=None,
            filename=f"{document}.pdf",
            content=pdf,
            signed=False,
        )
        for document in (DocumentKind.JOURNAL, DocumentKind.SUMMARY)
    ]


def test_deleting_before_the_term_is_refused_translated_and_audited(world, kept, as_user):
    journal, _summary = kept
    assert journal.retain_until == dt.date(2028, 12, 31)
    client = as_user(world.director)
    answer = client.delete(f"/api/v1/schools/{world.school.slug}/archives/{journal.pk}")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "retention" and "31.12.2028" in answer.json()["error"]["message"]
    page = client.post(f"/s/{world.school.slug}/archive/{journal.pk}/delete/", follow=True)
    assert "must be kept until 31.12.2028" in page.content.decode()
    with translation.override("uk"), pytest.raises(services.ArchiveError) as refused:
        services.refuse_delete(acting_user=world.director, record=journal)
    assert "31.12.2028" in str(refused.value.message)
    assert AuditEntry.objects.filter(school=world.school, action="archive.delete.refused").count() == 3
    assert ArchiveRecord.objects.filter(pk=journal.pk, destroyed_at__isnull=True).exists()
    assert os.path.exists(journal.file.path)


def test_after_the_term_only_the_director_confirms_the_destruction_act(
    world, kept, as_user, django_capture_on_commit_callbacks
):
    journal, summary = kept
    slug = world.school.slug
    with time_machine.travel(LATER):
        assert world.deputy and as_user(world.deputy).post(f"/s/{slug}/archive/destruction/").status_code == 403
        admin = as_user(world.admin)
        refused = admin.delete(f"/api/v1/schools/{slug}/archives/{journal.pk}")
        assert refused.json()["error"]["code"] == "destruction_act_needed"
        admin.post(f"/s/{slug}/archive/destruction/")
        act = DestructionAct.objects.get(school=world.school)
        assert list(act.records.values_list("pk", flat=True)) == [journal.pk]  # summary sheets: 25 years
        admin.post(f"/s/{slug}/archive/destruction/{act.pk}/confirm/")
        assert DestructionAct.objects.get(pk=act.pk).confirmed_at is None  # an administrator cannot confirm
        path = journal.file.path
        with django_capture_on_commit_callbacks(execute=True):
            page = as_user(world.director).post(f"/s/{slug}/archive/destruction/{act.pk}/confirm/", follow=True)
        assert page.status_code == 200
    act.refresh_from_db()
    assert act.confirmed_by == world.director and [i["sequence"] for i in act.contents] == [journal.sequence]
    assert act.contents[0]["sha256"] == journal.sha256
    journal.refresh_from_db()
    assert journal.destroyed_at is not None and not journal.file and journal.record_hash
    assert not os.path.exists(path) and os.path.exists(summary.file.path)
    result = verify.verify_school(world.school)
    assert result.ok and (result.destroyed, result.files) == (1, 1)
    assert AuditEntry.objects.filter(school=world.school, action="archive.act.confirmed").count() == 1
