"""The school's audit log page (VIEW_AUDIT_LOG: administrators and directors)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.rules import Perm
from classbook.audit import labels, queries
from classbook.audit.forms import AuditFilterForm
from classbook.people.models import User


def _filters(ctx: SchoolContext, form: AuditFilterForm) -> tuple[queries.AuditFilter | None, User | None]:
    """The filter the form asks for, or None (with the form's errors set) when it is not valid."""
    if not form.is_valid():
        return None, None
    data = form.cleaned_data
    person = None
    if data["person"].strip():
        person = queries.person_of_school(ctx, data["person"])
        if person is None:
            form.add_error("person", _("Nobody with this login name or number has a role in this school."))
    action, object_type = data["action"].strip(), data["object_type"].strip()
    if action and not queries.valid_action(action):
        form.add_error("action", _("Choose an action from the list."))
    if object_type and not queries.valid_object_type(object_type):
        form.add_error("object_type", _("An object type looks like “people.user”."))
    if form.errors:
        return None, None
    flt = queries.AuditFilter(
        person=person.pk if person is not None else None,
        person_role=data["person_role"] or "any",  # type: ignore[arg-type]  # one of the form's choices
        action=action,
        object_type=object_type,
        object_id=data["object_id"].strip(),
        since=data["since"],
        until=data["until"],
    )
    return flt, person


@school_view(Perm.VIEW_AUDIT_LOG)
def audit_log(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters, person = _filters(ctx, form)
    page = queries.AuditPage(rows=[])
    if filters is not None:
        page = queries.audit_page(
            ctx,
            filters,
            before=queries.Cursor.decode(request.GET.get("before")),
            after=queries.Cursor.decode(request.GET.get("after")),
        )
    action = str(request.GET.get("action") or "")[:100]
    return render(
        request,
        "audit/log.html",
        {
            "ctx": ctx,
            "form": form,
            "page": page,
            "person": person,
            "groups": [(prefix, str(label)) for prefix, label in labels.ACTION_GROUPS.items()],
            "actions": labels.action_choices(),
            "action": action,
            "action_listed": not action or action in labels.ACTION_GROUPS or labels.is_known(action),
        },
    )
