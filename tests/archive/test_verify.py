"""The hash chain and the verification: a changed file, a changed record, a removed record (in the middle or
the newest) are each found and named (which archive, expected against found); the command says the same."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from classbook.archive import services, verify
from classbook.archive.models import ArchiveKind, ArchiveRecord, DocumentKind


@pytest.fixture
def chained(world, pdf):
    """Three archives of ``world.school``."""
    from tests.archive.conftest import new_build

    made = new_build(world)
    return [
        services.append_record(
            build=made,
            school_class=school_class,
            kind=ArchiveKind.YEAR,
            document=DocumentKind.SUMMARY,
            start=made.start,
            end=made.end,
            period=None,
            filename=f"summary-{n}.pdf",
            content=pdf,
            signed=False,
        )
        for n, school_class in enumerate([world.class_a, world.class_b, world.class_a], start=1)
    ]


def test_a_fresh_chain_verifies_and_links_each_record_to_the_one_before(world, chained):
    first, second, third = chained
    assert [r.sequence for r in chained] == [1, 2, 3]
    assert (first.previous_hash, second.previous_hash, third.previous_hash) == (
        "",
        first.record_hash,
        second.record_hash,
    )
    assert first.retain_until == dt.date(2027 + 25 + 1, 1, 1) - dt.timedelta(days=1)  # summary sheets: 25 years
    result = verify.verify_school(world.school)
    assert result.ok and (result.records, result.files) == (3, 3)
    assert verify.verify_school(world.other_school).records == 0


def test_a_tampered_file_is_found_with_its_expected_and_found_hash(world, chained):
    path = chained[1].file.path
    with open(path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"X")
    [problem] = verify.verify_school(world.school).problems
    assert (problem.sequence, problem.what) == (2, "file")
    assert problem.expected.startswith(chained[1].sha256) and not problem.found.startswith(chained[1].sha256)


def test_a_removed_record_breaks_the_chain_and_is_named(world, chained):
    ArchiveRecord.objects.filter(pk=chained[1].pk).delete()  # behind the application's back
    problems = verify.verify_school(world.school).problems
    assert [(p.sequence, p.what) for p in problems] == [(2, "missing"), (3, "chain")]
    assert problems[1].expected == "" or problems[1].expected == chained[0].record_hash
    assert problems[1].found == chained[1].record_hash


def test_removing_the_newest_record_is_found_by_the_chain_head(world, chained):
    ArchiveRecord.objects.filter(pk=chained[2].pk).delete()
    [problem] = verify.verify_school(world.school).problems
    assert (problem.sequence, problem.what) == (None, "head")
    assert problem.expected == f"3: {chained[2].record_hash}"


def test_a_changed_record_is_found(world, chained, capsys):
    ArchiveRecord.objects.filter(pk=chained[0].pk).update(retain_until=dt.date(2027, 1, 1))
    [problem] = verify.verify_school(world.school).problems
    assert (problem.sequence, problem.what, problem.expected) == (1, "hash", chained[0].record_hash)
    with pytest.raises(SystemExit):
        call_command("archive", "verify", "--school", world.school.slug)
    out = capsys.readouterr().out
    assert "lyceum-1: archive 1: hash:" in out and out.strip().endswith("archive problems: 1")


def test_the_archive_list_page_and_api_read_a_fixed_number_of_queries(
    world, chained, as_user, django_assert_max_num_queries
):
    client = as_user(world.director)
    with django_assert_max_num_queries(14):  # whatever the number of archives (one page)
        page = client.get(f"/s/{world.school.slug}/archive/")
    assert page.content.decode().count('/file"') == 3
    with django_assert_max_num_queries(8):
        listed = client.get(f"/api/v1/schools/{world.school.slug}/archives?limit=2").json()
    assert [i["number"] for i in listed["items"]] == [3, 2] and listed["count"] == 3
    with django_assert_max_num_queries(6):
        assert client.get(f"/s/{world.school.slug}/archive/", HTTP_HX_REQUEST="true").status_code == 200
