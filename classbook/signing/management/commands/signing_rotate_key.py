"""Re-encrypt every stored signing certificate with the current ``SIGNING_KEY`` (docs/signing.md, rotation)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from classbook.signing import keystore, services


class Command(BaseCommand):
    help = (
        "Re-encrypt the schools' signing certificates with the current SIGNING_KEY "
        "(after moving the old key to SIGNING_KEY_FALLBACKS)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = services.rotate_key()
        except keystore.InvalidToken as exc:
            raise CommandError(
                "A certificate cannot be decrypted with SIGNING_KEY or SIGNING_KEY_FALLBACKS: add the old key "
                "to SIGNING_KEY_FALLBACKS and run again."
            ) from exc
        self.stdout.write(f"Re-encrypted {count} signing certificate(s) with the current key.")
