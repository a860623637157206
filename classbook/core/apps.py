from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "classbook.core"
    label = "core"
