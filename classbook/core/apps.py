from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "classbook.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from classbook.core import checks  # noqa: F401 - registers the system checks
        from classbook.core.collation import register_sqlite_collation

        connection_created.connect(register_sqlite_collation, dispatch_uid="classbook_names_collation")
