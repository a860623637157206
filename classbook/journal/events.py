"""Events of the journal other apps may react to (notifications), without the journal importing them.

``journal_changed`` is sent once per committed transaction with ``items``: one dict per journal change
(``kind`` as ``ChangeKind``, ``school_id``, ``assignment_id``, ``lesson_id``, ``period_id``,
``student_id``, ``object_id``, ``old``, ``new``). See ``classbook.core.events``.
"""

from __future__ import annotations

from django.dispatch import Signal

journal_changed = Signal()
