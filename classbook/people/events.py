"""Events of the people app other apps may react to (notifications), without people importing them.

``account_changed`` is sent once per committed transaction (``classbook.core.events.send_on_commit``)
with ``items``: one dict per event that ended a person's access or changed their account —

- ``event``: an ``AccountEvent`` value (``code_redeemed``, ``password_changed``, ``totp_disabled``,
  ``totp_reset``, ``deactivated``, ``reactivated``);
- ``user_id``: the person; ``actor_id``: who did it (the person themself for self-service events);
- ``issuer_id``: for ``code_redeemed``, who issued the code;
- ``school_id``: the school where it happened (None for self-service events);
- ``at``: when, ISO 8601; ``reason``: the administrator's reason ("" when none).

The person is told even when the account is deactivated: the notice is about exactly that.
"""

from __future__ import annotations

from enum import StrEnum

from django.dispatch import Signal

account_changed = Signal()


class AccountEvent(StrEnum):
    CODE_REDEEMED = "code_redeemed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name, not a password
    TOTP_DISABLED = "totp_disabled"
    TOTP_RESET = "totp_reset"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
