from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "classbook.journal"
    label = "journal"
