from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "classbook.core"
    label = "core"

    def ready(self) -> None:
        from classbook.core import checks  # noqa: F401 - registers the system checks
