from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "classbook.documents"
    label = "documents"
    verbose_name = _("School documents")

    def ready(self) -> None:
        from classbook.documents import signals  # noqa: F401 - connects the school_created receiver
