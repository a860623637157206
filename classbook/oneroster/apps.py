from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OneRosterConfig(AppConfig):
    name = "classbook.oneroster"
    label = "oneroster"
    verbose_name = _("OneRoster")
