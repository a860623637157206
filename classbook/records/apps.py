from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "classbook.records"
    label = "records"
    verbose_name = _("School records")

    def ready(self) -> None:
        from classbook.records import services
        from classbook.schools import opening

        # The year opening holds back the students a signed "held back" order names (R7.2, R7.5).
        opening.held_back_sources.append(services.held_back_for_opening)
