"""Events of the timetable other apps may react to (notifications), without the timetable importing them.

``lesson_changed`` is sent once per committed transaction with ``items``: one dict per recorded lesson
change (``kind`` as ``timetable.models.ChangeKind``: substituted, cancelled, merged, moved;
``school_id``, ``lesson_id``, ``change_id``). See ``classbook.core.events``.
"""

from __future__ import annotations

from django.dispatch import Signal

lesson_changed = Signal()
