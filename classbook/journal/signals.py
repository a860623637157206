"""A new school gets the default work types and attendance codes of its country."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from classbook.journal.defaults import create_journal_defaults
from classbook.schools.signals import school_created


@receiver(school_created)
def on_school_created(sender: Any, school: Any, **kwargs: Any) -> None:
    create_journal_defaults(school)
