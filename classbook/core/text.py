"""Free text as people type it, checked one way for every service that stores it."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.core.errors import DomainError

# A NUL (PostgreSQL cannot store one) or another control character: no text people type holds one. Tabs and
# line breaks are text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object, *, field: str, limit: int, required: bool = True, message: object = None) -> str:
    """``value`` stripped; a translated ``DomainError`` on ``field`` when it holds a control character, is empty
    though ``required`` (``message``, or "This field is required."), or is longer than ``limit`` characters."""
    value = str(value or "").strip()
    if _CONTROL.search(value):
        raise DomainError(_("The text contains characters that cannot be saved."), code="invalid_text", field=field)
    if required and not value:
        raise DomainError(message or gettext_lazy("This field is required."), code="required", field=field)
    if len(value) > limit:
        raise DomainError(
            _("The text is too long (%(limit)s characters at most).") % {"limit": limit}, code="too_long", field=field
        )
    return value
