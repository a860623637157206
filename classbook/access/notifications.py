"""Who may send the class teacher's notices about marks and absences over the school's thresholds (R2.10).

- The class teacher of a class previews and sends them for that class; another class answers 404.
- A read-only authority viewer never sends (403), whatever they could read.
- Everybody reads their own notifications (the bell page): no rule beyond being a member of the school.
"""

from __future__ import annotations

from classbook.access.context import SchoolContext


def may_send_class_notices(ctx: SchoolContext) -> bool:
    """The notices page and API act (a preview is the first step of sending): never a read-only viewer."""
    return not ctx.is_read_only


def keeps_class(ctx: SchoolContext, class_id: int) -> bool:
    """The class is one of the user's homeroom classes (anything else is 404 on the notices page and API)."""
    return class_id in ctx.homeroom_class_ids
