"""A build in the background (django-tasks; at once in tests): every class's document, signed with the
school's certificate, chained, its progress saved; run twice it archives nothing twice."""

from __future__ import annotations

import pytest

from classbook.archive import build, services, verify
from classbook.archive.models import ArchiveKind, ArchiveRecord, BuildStatus, DocumentKind, SignatureState
from classbook.signing import services as signing
from tests.archive.conftest import WEEK
from tests.signing.conftest import PASSWORD, leaf_naming


@pytest.fixture
def certified(world, certs):
    signing.upload_certificate(acting_user=world.admin, school=world.school, data=certs.leaf.p12, password=PASSWORD)


def test_a_weekly_build_archives_every_class_signed_and_verifiable(world, data, certified):
    made = services.start_build(
        school=world.school,
        kind=ArchiveKind.WEEKLY,
        year=world.class_a.year,
        start=WEEK[0],
        end=WEEK[1],
        acting_user=world.director,
    )
    assert made is not None and made.status == BuildStatus.DONE and (made.done, made.total) == (2, 2)
    records = list(ArchiveRecord.objects.filter(build=made).order_by("sequence"))
    assert [(r.school_class_id, r.document, r.signature) for r in records] == [
        (world.class_a.pk, DocumentKind.JOURNAL, SignatureState.SIGNED),
        (world.class_b.pk, DocumentKind.JOURNAL, SignatureState.SIGNED),
    ]
    assert records[0].file.name.startswith(f"archives/{world.school.pk}/2026/")
    # The test certificate names no revocation service: B-B, and the record says why it is not B-LT.
    assert {(r.signature_level, r.signature_not_lt) for r in records} == {("PAdES-B-B", "no_revocation_info")}
    assert records[0].not_lt_reason == "the certificate names no revocation service (CRL or OCSP)"
    result = verify.verify(world.school)
    assert result.ok, result.problems
    assert result.signatures == 2
    assert build.run(made.pk) == "skipped"  # a finished build is left alone
    assert ArchiveRecord.objects.filter(school=world.school).count() == 2


@pytest.fixture
def quick_pdf(monkeypatch, pdf):
    """Every document made from the session's small PDF (the layout is tested in test_build): the tests
    below are about the tasks, the parts and the chain."""
    monkeypatch.setattr(build, "journal_pdf", lambda *args, **kwargs: pdf)
    monkeypatch.setattr(build, "summary_pdf", lambda *args, **kwargs: pdf)


def test_a_certificate_with_a_reachable_crl_signs_the_archives_b_lt(
    world, certs, quick_pdf, tsa_url, crl_url, settings
):
    """The revocation information is fetched once per document and embedded (docs/signing.md, B-LT)."""
    from tests.archive.conftest import new_build

    settings.SIGNING_TSA_URL = tsa_url
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True  # the test CA's CRL is served on 127.0.0.1
    p12 = leaf_naming(certs, crl_url)
    signing.upload_certificate(acting_user=world.admin, school=world.school, data=p12, password=PASSWORD)
    made = new_build(world, kind=ArchiveKind.WEEKLY)
    build.run(made.pk)
    records = list(ArchiveRecord.objects.filter(build=made))
    assert len(records) == 2
    assert {(r.signature_level, r.signature_not_lt, r.not_lt_reason) for r in records} == {("PAdES-B-LT", "", "")}
    result = verify.verify(world.school)
    assert result.ok and result.signatures == 2, result.problems


def test_classes_made_in_any_order_are_chained_in_the_fixed_order(world, quick_pdf):
    from tests.archive.conftest import new_build

    made = new_build(world, kind=ArchiveKind.YEAR)
    assert build.run_class(made.pk, world.class_b.pk) == "made"  # 5-Б first: waits for 5-А
    assert not ArchiveRecord.objects.filter(build=made).exists()
    assert build.run_class(made.pk, world.class_a.pk) == "done"  # the last class seals the build
    assert build.run_class(made.pk, world.class_a.pk) == "skipped"  # run again: nothing twice
    made.refresh_from_db()
    assert (made.status, made.done) == (BuildStatus.DONE, 2)
    records = ArchiveRecord.objects.filter(build=made).order_by("sequence")
    assert [(r.school_class_id, r.document) for r in records] == [
        (world.class_a.pk, DocumentKind.JOURNAL),
        (world.class_a.pk, DocumentKind.SUMMARY),
        (world.class_b.pk, DocumentKind.JOURNAL),
        (world.class_b.pk, DocumentKind.SUMMARY),
    ]
    assert verify.verify(world.school).ok


def test_a_failed_class_fails_the_build_and_trying_again_makes_only_what_is_missing(world, quick_pdf, monkeypatch, pdf):
    def broken(school_class, *args, **kwargs):
        if school_class == world.class_a:  # made after 5-Б (the upper grades, then the later names, go first)
            raise OSError("disk full")
        return pdf

    monkeypatch.setattr(build, "journal_pdf", broken)
    made = services.start_build(
        school=world.school, kind=ArchiveKind.SEMESTER, year=world.class_a.year, start=WEEK[0], end=WEEK[1]
    )
    assert made is not None and made.status == BuildStatus.FAILED and made.done == 1
    assert "5-А" in made.error and "OSError" in made.error
    assert not ArchiveRecord.objects.filter(build=made).exists()  # nothing is chained from a failed build
    assert made.parts.count() == 2  # 5-Б's journal and summary sheet are kept for the retry

    monkeypatch.setattr(build, "journal_pdf", lambda *args, **kwargs: pdf)
    again = services.retry_build(acting_user=world.director, build=made)
    assert (again.status, again.done, again.total, again.error) == (BuildStatus.DONE, 2, 2, "")
    assert made.parts.count() == 4 and ArchiveRecord.objects.filter(build=made).count() == 4
    assert verify.verify(world.school).ok
    with pytest.raises(services.ArchiveError):
        services.retry_build(acting_user=world.director, build=made)  # only a failed build is tried again


def test_the_progress_poll_reloads_the_list_when_a_build_finishes(world, as_user, pdf):
    from classbook.archive.models import ArchiveBuild
    from tests.archive.conftest import new_build

    client = as_user(world.director)
    url = f"/s/{world.school.slug}/archive/"
    working = new_build(world)
    ArchiveBuild.objects.filter(pk=working.pk).update(status=BuildStatus.RUNNING, total=2, done=1)
    page = client.get(url)
    assert f"?working={working.pk}" in page.content.decode() and "1 of 2 classes" in page.content.decode()
    poll = client.get(f"{url}?working={working.pk}", headers={"HX-Request": "true"})
    assert "HX-Trigger" not in poll  # still working
    ArchiveBuild.objects.filter(pk=working.pk).update(status=BuildStatus.DONE)
    poll = client.get(f"{url}?working={working.pk}", headers={"HX-Request": "true"})
    assert poll["HX-Trigger"] == "archive-finished" and "hx-get" not in poll.content.decode()  # polling stops
    listed = client.get(f"{url}?part=list", headers={"HX-Request": "true"})
    assert "<table" not in listed.content.decode() and "No archives yet" in listed.content.decode()
    assert 'hx-trigger="archive-finished from:body"' in client.get(url).content.decode()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_finishing_together_chain_the_build_once_in_order(world, quick_pdf, monkeypatch):
    """Two classes' tasks on two connections (two workers) reach the seal at the same moment: one appends
    every part under the chain's lock, the other finds the build sealed; the chain does not fork."""
    import threading

    from django.db import connection

    from classbook.archive.models import ArchiveBuild
    from tests.archive.conftest import new_build

    made = new_build(world, kind=ArchiveKind.WEEKLY)
    ArchiveBuild.objects.filter(pk=made.pk).update(status=BuildStatus.RUNNING, total=2)
    barrier, seal = threading.Barrier(2), services.seal
    results: list[str] = []

    def together(*args, **kwargs):
        barrier.wait(timeout=30)
        return seal(*args, **kwargs)

    monkeypatch.setattr(services, "seal", together)

    def work(class_id: int) -> None:
        try:
            results.append(build.run_class(made.pk, class_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c.pk,)) for c in (world.class_b, world.class_a)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["done", "made"]
    made.refresh_from_db()
    assert (made.status, made.done) == (BuildStatus.DONE, 2)
    records = ArchiveRecord.objects.filter(school=world.school).order_by("sequence")
    assert [(r.sequence, r.school_class_id) for r in records] == [(1, world.class_a.pk), (2, world.class_b.pk)]
    assert verify.verify(world.school).ok
