from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "classbook.roster"
    label = "roster"
