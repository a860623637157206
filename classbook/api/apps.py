from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "classbook.api"
    label = "api"
