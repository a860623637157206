"""Backup and restore (R6.7): the restore drill proves every table's rows and every file identical after a
restore into an empty database; a damaged or incomplete backup is refused before anything is touched."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from classbook.archive import services as archive_services
from classbook.archive.models import ArchiveKind, DocumentKind
from classbook.backup import checks, files, services
from classbook.backup.checksums import table_sums
from classbook.backup.errors import BackupError
from classbook.journal.attachments import attach_homework_file
from classbook.journal.models import Lesson, Mark
from classbook.people.models import Role
from tests import factories as f


def _school(media: Path) -> None:
    """A small school with a filled journal, a homework file and an archive file in MEDIA_ROOT."""
    school = f.SchoolFactory(slug="backup-school", name="Ліцей № 7")
    school_class = f.SchoolClassFactory(year=f.YearFactory(school=school), name="7-Б")
    teacher = f.make_member(school, Role.TEACHER, username="teacher7")
    assignment = f.make_assignment(teacher, school_class, f.SubjectFactory(school=school, name="Фізика"))
    f.make_grid(assignment, students=6, lessons=5)
    lesson = Lesson.objects.filter(assignment=assignment).first()
    upload = SimpleUploadedFile("задача.pdf", b"%PDF-1.4 homework \x00\xff")
    attach_homework_file(acting_user=teacher, lesson=lesson, upload=upload)
    # Two archives in the school's hash chain (the files under MEDIA_ROOT/archives/): the restored chain
    # must still verify (the "archive chain" post-restore check).
    for week, end in ((48, dt.date(2026, 11, 27)), (49, dt.date(2026, 12, 4))):
        archive_services.append_record(
            build=None,
            school_class=school_class,
            kind=ArchiveKind.WEEKLY,
            document=DocumentKind.JOURNAL,
            start=end - dt.timedelta(days=6),
            end=end,
            period=None,
            filename=f"2026-w{week}.pdf",
            content=b"%PDF-1.7 weekly archive " + bytes(range(256)) + bytes([week]),
            signed=False,
        )


def _source_sums() -> dict:
    """The live database's tables read the same way restore reads the restored one."""
    if connection.vendor == "sqlite":
        reader = sqlite3.connect(connection.settings_dict["NAME"], uri=True)
        try:
            return table_sums(reader.cursor(), "sqlite")
        finally:
            reader.close()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        return table_sums(cursor, "postgresql")


def _target_sums(target: str) -> dict:
    if connection.vendor == "sqlite":
        reader = sqlite3.connect(target)
        try:
            return table_sums(reader.cursor(), "sqlite")
        finally:
            reader.close()
    wrapper = services._wrapper("default", target, alias="drill_target")
    try:
        wrapper.ensure_connection()
        with wrapper.connection.cursor() as cursor:
            return table_sums(cursor, "postgresql")
    finally:
        wrapper.close()


@pytest.fixture
def empty_target(tmp_path):
    """An empty database to restore into: a new PostgreSQL database next to the test one, or a new SQLite file."""
    if connection.vendor == "sqlite":
        yield str(tmp_path / "restored.sqlite3")
        return
    name = f"{connection.settings_dict['NAME']}_restore"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.django_db(transaction=True)
def test_restore_drill_reproduces_every_row_and_file(settings, tmp_path, empty_target):
    source_media = tmp_path / "media"
    source_media.mkdir()
    settings.MEDIA_ROOT = source_media
    _school(source_media)
    seen: list[int] = []
    checks.register("drill: marks readable", lambda ctx: seen.append(Mark.objects.using(ctx.using).count()) or [])
    try:
        out = io.StringIO()
        call_command("backup", output=tmp_path / "backups", keep=1, stdout=out)
        (made,) = (tmp_path / "backups").iterdir()
        assert f"Backup written to {made}: " in out.getvalue()
        manifest = json.loads((made / services.MANIFEST).read_text())
        assert manifest["database"]["vendor"] == connection.vendor
        assert manifest["tables"]["journal_mark"]["rows"] == Mark.objects.count() > 0
        assert "0001_initial" in manifest["migrations"]["journal"]
        media_files = {n for n in manifest["files"] if n.startswith("media/")}
        assert len(media_files) == 3 and sum(n.startswith("media/archives/") for n in media_files) == 2

        restored_media = tmp_path / "restored-media"
        settings.MEDIA_ROOT = restored_media
        report = services.restore_backup(made, database=empty_target)
    finally:
        checks.unregister("drill: marks readable")

    assert report.restored and report.ok, (report.table_problems, report.file_problems, report.checks)
    assert {c.name for c in report.checks} >= {"referenced files", "archive chain", "drill: marks readable"}
    assert all(c.passed for c in report.checks), report.checks
    assert seen == [Mark.objects.count()]
    # Proven independently of the report: every table's rows and every file byte for byte.
    source = _source_sums()
    assert _target_sums(empty_target) == source and len(source) > 50
    assert _files(restored_media) == _files(source_media)

    # Now the target is not empty: refused without --force; with it, replaced, and a failed check exits 2.
    with pytest.raises(BackupError, match="is not empty"):
        services.restore_backup(made, database=empty_target)
    checks.register("drill: always fails", lambda ctx: ["the chain is broken at record 3"])
    try:
        with pytest.raises(CommandError) as failed:
            call_command("restore", str(made), database=empty_target, force=True, stdout=out)
    finally:
        checks.unregister("drill: always fails")
    assert failed.value.returncode == 2
    assert "Check failed: drill: always fails\n  the chain is broken at record 3" in out.getvalue()
    assert _target_sums(empty_target) == source
    # The built-in check can fail: a row whose file is gone is named.
    next(p for p in restored_media.rglob("*") if p.is_file() and "homework" in p.parts).unlink()
    missing = files.referenced_files_present(checks.RestoreContext(using="default", media_root=restored_media))
    assert len(missing) == 1 and missing[0].startswith("journal.HomeworkAttachment.file: homework/")


@pytest.fixture(scope="module")
def made_backup(django_db_setup, django_db_blocker, tmp_path_factory) -> Path:
    """One backup of the freshly migrated test database with a media file, shared by the refusal tests."""
    root = tmp_path_factory.mktemp("made")
    (root / "media" / "homework").mkdir(parents=True)
    (root / "media" / "homework" / "a.pdf").write_bytes(b"%PDF-1.4 a")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=root / "media"):
        return services.create_backup(output=root / "backups").path


@pytest.fixture
def backup(made_backup, tmp_path) -> Path:
    """A copy of the shared backup that a test may damage."""
    return Path(shutil.copytree(made_backup, tmp_path / made_backup.name))


def _flip_byte(path: Path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[min(offset, len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: _flip_byte(b / services.DATABASE_FILES[connection.vendor], 5000), "checksum mismatch: database"),
        (lambda b: _flip_byte(b / "media/homework/a.pdf", 3), "checksum mismatch: media/homework/a.pdf"),
        (lambda b: (b / "media/homework/a.pdf").unlink(), "missing file: media/homework/a.pdf"),
        (lambda b: _flip_byte(b / services.MANIFEST, 40), "manifest of .* was changed or damaged"),
        (lambda b: (b / services.MANIFEST).unlink(), "manifest.json is missing"),
    ],
    ids=["database byte", "media byte", "media file missing", "manifest byte", "manifest missing"],
)
def test_damaged_backup_is_refused_before_anything_is_restored(backup, tmp_path, damage, message):
    assert call_command("restore", str(backup), verify_only=True) is None  # intact before the damage
    damage(backup)
    target = tmp_path / "target.sqlite3" if connection.vendor == "sqlite" else "never_created_db"
    with pytest.raises(BackupError, match=message):
        services.restore_backup(backup, database=str(target), media_root=tmp_path / "restored-media")
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(backup), verify_only=True)
    assert refused.value.returncode == 1
    assert not (tmp_path / "restored-media").exists() and not Path(str(target)).exists()


def test_backup_of_the_other_vendor_or_a_newer_classbook_is_refused(backup, tmp_path):
    manifest = json.loads((backup / services.MANIFEST).read_text())
    other = Path(shutil.copytree(backup, tmp_path / "other-vendor"))
    manifest["database"]["vendor"] = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    services._write_manifest(other, manifest)
    with pytest.raises(BackupError, match="this site runs on"):
        services.restore_backup(other, database="unused", media_root=tmp_path / "m")

    newer = Path(shutil.copytree(backup, tmp_path / "newer"))
    manifest["database"]["vendor"] = connection.vendor
    manifest["migrations"]["journal"].append("9999_from_the_future")
    services._write_manifest(newer, manifest)
    with pytest.raises(BackupError, match="newer Classbook"):
        services.restore_backup(newer, database="unused", media_root=tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_keep_deletes_all_but_the_newest_backups_and_backups_stay_out_of_media(backup, settings, tmp_path):
    names = ["classbook-20261201T023000Z", "classbook-20261202T023000Z", "classbook-20261203T023000Z"]
    for name in names:
        shutil.copytree(backup, tmp_path / "all" / name)
    (tmp_path / "all" / "notes").mkdir()  # not a backup: never touched
    removed = services.prune_backups(tmp_path / "all", keep=2)
    assert [p.name for p in removed] == names[:1]
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [*names[1:], "notes"]
    settings.MEDIA_ROOT = tmp_path / "media"
    with pytest.raises(BackupError, match="inside MEDIA_ROOT"):
        services.create_backup(output=tmp_path / "media" / "backups")


@pytest.mark.postgres_only
def test_missing_database_or_pg_dump_is_a_clear_error(db, backup, settings, tmp_path):
    with pytest.raises(BackupError, match="Could not connect to the database wt_no_such_db"):
        services.restore_backup(backup, database="wt_no_such_db", media_root=tmp_path / "m")
    settings.BACKUP_PG_BINDIR = str(tmp_path)
    with pytest.raises(BackupError, match="pg_dump was not found"):
        services.create_backup(output=tmp_path / "backups")
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    with pytest.raises(BackupError, match="pg_dump 9 cannot dump a PostgreSQL"):
        services.create_backup(output=tmp_path / "backups")
    assert not list((tmp_path / "backups").iterdir())  # no half-written backup left behind
