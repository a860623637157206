"""The OneRoster page of a school's administration (issue 13): export the school as a OneRoster 1.2 CSV zip,
import a package (all or nothing, every problem listed by file and row) and, for the director, the platforms
that read the REST provider (register with the secret shown once, revoke). Thin: the services and rules the
JSON API uses (``api/routes/oneroster.py``, ``access/oneroster.py``), so the page and the API refuse the same
people."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from classbook.access import oneroster as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.core.errors import DomainError
from classbook.core.params import whole_number
from classbook.oneroster import services
from classbook.oneroster.imports import ImportRefused
from classbook.oneroster.models import SCOPES

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # as the API's import


def _context(ctx: SchoolContext, **extra: Any) -> dict[str, Any]:
    clients = list(access.oneroster_clients(ctx).order_by("-created_at")[:200])
    return {
        "ctx": ctx,
        "may_manage_clients": access.may_manage_oneroster_clients(ctx),
        "clients": clients,
        "scopes": [(s, s.rsplit("/", 1)[-1]) for s in SCOPES],
        "chosen_scopes": [],
        **extra,
    }


@school_view(writes=True, rule=access.may_exchange_oneroster)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The page; a POST is an import (the roster, or with ``what=gradebook`` the marks): a refused package lists
    every problem and nothing is saved."""
    errors: list[dict[str, Any]] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError(_("Choose a OneRoster zip file."), field="file")
            if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
                raise DomainError(_("The file is too large."), field="file")
            gradebook = request.POST.get("what") == "gradebook"
            door = services.import_gradebook if gradebook else services.import_package
            result = door(acting_user=ctx.user, school=ctx.school, data=upload.read())
        except ImportRefused as exc:
            messages.error(request, str(exc.message))
            errors = [e.as_dict() for e in exc.errors]
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            counts = ", ".join(f"{name}: {n}" for name, n in sorted(result.counts.items()))
            messages.success(request, _("The package is imported (%(counts)s).") % {"counts": counts})
            return redirect("oneroster_pages:index", school=ctx.school.slug)
    status = 422 if errors else 400 if request.method == "POST" else 200
    return render(request, "oneroster/page.html", _context(ctx, errors=errors), status=status)


def _since(raw: str) -> dt.datetime | None:
    """The delta's start from the form (a local date-time or a date); ``None`` for a bulk export."""
    raw = raw.strip()
    if not raw:
        return None
    when = parse_datetime(raw if "T" in raw or " " in raw else f"{raw}T00:00")
    if when is None:
        raise DomainError(_("Enter the date and time the changes start from."), field="since")
    return timezone.make_aware(when) if timezone.is_naive(when) else when


@school_view(rule=access.may_exchange_oneroster)
def export(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school as a OneRoster 1.2 CSV zip: bulk, or the changes since ``since`` (a delta)."""
    try:
        since = _since(request.GET.get("since", "")[:40])
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("oneroster_pages:index", school=ctx.school.slug)
    data = services.export_package(acting_user=ctx.user, school=ctx.school, since=since)
    response = HttpResponse(data, content_type="application/zip")
    kind = "delta" if since else "bulk"
    response["Content-Disposition"] = f'attachment; filename="oneroster-{ctx.school.slug}-{kind}.zip"'
    return response


@school_view(writes=True, rule=access.may_manage_oneroster_clients)
def clients(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Register a platform (its secret shown once, on the answer) or revoke one; GET goes to the page."""
    if request.method != "POST":
        return redirect("oneroster_pages:index", school=ctx.school.slug)
    try:
        if request.POST.get("action") == "revoke":
            raw = request.POST.get("client", "")
            client = get_or_404(access.oneroster_clients(ctx), pk=whole_number(raw, 0))
            services.revoke_client(acting_user=ctx.user, client=client)
            messages.success(request, _("The platform is revoked: its tokens no longer work."))
            return redirect("oneroster_pages:index", school=ctx.school.slug)
        done = services.register_client(
            acting_user=ctx.user,
            school=ctx.school,
            name=request.POST.get("name", "")[:200],
            scopes=request.POST.getlist("scopes")[:10],
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        context = _context(ctx, name=request.POST.get("name", "")[:200], chosen_scopes=request.POST.getlist("scopes"))
        return render(request, "oneroster/page.html", context, status=400)
    return render(request, "oneroster/secret.html", {"ctx": ctx, "client": done.client, "secret": done.secret})
