"""Who may send the class teacher's notices about marks and absences over the school's thresholds (R2.10).

- The class teacher of a class previews and sends them for that class; another class answers 404.
- A read-only authority viewer never sends (403), whatever they could read.
- Everybody reads their own notifications (the bell page): no rule beyond being a member of the school.
- The school's SMS and Viber settings (token, senders, prices, monthly limit: the school's money): its
  administrators and director; nobody else of the school (403), never a read-only viewer, never another
  school's administrator (404: the school is not theirs).
- Receiving notifications by SMS or Viber is a guardian's opt-in (the school pays for them): a parent of the
  school opts in for the number in their profile; staff and students are not offered it.
"""

from __future__ import annotations

from classbook.access.context import SchoolContext
from classbook.people.models import Role

PHONE_MANAGERS = frozenset({Role.ADMIN, Role.DIRECTOR})


def may_send_class_notices(ctx: SchoolContext) -> bool:
    """The notices page and API act (a preview is the first step of sending): never a read-only viewer."""
    return not ctx.is_read_only


def keeps_class(ctx: SchoolContext, class_id: int) -> bool:
    """The class is one of the user's homeroom classes (anything else is 404 on the notices page and API)."""
    return class_id in ctx.homeroom_class_ids


def may_manage_phone_settings(ctx: SchoolContext) -> bool:
    """The SMS and Viber settings page, reading and writing alike (it shows the school's spending)."""
    return bool(ctx.roles & PHONE_MANAGERS) and not ctx.is_read_only


def may_opt_in_phone(ctx: SchoolContext) -> bool:
    """A parent of the school may opt in (and out) for notifications by SMS and Viber."""
    return Role.PARENT in ctx.roles and not ctx.is_read_only
