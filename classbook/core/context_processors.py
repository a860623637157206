from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def classbook(request: HttpRequest) -> dict[str, Any]:
    """The resolved school context (if any) for the navigation."""
    return {"ctx": getattr(request, "school_ctx", None)}
