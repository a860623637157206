"""A pytest plugin (``-p tests.secret_key_plugin`` in pyproject.toml): one random secret key per test run.

Settings refuse to start without a key (classbook/settings.py), and pytest-django imports them before any
conftest runs, so the key is put into the environment here, when pytest loads its plugins. ``scripts/test``
exports its own per-run key first (its ``manage.py`` checks need one too); this keeps ``python -m pytest``
from a developer's shell working. Processes a test starts (the task worker, gunicorn) inherit the key.
"""

from __future__ import annotations

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
# The per-request JSON log line (core/observability.py) is for operators; thousands of test requests would
# only flood the output. Tests that check it lower the level themselves.
os.environ.setdefault("REQUEST_LOG_LEVEL", "WARNING")
