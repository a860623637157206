"""Signals other apps listen to, so the schools app does not depend on them."""

from django.dispatch import Signal

# Sent by services.create_school after the school and its scales exist (kwargs: school, acting_user).
school_created = Signal()
