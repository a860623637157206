"""Backup and restore of the database, media files and archives, with a manifest of checksums (issue 12)."""
