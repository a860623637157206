"""A build in the background (django-tasks; at once in tests): every class's document, signed with the
school's certificate, chained, its progress saved; run twice it archives nothing twice."""

from __future__ import annotations

import pytest

from classbook.archive import build, services, verify
from classbook.archive.models import ArchiveKind, ArchiveRecord, BuildStatus, DocumentKind, SignatureState
from classbook.signing import services as signing
from tests.archive.conftest import WEEK
from tests.signing.conftest import PASSWORD


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
    result = verify.verify(world.school)
    assert result.ok, result.problems
    assert result.signatures == 2
    assert build.run(made.pk) == "skipped"  # a finished build is left alone
    assert ArchiveRecord.objects.filter(school=world.school).count() == 2
