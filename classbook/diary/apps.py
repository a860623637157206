from django.apps import AppConfig


class DiaryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classbook.diary"
    label = "diary"
    verbose_name = "Diary"

    def ready(self) -> None:
        from classbook.diary import receivers  # noqa: F401 - connects the cache's invalidation
