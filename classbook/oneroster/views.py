"""The OneRoster 1.2 REST provider (read-only) and its OAuth 2.0 token endpoint (issue 13).

Plain Django views rather than a second NinjaAPI: the spec fixes the answers byte for byte (imsx error
payloads, ``X-Total-Count`` and ``Link`` headers, RFC 6749 token errors, form-encoded token requests with
HTTP Basic client authentication) and every collection is the same generic list over one read model
(``rows``/``provider``), so a table of collections and four small views say it more plainly than a schema
per endpoint would; the JSON API's own error envelope and session/token auth do not apply here.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from classbook.access import oneroster as access
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number
from classbook.oneroster import provider, services
from classbook.oneroster.models import AccessToken

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
GRADEBOOK_COLLECTIONS = {"categories", "lineItems", "results"}


def ims_error(status: int, code: str, description: str) -> JsonResponse:
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code}]
        },
    }
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="OneRoster"'
    return response


def _oauth_error(status: int, error: str) -> JsonResponse:
    response = JsonResponse({"error": error}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="OneRoster"'
    return response


def _basic(request: HttpRequest) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _sep, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    """OAuth 2.0 client credentials (RFC 6749 §4.4): a bearer token for the school of the client."""
    if request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type")
    client = services.authenticate_client(*_basic(request))
    if client is None:
        return _oauth_error(401, "invalid_client")
    try:
        issued = services.issue_token(client, request.POST.get("scope", "").split())
    except DomainError:
        return _oauth_error(400, "invalid_scope")
    response = JsonResponse(
        {
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _token(request: HttpRequest) -> AccessToken | None:
    header = request.headers.get("Authorization", "")
    return services.token_of(header[7:].strip()) if header[:7].lower() == "bearer " else None


def _guard(request: HttpRequest, collection: provider.Collection) -> AccessToken | JsonResponse:
    token = _token(request)
    if token is None:
        return ims_error(401, "unauthorisedrequest", _("A valid bearer token is required."))
    if not access.token_may_read(token, collection.service):
        return ims_error(403, "forbidden", _("The token's scopes do not cover this endpoint."))
    return token


def _collection(api: str, name: str) -> provider.Collection | None:
    if api not in {"rostering", "gradebook"} or (api == "gradebook") != (name in GRADEBOOK_COLLECTIONS):
        return None
    return provider.COLLECTIONS.get(name)


def _int(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    if not is_whole_number(raw) or not (low <= int(raw) <= high):
        raise provider.SelectionError(
            "invalid_selection_field",
            _("%(name)s must be a whole number from %(low)s to %(high)s.") % {"name": name, "low": low, "high": high},
        )
    return int(raw)


def _page(request: HttpRequest, collection: provider.Collection, objs: list[dict[str, Any]]) -> JsonResponse:
    try:
        limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int(request, "offset", 0, 0, 10**9)
        order = request.GET.get("orderBy", "asc")
        if order not in {"asc", "desc"}:
            raise provider.SelectionError("invalid_sort_field", _("orderBy must be asc or desc."))
        objs = provider.select(
            objs, collection.file, filter_=request.GET.get("filter", ""), sort=request.GET.get("sort", ""), order=order
        )
        fields = _fields(request, collection)
    except provider.SelectionError as exc:
        return ims_error(400, exc.code, exc.description)
    page = objs[offset : offset + limit]
    if fields:
        page = [provider.pick(o, fields) for o in page]
    response = JsonResponse({collection.plural: page})
    response["X-Total-Count"] = str(len(objs))
    links = _links(request, len(objs), limit, offset)
    if links:
        response["Link"] = ", ".join(links)
    return response


def _fields(request: HttpRequest, collection: provider.Collection) -> list[str]:
    fields = [f.strip() for f in request.GET.get("fields", "").split(",") if f.strip()]
    unknown = [f for f in fields if f not in provider.known_fields(collection.file)]
    if unknown:
        raise provider.SelectionError(
            "invalid_selection_field", _("Unknown field: %(field)s.") % {"field": unknown[0][:60]}
        )
    return fields


def _links(request: HttpRequest, total: int, limit: int, offset: int) -> list[str]:
    def link(off: int, rel: str) -> str:
        params = request.GET.copy()
        params["limit"], params["offset"] = str(limit), str(off)
        return f'<{request.build_absolute_uri(request.path)}?{urlencode(sorted(params.items()))}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = [link(0, "first"), link(last, "last")]
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    return links


def _endpoint(request: HttpRequest, api: str, name: str) -> tuple[provider.Collection, AccessToken] | JsonResponse:
    """The endpoint's collection and the caller's valid token, or the spec's error answer."""
    collection = _collection(api, name)
    if collection is None:
        return ims_error(404, "unknownobject", _("No such endpoint."))
    token = _guard(request, collection)
    if isinstance(token, JsonResponse):
        return token
    return collection, token


@require_GET
def collection_view(request: HttpRequest, api: str, name: str) -> JsonResponse:
    endpoint = _endpoint(request, api, name)
    if isinstance(endpoint, JsonResponse):
        return endpoint
    collection, token = endpoint
    objs = [o for o in provider.collect(token.client.school, collection.file) if collection.keep(o, {})]
    return _page(request, collection, objs)


@require_GET
def object_view(request: HttpRequest, api: str, name: str, sourced_id: str) -> JsonResponse:
    endpoint = _endpoint(request, api, name)
    if isinstance(endpoint, JsonResponse):
        return endpoint
    collection, token = endpoint
    objs = provider.collect(token.client.school, collection.file)
    found = next((o for o in objs if o["sourcedId"] == sourced_id and collection.keep(o, {})), None)
    if found is None:
        return ims_error(404, "unknownobject", _("No object with this sourcedId."))
    try:
        fields = _fields(request, collection)
    except provider.SelectionError as exc:
        return ims_error(400, exc.code, exc.description)
    return JsonResponse({collection.singular: provider.pick(found, fields) if fields else found})


@require_GET
def nested_view(request: HttpRequest, api: str, parent: str, parent_id: str, name: str) -> JsonResponse:
    collection = provider.NESTED.get((parent, name))
    if (
        collection is None
        or api not in {"rostering", "gradebook"}
        or (api == "gradebook") != (collection.service == "gradebook")
    ):
        return ims_error(404, "unknownobject", _("No such endpoint."))
    token = _guard(request, collection)
    if isinstance(token, JsonResponse):
        return token
    school = token.client.school
    parent_file = "orgs" if parent == "schools" else "classes"
    if not any(o["sourcedId"] == parent_id for o in provider.collect(school, parent_file)):
        return ims_error(404, "unknownobject", _("No object with this sourcedId."))
    params: dict[str, Any] = {"parent": parent_id}
    if parent == "classes":
        params |= provider.class_params(school, parent_id)
    objs = [o for o in provider.collect(school, collection.file) if collection.keep(o, params)]
    return _page(request, collection, objs)
