from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "classbook.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from classbook.core.metrics import register_collector
        from classbook.notifications import receivers  # noqa: F401
        from classbook.notifications.metrics import deliveries

        register_collector(deliveries)
