"""The school's signing certificate page (administrators and director): the active certificate with a
warning when it expires within 30 days, the form to upload or replace it, removal, and the history.
htmx posts swap the certificate block in place; without JavaScript the page reloads. Thin: the same
services and queries as the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.signing import may_manage_signing
from classbook.core.errors import DomainError
from classbook.signing import queries, services
from classbook.signing.certificates import read_upload
from classbook.signing.forms import UploadForm


def _act(request: HttpRequest, ctx: SchoolContext, form: UploadForm) -> None:
    if request.POST.get("action") == "remove":
        services.remove_certificate(acting_user=ctx.user, school=ctx.school)
        messages.success(request, _("The signing certificate is removed; archives are no longer signed."))
        return
    if not form.is_valid():
        raise DomainError(" ".join(str(e) for errors in form.errors.values() for e in errors))
    services.upload_certificate(
        acting_user=ctx.user,
        school=ctx.school,
        data=read_upload(form.cleaned_data["file"]),
        password=form.cleaned_data["password"],
        tsa_url=form.cleaned_data["tsa_url"],
    )
    messages.success(request, _("The signing certificate is saved; new archives are signed with it."))


@school_view(writes=True, rule=may_manage_signing)
def certificate(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    htmx = bool(request.headers.get("HX-Request"))
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        try:
            _act(request, ctx, form)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            status = 422 if not htmx else 200
        else:
            if not htmx:
                return redirect("signing:certificate", school=ctx.school.slug)
            form = UploadForm()
    template = "signing/_certificate.html" if htmx else "signing/certificate.html"
    context = {"ctx": ctx, "page": queries.certificate_page(ctx), "form": form, "htmx": htmx}
    return render(request, template, context, status=status)
