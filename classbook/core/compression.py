"""Pages are sent gzip-compressed to a browser that accepts it (issue 14: the diary's first paint on a phone).

A page's HTML (15-100 KiB) shrinks four to six times; on a phone's network every kilobyte is time before the
first paint. Only whole HTML pages are compressed: downloads (PDF, ZIP, CSV: streamed, often compressed
already) and the API's JSON (its ETags are compared byte for byte, docs/api.md) are left as they are, and the
static files come compressed from WhiteNoise. Django's ``GZipMiddleware`` does the work, with its BREACH
mitigation (random bytes in each compressed answer; the CSRF token is masked anew on each page as well).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class CompressPagesMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.streaming or response.get("Content-Type", "").split(";")[0].strip() != "text/html":
            return response
        return super().process_response(request, response)
