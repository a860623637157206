"""The one error of backups and restores: its message is translated and says what to do."""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore was refused or failed; nothing was changed unless the message says so."""
