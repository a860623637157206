from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "classbook.access"
    label = "access"
