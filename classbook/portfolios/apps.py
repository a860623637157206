from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortfoliosConfig(AppConfig):
    name = "classbook.portfolios"
    label = "portfolios"
    verbose_name = _("Portfolios")
