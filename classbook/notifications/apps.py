from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "classbook.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from classbook.notifications import receivers  # noqa: F401
