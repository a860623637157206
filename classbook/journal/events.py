"""Events of the journal other apps may react to (notifications), without the journal importing them.

``journal_changed`` is sent once per committed transaction with ``items``: one dict per journal change
(``kind`` as ``ChangeKind``, ``school_id``, ``assignment_id``, ``lesson_id``, ``period_id``,
``student_id``, ``object_id``, ``old``, ``new``). See ``classbook.core.events``.

``journal_announced`` is sent by the worker that drains the journal's outbox (``journal/outbox.py``), inside
the drain's transaction, with the claimed changes as the same items: listeners that must not lose a change
(webhooks) react to it rather than to ``journal_changed``, so a commit whose after-commit signal never came
(the connection lost right after it) still reaches them, and a save pays no query for them.
"""

from __future__ import annotations

from django.dispatch import Signal

journal_changed = Signal()
journal_announced = Signal()
