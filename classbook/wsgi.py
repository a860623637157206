"""WSGI entry point for production servers (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
application = get_wsgi_application()

# The objects of the loaded application out of the garbage collector's way (classbook/core/startup.py).
from classbook.core.startup import freeze_startup_objects  # noqa: E402

freeze_startup_objects()
