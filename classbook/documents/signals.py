"""A new school gets the journal regulations published to everyone (R8.3)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from classbook.documents.services import publish_journal_regulations
from classbook.schools.signals import school_created


@receiver(school_created)
def on_school_created(sender: Any, school: Any, acting_user: Any = None, **kwargs: Any) -> None:
    publish_journal_regulations(school=school, acting_user=acting_user)
