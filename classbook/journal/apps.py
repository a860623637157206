from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JournalConfig(AppConfig):
    name = "classbook.journal"
    label = "journal"
    verbose_name = _("Journal")

    def ready(self) -> None:
        from classbook.journal import signals  # noqa: F401
