"""Backup and restore of the database, media files and archives, with a manifest of checksums (issue 12)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupConfig(AppConfig):
    name = "classbook.backup"
    label = "backup"
    verbose_name = _("Backups")

    def ready(self) -> None:
        from classbook.backup import checks, files

        checks.register("referenced files", files.referenced_files_present)
