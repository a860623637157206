"""Back up the database and the media files into one folder with a manifest of checksums (docs/backup.md).
Run it daily (systemd timer or cron); ``--keep N`` deletes all but the newest N backups of the folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from classbook.backup import services
from classbook.backup.errors import BackupError


class Command(BaseCommand):
    help = "Back up the database and MEDIA_ROOT into a new folder of the backup root, with a manifest of checksums."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="Folder to write the backup into (default: BACKUP_ROOT).")
        parser.add_argument("--keep", type=int, help="Afterwards keep only the newest N backups of that folder.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            result = services.create_backup(output=options["output"], keep=options["keep"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for path in result.removed:
            self.stdout.write(_("Removed the old backup %(path)s") % {"path": path})
        self.stdout.write(
            _(
                "Backup written to %(path)s: %(tables)s tables, %(rows)s rows, %(files)s files, "
                "%(size).1f MB in %(seconds).1f s."
            )
            % {
                "path": result.path,
                "tables": result.tables,
                "rows": result.rows,
                "files": result.files,
                "size": result.size / 1e6,
                "seconds": time.monotonic() - started,
            }
        )
