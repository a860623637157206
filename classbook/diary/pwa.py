"""The diary as an installable web app: the web manifest, the service worker and the offline marks of a page.

The worker (``static/classbook/sw.js``) is answered from ``/sw.js`` rather than from ``/static/``: a worker
controls only the pages under the folder of its script, and the diary lives under ``/s/<school>/diary/``
while static files live under ``/static/``. Its ``Cache-Control: no-cache`` makes browsers check for a new
version on every visit (they never keep a worker script longer than a day anyway).

Diary pages are ``Cache-Control: private, no-store``: no shared cache and not the browser's own HTTP cache
keeps them (the back button after logout shows nothing). The offline copy is the worker's own, in Cache
Storage, under a key of the user (``offline_key``); it is deleted at logout. See docs/diary.md.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from classbook.core.offline import mark_keepable, offline_key

__all__ = ["manifest", "mark_keepable", "offline_key", "service_worker"]

WORKER_SOURCE = Path(settings.BASE_DIR) / "classbook" / "static" / "classbook" / "sw.js"


@functools.cache
def _worker_script() -> str:
    # STATIC_URL itself, not static(""): the manifest storage has no entry for "" and would refuse it.
    prefix = settings.STATIC_URL or "/static/"
    return WORKER_SOURCE.read_text(encoding="utf-8").replace("__STATIC_URL__", prefix)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_worker_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web manifest (installing the diary on a phone's home screen), in the reader's language."""
    data = {
        "name": _("Classbook diary"),
        "short_name": _("Diary"),
        "lang": request.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [
            {"src": static(f"classbook/icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ],
    }
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response
