"""Re-encrypt every school's SMS token with the current ``SIGNING_KEY`` (docs/notifications.md, SMS and Viber)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from classbook.notifications import services
from classbook.signing import keystore


class Command(BaseCommand):
    help = (
        "Re-encrypt the schools' SMS tokens with the current SIGNING_KEY "
        "(after moving the old key to SIGNING_KEY_FALLBACKS)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = services.rotate_phone_tokens()
        except keystore.InvalidToken as exc:
            raise CommandError(
                "An SMS token cannot be decrypted with SIGNING_KEY or SIGNING_KEY_FALLBACKS: add the old key "
                "to SIGNING_KEY_FALLBACKS and run again."
            ) from exc
        self.stdout.write(f"Re-encrypted {count} SMS token(s) with the current key.")
