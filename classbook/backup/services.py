"""Backups of the database and the media files, and restores that prove what they restored (R6.7; docs/backup.md).

A backup is one folder ``classbook-<UTC time>`` in the backup root:

- ``database.dump`` (PostgreSQL, ``pg_dump`` custom format) or ``database.sqlite3`` (SQLite backup API);
- ``media/``: a copy of MEDIA_ROOT (homework and message files, appeal documents, archives);
- ``manifest.json``: format, Classbook version, database vendor, migration state, every file with its size
  and SHA-256, every table with its row count and the checksum of its rows in primary-key order;
- ``manifest.sha256``: the manifest's own checksum (``sha256sum -c manifest.sha256`` checks it by hand).

It is written as ``.classbook-<time>.partial`` and renamed when complete, so a folder with the plain name is
always a whole backup. ``restore`` checks every checksum before it touches anything, restores into an empty
database, computes the tables' and files' checksums again and runs the registered post-restore checks
(``checks.py``). This module reads tables generically (the connection), never another app's services.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.utils import load_backend
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.backup import checks, postgres, sqlite
from classbook.backup.checksums import CHUNK, TableSum, file_sha256
from classbook.backup.errors import BackupError

FORMAT = "classbook-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
MEDIA = "media"
DATABASE_FILES = {postgres.VENDOR: "database.dump", sqlite.VENDOR: "database.sqlite3"}
PREFIX = "classbook-"
TARGET_ALIAS = "backup_restore_target"


@dataclass
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int
    size: int
    removed: list[Path] = field(default_factory=list)


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    restored: bool = False
    table_problems: list[str] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    extra_files: list[str] = field(default_factory=list)
    pending_migrations: int = 0
    checks: list[checks.CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.table_problems and not self.file_problems and all(c.passed for c in self.checks)


# --- backup -------------------------------------------------------------------------------------------


def create_backup(*, output: Path | None = None, keep: int | None = None, using: str = "default") -> BackupResult:
    """Back up the database and MEDIA_ROOT into a new folder of ``output``; keep the newest ``keep`` backups."""
    output = Path(output or settings.BACKUP_ROOT).resolve()
    media_root = Path(settings.MEDIA_ROOT).resolve()
    if output.is_relative_to(media_root):
        raise BackupError(_("The backup folder must not be inside MEDIA_ROOT (%(media)s).") % {"media": media_root})
    if keep is not None and keep < 1:
        raise BackupError(_("--keep must be at least 1."))
    vendor = _vendor(using)
    if vendor == sqlite.VENDOR and connections[using].in_atomic_block:
        # The backup API would wait for this very transaction to end, for ever.
        raise BackupError(_("A backup cannot be made inside a transaction."))
    output.mkdir(parents=True, exist_ok=True)
    created = timezone.now()
    name = _free_name(output, created.strftime(f"{PREFIX}%Y%m%dT%H%M%SZ"))
    partial = output / f".{name}.partial"
    partial.mkdir()
    try:
        manifest = _write_backup(partial, vendor, using, media_root)
        manifest["created_at"] = created.isoformat()
        _write_manifest(partial, manifest)
        partial.rename(output / name)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    removed = prune_backups(output, keep) if keep else []
    tables = manifest["tables"]
    return BackupResult(
        path=output / name,
        tables=len(tables),
        rows=sum(t["rows"] for t in tables.values()),
        files=len(manifest["files"]),
        size=sum(f["size"] for f in manifest["files"].values()),
        removed=removed,
    )


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(_("Backups support PostgreSQL and SQLite, not %(vendor)s.") % {"vendor": vendor})
    return vendor


def _free_name(output: Path, name: str) -> str:
    candidate, number = name, 1
    while (output / candidate).exists() or (output / f".{candidate}.partial").exists():
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def _write_backup(folder: Path, vendor: str, using: str, media_root: Path) -> dict[str, Any]:
    database_file = folder / DATABASE_FILES[vendor]
    # A connection of its own: the snapshot transaction must not mix with the caller's.
    wrapper = _wrapper(using, connections[using].settings_dict["NAME"], alias=f"{using}_backup")
    try:
        dumped = (postgres if vendor == postgres.VENDOR else sqlite).dump(wrapper, database_file)
    finally:
        wrapper.close()
    files = {database_file.name: {"size": database_file.stat().st_size, "sha256": file_sha256(database_file)}}
    files.update(_copy_media(media_root, folder / MEDIA))
    tables: dict[str, TableSum] = dumped.pop("tables")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "classbook_version": _classbook_version(),
        "database": {
            "vendor": vendor,
            "file": database_file.name,
            **{k: v for k, v in dumped.items() if k != "migrations"},
        },
        "migrations": dumped["migrations"],
        "tables": {name: value.as_json() for name, value in tables.items()},
        "files": files,
    }


def _classbook_version() -> str:
    try:
        return importlib.metadata.version("classbook")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _copy_media(source: Path, target: Path) -> dict[str, dict[str, Any]]:
    """Copy every regular file of MEDIA_ROOT (symbolic links are not followed), hashing while copying."""
    entries: dict[str, dict[str, Any]] = {}
    if not source.is_dir():
        return entries
    for folder, dirs, names in os.walk(source):
        dirs.sort()
        for file_name in sorted(names):
            path = Path(folder) / file_name
            if path.is_symlink() or not path.is_file():
                continue
            relative = path.relative_to(source).as_posix()
            try:
                entries[f"{MEDIA}/{relative}"] = _copy_hashing(path, target / relative)
            except FileNotFoundError:  # deleted while the backup ran: it is not part of this backup
                continue
    return entries


def _copy_hashing(source: Path, target: Path) -> dict[str, Any]:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while block := reader.read(CHUNK):
            digest.update(block)
            writer.write(block)
            size += len(block)
    shutil.copystat(source, target)
    return {"size": size, "sha256": digest.hexdigest()}


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    (folder / MANIFEST).write_bytes(data)
    (folder / MANIFEST_SUM).write_text(f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n")


def prune_backups(output: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete backups of ``output`` (by their time in the name)."""
    backups = sorted(
        p for p in output.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and (p / MANIFEST).is_file()
    )
    doomed = backups[:-keep] if keep else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed


# --- verification ---------------------------------------------------------------------------------------


def verify_backup(path: Path) -> dict[str, Any]:
    """The backup's manifest once every file is there with its size and checksum; else BackupError listing each."""
    path = Path(path)
    if not (path / MANIFEST).is_file() or not (path / MANIFEST_SUM).is_file():
        missing = MANIFEST if not (path / MANIFEST).is_file() else MANIFEST_SUM
        raise BackupError(
            _("%(path)s is not a complete Classbook backup: %(file)s is missing.") % {"path": path, "file": missing}
        )
    data = (path / MANIFEST).read_bytes()
    expected = (path / MANIFEST_SUM).read_text().split()[0] if (path / MANIFEST_SUM).read_text().split() else ""
    if hashlib.sha256(data).hexdigest() != expected:
        raise BackupError(_("The manifest of %(path)s was changed or damaged (checksum mismatch).") % {"path": path})
    manifest = json.loads(data)
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _("%(path)s is not a backup this version of Classbook reads (format %(format)s, version %(version)s).")
            % {"path": path, "format": manifest.get("format"), "version": manifest.get("format_version")}
        )
    problems = [
        problem for name, entry in sorted(manifest["files"].items()) if (problem := _file_problem(path, name, entry))
    ]
    if problems:
        raise BackupError(
            _("The backup %(path)s is damaged; nothing was restored:\n%(problems)s")
            % {"path": path, "problems": "\n".join(problems)}
        )
    return manifest


def _safe(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts


def _file_problem(root: Path, name: str, entry: dict[str, Any]) -> str | None:
    if not _safe(name):
        return _("unsafe file name: %(name)s") % {"name": name}
    path = root / name
    if not path.is_file():
        return _("missing file: %(name)s") % {"name": name}
    if path.stat().st_size != entry["size"] or file_sha256(path) != entry["sha256"]:
        return _("checksum mismatch: %(name)s") % {"name": name}
    return None


# --- restore ----------------------------------------------------------------------------------------------


def restore_backup(
    path: Path,
    *,
    database: str | None = None,
    media_root: Path | None = None,
    force: bool = False,
    verify_only: bool = False,
) -> RestoreReport:
    """Restore a verified backup into an empty database (``database``: another PostgreSQL database's name or
    SQLite file than the configured one) and media folder; then prove the result and run the checks."""
    path = Path(path)
    manifest = verify_backup(path)
    report = RestoreReport(manifest)
    if verify_only:
        return report
    vendor = _vendor("default")
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            _("The backup holds a %(backup)s database; this site runs on %(site)s. Nothing was restored.")
            % {"backup": manifest["database"]["vendor"], "site": vendor}
        )
    report.pending_migrations = _check_migrations(manifest, force)
    default_name = str(connections["default"].settings_dict["NAME"])
    target = str(database or default_name)
    if vendor == sqlite.VENDOR and database and not default_name.startswith("file:"):
        target = str(Path(database).resolve())  # one file, however it is spelled
        default_name = str(Path(default_name).resolve())
    media_root = Path(media_root or settings.MEDIA_ROOT)
    into_default = target == default_name
    if into_default:
        connections.close_all()
    wrapper = _wrapper("default", target, alias="default" if into_default else TARGET_ALIAS)
    try:
        _restore_into(path, manifest, wrapper, media_root, force=force)
        report.restored = True
        _compare(report, manifest, wrapper, media_root)
        report.checks = _run_checks(wrapper, media_root, into_default)
    finally:
        wrapper.close()
    return report


def _check_migrations(manifest: dict[str, Any], force: bool) -> int:
    """Refuse a backup whose applied migrations this code does not know (a newer Classbook) unless forced;
    return how many of this code's migrations the backup lacks (``migrate`` applies them after the restore)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces or [])
    applied = {(app, name) for app, names in manifest.get("migrations", {}).items() for name in names}
    unknown = sorted(applied - known)
    if unknown and not force:
        raise BackupError(
            _(
                "The backup was made by a newer Classbook (%(version)s): %(count)s of its migrations are unknown here, "
                "e.g. %(example)s. Restore it with that version, or use --force."
            )
            % {"version": manifest.get("classbook_version"), "count": len(unknown), "example": ".".join(unknown[0])}
        )
    pending = [
        key
        for key, migration in loader.disk_migrations.items()
        if key not in applied and not (migration.replaces and set(migration.replaces) <= applied)
    ]
    return len(pending)


def _wrapper(using: str, name: str, *, alias: str) -> BaseDatabaseWrapper:
    """A new connection with ``using``'s settings to the database ``name`` (not shared with the ORM's)."""
    settings_dict = dict(connections[using].settings_dict)
    settings_dict["OPTIONS"] = dict(settings_dict.get("OPTIONS") or {})
    settings_dict["NAME"] = name
    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(settings_dict, alias)  # type: ignore[no-any-return]


def _restore_into(
    path: Path, manifest: dict[str, Any], wrapper: BaseDatabaseWrapper, media_root: Path, *, force: bool
) -> None:
    vendor = manifest["database"]["vendor"]
    source = path / manifest["database"]["file"]
    target = Path(wrapper.settings_dict["NAME"])
    if vendor == postgres.VENDOR:
        try:
            wrapper.ensure_connection()
        except DatabaseError as exc:
            raise BackupError(
                _("Could not connect to the database %(name)s (create it first with createdb): %(error)s")
                % {"name": wrapper.settings_dict["NAME"], "error": exc}
            ) from exc
    pg_restore = postgres.check_restore_tools(manifest["database"], wrapper) if vendor == postgres.VENDOR else ""
    empty = postgres.is_empty(wrapper) if vendor == postgres.VENDOR else sqlite.is_empty(target)
    if not empty and not force:
        raise BackupError(
            _("The database %(name)s is not empty. Restore into an empty database, or use --force to replace it.")
            % {"name": wrapper.settings_dict["NAME"]}
        )
    if _has_files(media_root) and not force:
        raise BackupError(
            _("The media folder %(path)s is not empty. Restore into an empty folder, or use --force.")
            % {"path": media_root}
        )
    if vendor == postgres.VENDOR:
        if not empty:
            postgres.empty(wrapper)
        postgres.restore(pg_restore, wrapper, source)
    else:
        sqlite.restore(source, target)
    for name in manifest["files"]:
        if name.startswith(f"{MEDIA}/"):
            _copy_into(path / name, media_root / name.removeprefix(f"{MEDIA}/"))


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def _copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    shutil.copy2(source, temporary)
    os.replace(temporary, target)


def _compare(report: RestoreReport, manifest: dict[str, Any], wrapper: BaseDatabaseWrapper, media_root: Path) -> None:
    """Fill the report with every table and file of the restored site that differs from the manifest."""
    if manifest["database"]["vendor"] == postgres.VENDOR:
        actual = postgres.sums(wrapper)
    else:
        actual = sqlite.sums(Path(wrapper.settings_dict["NAME"]))
    for table, expected in sorted(manifest["tables"].items()):
        found = actual.pop(table, None)
        if found is None:
            report.table_problems.append(_("table missing: %(table)s") % {"table": table})
        elif found.rows != expected["rows"]:
            report.table_problems.append(
                _("%(table)s: %(found)s rows instead of %(expected)s")
                % {"table": table, "found": found.rows, "expected": expected["rows"]}
            )
        elif found.sha256 != expected["sha256"]:
            report.table_problems.append(_("%(table)s: rows differ (checksum mismatch)") % {"table": table})
    report.table_problems += [_("table not in the backup: %(table)s") % {"table": table} for table in sorted(actual)]
    media = {
        name.removeprefix(f"{MEDIA}/"): entry
        for name, entry in manifest["files"].items()
        if name.startswith(f"{MEDIA}/")
    }
    for name, entry in sorted(media.items()):
        if problem := _file_problem(media_root, name, entry):
            report.file_problems.append(problem)
    if media_root.is_dir():
        present = {p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file()}
        report.extra_files = sorted(present - set(media))


def _run_checks(wrapper: BaseDatabaseWrapper, media_root: Path, into_default: bool) -> list[checks.CheckResult]:
    """Run the registered checks against the restored database, through a connection alias of its own."""
    if into_default:
        connections.close_all()  # the ORM reconnects to the restored database
        return checks.run_all(checks.RestoreContext(using="default", media_root=media_root))
    wrapper.ensure_connection()  # connected before the alias exists (Django's tests refuse unknown aliases' connects)
    connections.settings[TARGET_ALIAS] = wrapper.settings_dict
    connections[TARGET_ALIAS] = wrapper
    try:
        return checks.run_all(checks.RestoreContext(using=TARGET_ALIAS, media_root=media_root))
    finally:
        wrapper.close()
        del connections[TARGET_ALIAS]
        del connections.settings[TARGET_ALIAS]
