from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ArchiveConfig(AppConfig):
    name = "classbook.archive"
    label = "archive"
    verbose_name = _("Archives")

    def ready(self) -> None:
        from classbook.archive import verify
        from classbook.backup import checks

        # A restored backup (manage.py restore, docs/backup.md) must still verify: files, chain and signatures.
        checks.register("archive chain", verify.restored_chains)
