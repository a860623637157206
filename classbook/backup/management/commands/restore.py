"""Restore a backup made by ``manage.py backup`` (docs/backup.md): every checksum is verified before anything
is touched, the target must be empty (or ``--force``), and afterwards every table's rows and every file are
compared with the manifest and the registered post-restore checks run.

Exit codes: 0 restored and proven identical; 1 refused or failed (nothing changed unless the message says
so); 2 restored, but a table, a file or a check differs (read the report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from classbook.backup import services
from classbook.backup.errors import BackupError


class Command(BaseCommand):
    help = "Verify a backup and restore it into an empty database and media folder, then prove the result."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The backup folder (classbook-<time>).")
        parser.add_argument(
            "--database",
            help="Restore into this PostgreSQL database (same server and user) or SQLite file, not the configured one.",
        )
        parser.add_argument("--media-root", type=Path, help="Restore the files here instead of MEDIA_ROOT.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a non-empty database, write into a non-empty media folder, accept a newer backup.",
        )
        parser.add_argument("--verify-only", action="store_true", help="Only verify the backup's checksums.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = services.restore_backup(
                options["path"],
                database=options["database"],
                media_root=options["media_root"],
                force=options["force"],
                verify_only=options["verify_only"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = report.manifest
        if not report.restored:
            self.stdout.write(
                _("The backup %(path)s is intact: %(files)s files and %(tables)s tables as its manifest says.")
                % {"path": options["path"], "files": len(manifest["files"]), "tables": len(manifest["tables"])}
            )
            return
        self._write_report(report)
        if not report.ok:
            raise CommandError(_("Restored, but the result differs from the backup (see above)."), returncode=2)
        self.stdout.write(
            _(
                "Restored %(path)s: %(tables)s tables and %(files)s files identical to the backup; "
                "%(checks)s checks passed."
            )
            % {
                "path": options["path"],
                "tables": len(manifest["tables"]),
                "files": len(manifest["files"]),
                "checks": len(report.checks),
            }
        )

    def _write_report(self, report: services.RestoreReport) -> None:
        for problem in report.table_problems + report.file_problems:
            self.stdout.write(self.style.ERROR(problem))
        if report.extra_files:
            self.stdout.write(
                ngettext(
                    "%(count)s file in the media folder is not in the backup (left in place): %(example)s",
                    "%(count)s files in the media folder are not in the backup (left in place), e.g. %(example)s",
                    len(report.extra_files),
                )
                % {"count": len(report.extra_files), "example": report.extra_files[0]}
            )
        for result in report.checks:
            if result.passed:
                self.stdout.write(_("Check passed: %(name)s") % {"name": result.name})
            else:
                self.stdout.write(self.style.ERROR(_("Check failed: %(name)s") % {"name": result.name}))
                for problem in result.problems:
                    self.stdout.write(f"  {problem}")
        if report.pending_migrations:
            self.stdout.write(
                ngettext(
                    "The backup lacks %(count)s migration of this code: run manage.py migrate before the site starts.",
                    "The backup lacks %(count)s migrations of this code: run manage.py migrate before the site starts.",
                    report.pending_migrations,
                )
                % {"count": report.pending_migrations}
            )
