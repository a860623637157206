"""Events of the appeals app, for notifications (R5.5) to connect to.

Each is sent by the service after its transaction commits, with ``sender`` = the model class and
``instance`` = the report or flag as it is now.
"""

from __future__ import annotations

from django.dispatch import Signal

# A parent reported the reason of an absence; the class teacher should decide on it.
absence_report_submitted = Signal()
# The class teacher accepted or rejected a report; the parent should learn the outcome.
absence_report_decided = Signal()
# A student or parent flagged a mark; the teacher of the journal should answer.
mark_flag_submitted = Signal()
# The teacher answered a flag (confirmed or corrected); the flagger should learn the outcome.
mark_flag_answered = Signal()
