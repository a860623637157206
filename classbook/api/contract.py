"""The API as a contract (issue 18): every operation documents every status it can answer.

The routes declare their successful answers (``response={201: ...}``) and the few error bodies of their own
(the class-list import's 422 with its report). Everything else an operation can answer comes from the
machinery around the views, the same for every operation, so it is documented here, in one place, from what
the operation is:

- **400** (every operation): a malformed request — a body that is not JSON, a multipart body without a
  boundary, an undecodable or truncated body, too many fields (``core/http_errors.request_problem``);
- **401, 403** (every authenticated operation): no or an unknown token; a token whose owner must set up
  two-factor login first (``api/auth.py``), or a rule that refuses the caller;
- **404** (operations with path parameters): an unknown school or object, and one the caller may not see;
- **409** (operations that change data): the change conflicts with the current state (a duplicate name, a
  record changed meanwhile);
- **413** (every operation): a body over ``REQUEST_MAX_BODY_BYTES`` (``core/middleware.py``);
- **415** (operations that change data): a body neither JSON nor a form;
- **422** (every operation): parameters or body that do not validate, or a refusal of a domain rule;
- **429** (every operation): too many requests; ``Retry-After`` says when to try again.

Every error body is the one shape ``{"error": {"code", "message", "fields"?, ...}}`` (``ErrorOut``,
``core/http_errors.error_body``), and each status carries an example. A status a route already declares
(with its own model, which must extend ``ErrorOut``) is left as the route wrote it.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation, PathView
from ninja.params.models import TModel
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import CoreModeRef, DefsRef, JsonSchemaMode

from classbook.access.context import resolve_school
from classbook.core.http_errors import error_body
from classbook.core.middleware import FORM_TYPES, declared_length

__all__ = ["ContractAPI", "ErrorDetail", "ErrorOut", "document_errors"]

UNSAFE = {"post", "put", "patch", "delete"}


class ErrorDetail(Schema):
    """What went wrong: a stable ``code`` for programs, a translated ``message`` for people."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, machine-readable: `not_found`, `invalid`, `unreadable_body`, ...")
    message: str = Field(description="For people, in the caller's language")
    fields: dict[str, list[str]] | None = Field(
        None, description="Per input field (`__all__`: the request as a whole), only with 422"
    )


class ErrorOut(Schema):
    """The one error shape of the API."""

    error: ErrorDetail


def _example(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


# status: (description, example body)
ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: (
        "Malformed request: a body that is not JSON, a multipart body without a boundary, an undecodable body",
        _example("unreadable_body", "The request body could not be read."),
    ),
    401: (
        "No token, or a token that is unknown, revoked or expired",
        _example("unauthorized", "Log in or send a valid API token."),
    ),
    403: (
        "The caller may not do this (or must set up two-factor login first)",
        _example("forbidden", "You may not do this."),
    ),
    404: ("No such school or object, or one the caller may not see", _example("not_found", "Not found.")),
    409: (
        "The change conflicts with the current state (a duplicate, a record changed meanwhile)",
        _example("duplicate_name", "You already have a token with this name."),
    ),
    413: ("The request body is too large", _example("too_large", "The request is too large.")),
    415: (
        "The body is neither JSON nor a form",
        _example("unsupported_media_type", "Send JSON (Content-Type: application/json) or a form."),
    ),
    422: (
        "Parameters or body not valid, or refused by a rule of the journal; `fields` says which",
        _example(
            "invalid", "The request is not valid.", fields={"limit": ["Input should be less than or equal to 200"]}
        ),
    ),
    429: (
        "Too many requests; `Retry-After` says in how many seconds to try again",
        _example("throttled", "Too many requests."),
    ),
}


# Request examples of the operations integrators start with (shown by /api/v1/docs and generated clients).
REQUEST_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/api/v1/me"): {"language": "uk"},
    ("post", "/api/v1/tokens"): {"name": "Timetable on my phone", "expires_in_days": 90},
    ("post", "/api/v1/schools/{school}/journal/assignments/{assignment_id}/lessons"): {
        "date": "2026-10-15",
        "number": 3,
        "topic": "Fractions",
        "lesson_type": "regular",
    },
    ("put", "/api/v1/schools/{school}/journal/lessons/{lesson_id}/marks"): {
        "student": 812,
        "text": "10",
        "expected_version": 0,
    },
    ("put", "/api/v1/schools/{school}/journal/lessons/{lesson_id}/attendance"): {
        "student": 812,
        "text": "н",
        "expected_version": 0,
    },
}


def statuses_for(method: str, path: str, authenticated: bool) -> list[int]:
    """The error statuses an operation can answer beyond its own, from what it is (see the module's docstring)."""
    statuses = [400, 413, 422, 429]
    if authenticated:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if method in UNSAFE:
        statuses += [409, 415]
    return sorted(statuses)


def document_errors(schema: OpenAPISchema) -> int:
    """Add the error answers to every operation of ``schema``; the number of operations documented."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    _add_component(components, ErrorOut)
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    _bound_integers(components)
    count = 0
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            example = REQUEST_EXAMPLES.get((method, path))
            if example is not None:
                operation["requestBody"]["content"]["application/json"]["example"] = example
            _bound_integers(operation.get("parameters"))
            _bound_integers(operation.get("requestBody"))
            _bound_integers(operation.get("responses"))
            responses = operation.setdefault("responses", {})
            for status in statuses_for(method, path, bool(operation.get("security"))):
                description, example = ERRORS[status]
                answer = responses.setdefault(status, {"description": description})
                content = answer.setdefault("content", {"application/json": {"schema": ref}})
                content["application/json"].setdefault("example", example)
                if status == 429:
                    answer["headers"] = {
                        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}
                    }
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: int(item[0])))
            count += 1
    return count


def _add_component(components: dict[str, Any], model: type[Schema]) -> None:
    found = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, definition in found.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault(model.__name__, found)


# --- integers are 64-bit ------------------------------------------------------------------------------
# Ids are 64-bit in every database (``BigAutoField``), and SQLite cannot even bind a larger integer: the
# journal's cell service answered 500 to a mark for student 10**30. A JSON body's integers must fit 64 bits
# (422 otherwise), and the document says so on every integer of a parameter, a body or an answer. (Query and path
# integers are checked before the parameters are parsed: ``_huge_parameters``.)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class IntegerOutOfRange(ValueError):
    def __init__(self, locations: list[tuple[str | int, ...]]) -> None:
        super().__init__("integer out of range")
        self.locations = locations


def _huge_integers(value: Any, location: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [location] if not INT64_MIN <= value <= INT64_MAX else []
    if isinstance(value, dict):
        return [loc for key, item in value.items() for loc in _huge_integers(item, (*location, key))]
    if isinstance(value, list):
        return [loc for index, item in enumerate(value) for loc in _huge_integers(item, (*location, index))]
    return []


class ContractParser(Parser):
    """ninja's JSON parser, refusing integers beyond 64 bits (see ``on_http_error`` in ``api/errors.py``)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        found = _huge_integers(data, ())
        if found:
            raise IntegerOutOfRange(found)
        return data


def out_of_range_message() -> str:
    return _("Must be an integer between %(min)s and %(max)s.") % {"min": INT64_MIN, "max": INT64_MAX}


def _bound_integers(node: Any) -> None:
    """Every integer schema under ``node`` gets the 64-bit bounds it lacks; ``time`` strings their real format."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", INT64_MIN)
            node.setdefault("maximum", INT64_MAX)
        if node.get("type") == "string" and node.get("format") == "time":
            # JSON Schema's "time" requires a UTC offset ("08:30:00Z"); the API's times have none.
            node["format"] = "partial-time"
            node["pattern"] = r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


# --- one component name per model ----------------------------------------------------------------------
# ninja names a component after its model's class and merges the components of every operation into one
# dict: two routers' ``LessonOut`` (the journal's and the diary's) became one component, and every
# operation using the other one documented a schema its answers do not match. A name two modules use is
# made unique with its module's name (``JournalLessonOut``, ``DiaryLessonOut``); other names stay.


def _classbook_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for model in pending.pop().__subclasses__():
            pending.append(model)
            if model.__module__.startswith("classbook."):
                found.append(model)
    return found


@cache
def _shared_names() -> frozenset[str]:
    modules: dict[str, set[str]] = defaultdict(set)
    for model in _classbook_models():
        modules[model.__name__].add(model.__module__)
    return frozenset(name for name, found in modules.items() if len(found) > 1)


@cache
def _models_by_id() -> dict[str, type[BaseModel]]:
    """The project's models by ``id()``, as pydantic names a generic's parameter (read once, like
    ``_shared_names``: the API's schemas are all imported before its document is first built)."""
    return {str(id(m)): m for m in _classbook_models()}


def _unique_name(qualified: str) -> str | None:
    module, _, name = qualified.rpartition(".")
    if not module.startswith("classbook.") or name not in _shared_names():
        return None
    return "".join(part.title() for part in module.rsplit(".", 1)[-1].split("_")) + name


def _unique_generic_name(core_ref: str) -> str | None:
    """``Page[AssignmentOut]`` of two modules: pydantic's ref names the parameter by class name and id only
    (``...Page:<id>[AssignmentOut:<id>]``), so two routers' pages were one component too. The parameter is
    found by its id and the page named after its unique name (``PageSchoolsAssignmentOut``)."""
    outer, _, inner = core_ref.partition("[")
    name, _, ident = inner.rstrip("]").partition(":")
    if "[" in inner or "," in inner or name not in _shared_names():
        return None
    model = _models_by_id().get(ident)
    unique = _unique_name(f"{model.__module__}.{model.__name__}") if model else None
    return outer.rsplit(":", 1)[0].rsplit(".", 1)[-1] + unique if unique else None


class _UniqueNames(NinjaGenerateJsonSchema):
    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        defs_ref = super().get_defs_ref(core_mode_ref)
        core_ref, mode = core_mode_ref
        head = core_ref.split("[", 1)[0]
        unique = _unique_generic_name(core_ref) if "[" in core_ref else _unique_name(head.rsplit(":", 1)[0])
        if unique:
            choices = self._prioritized_defsref_choices[defs_ref]
            choices[0] = DefsRef(unique)
            choices[1] = DefsRef(f"{unique}-{'Input' if mode == 'validation' else 'Output'}")
        return defs_ref


class _ContractSchema(OpenAPISchema):
    def _create_schema_from_model(
        self, model: TModel, by_alias: bool = True, remove_level: bool = True, mode: JsonSchemaMode = "validation"
    ) -> tuple[dict[str, Any], bool]:
        if hasattr(model, "__ninja_flatten_map__"):
            return super()._create_schema_from_model(model, by_alias, remove_level, mode)
        # ninja's own method, with the schema generator above
        schema = model.model_json_schema(
            ref_template=REF_TEMPLATE, by_alias=by_alias, schema_generator=_UniqueNames, mode=mode
        ).copy()
        if schema.get("$defs"):
            self.add_schema_definitions(schema.pop("$defs"))
        if remove_level and len(schema["properties"]) == 1:
            name, details = next(iter(schema["properties"].items()))
            return details, name in schema.get("required", {})
        return schema, True


# --- malformed requests never reach a view ------------------------------------------------------------
# ninja runs an operation as: authentication and throttles (``_run_checks``), then it parses the
# parameters and the body, then it calls the view, which resolves the school. Two checks are added right
# after the first step, before a byte of the body is parsed:
#
# - the caller's access to the URL's school: 404 for an unknown school and for one the caller has no role
#   in, so a broken or huge upload to someone else's school is refused as the school, not as the body, and
#   nobody learns an operation's body rules for a school that is not theirs (sessions' multipart uploads
#   are checked earlier still, before the CSRF middleware reads the form: ``access/middleware.py``);
# - the body's content type against the operation's: JSON to an upload, or a form to a JSON operation, is
#   415 (``core/middleware.py`` has already refused types no operation takes).

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Django reads both kinds of form into request.POST; a required file missing from a plain form is a 422.
_TYPES = {"body": ("application/json",), "form": FORM_TYPES, "file": FORM_TYPES}


def _accepted_types(operation: Operation) -> frozenset[str]:
    sources = {getattr(model, "__ninja_param_source__", None) for model in operation.models}
    return frozenset(kind for source in sources for kind in _TYPES.get(source or "", ()))


def _media_type(request: HttpRequest) -> str:
    media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
    return "application/json" if media_type.startswith("application/") and media_type.endswith("+json") else media_type


def _has_body(request: HttpRequest) -> bool:
    if request.method not in _BODY_METHODS:
        return False
    return bool(declared_length(request)) or _media_type(request).startswith("multipart/")


def _before_body(
    api: NinjaAPI, operation: Operation, accepts: frozenset[str], request: HttpRequest
) -> HttpResponse | None:
    if not _has_body(request):
        return None
    match = request.resolver_match
    slug = match.kwargs.get("school") if match else None
    if isinstance(slug, str):
        try:
            resolve_school(request.user, slug)
        except Http404 as exc:
            return api.on_exception(request, exc)
    if accepts and _media_type(request) not in accepts:
        message = _("This operation takes a body of type %(types)s.") % {"types": ", ".join(sorted(accepts))}
        return api.create_response(request, error_body("unsupported_media_type", message), status=415)
    return None


def _integer_parameters(api: NinjaAPI) -> dict[str, list[tuple[str, str]]]:
    """operationId: the (``query`` or ``path``, name) of its integer parameters, read from the document once."""
    found = getattr(api, "_integer_parameters", None)
    if found is None:
        found = {}
        for methods in api.get_openapi_schema()["paths"].values():
            for operation in methods.values():
                found[operation["operationId"]] = [
                    (parameter["in"], parameter["name"])
                    for parameter in operation.get("parameters", [])
                    if _is_integer(parameter.get("schema", {}))
                ]
        api._integer_parameters = found  # type: ignore[attr-defined]
    return found


def _is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(_is_integer(option) for option in schema.get("anyOf", []))


def _huge_parameters(api: NinjaAPI, operation: Operation, request: HttpRequest) -> HttpResponse | None:
    """A query or path integer beyond 64 bits is a 422, as in a body (SQLite cannot bind it)."""
    operation_id = operation.operation_id or api.get_openapi_operation_id(operation)
    match = request.resolver_match
    fields = {}
    for where, name in _integer_parameters(api).get(operation_id, []):
        values = request.GET.getlist(name) if where == "query" else [str(match.kwargs.get(name, "")) if match else ""]
        for value in values:
            text = value.strip().lstrip("+-")
            if text.isascii() and text.isdigit() and not INT64_MIN <= int(value) <= INT64_MAX:
                fields[name] = [out_of_range_message()]
    if not fields:
        return None
    return api.create_response(request, error_body("invalid", _("The request is not valid."), fields), status=422)


def guard(api: NinjaAPI, operation: Operation) -> None:
    """Run ``_before_body`` after the operation's authentication and throttles (idempotent)."""
    if getattr(operation, "_contract_guarded", False):
        return
    checks = operation._run_checks
    accepts = _accepted_types(operation)

    def run_checks(request: HttpRequest) -> HttpResponse | None:
        return (
            checks(request)
            or _before_body(api, operation, accepts, request)
            or _huge_parameters(api, operation, request)
        )

    operation._run_checks = run_checks  # type: ignore[method-assign]
    operation._contract_guarded = True  # type: ignore[attr-defined]


def _answer_405_as_json(path_view: PathView) -> None:
    """A method the path does not have: 405 in the error shape with ``Allow`` (ninja answers plain text)."""
    allowed = ", ".join(sorted({method for operation in path_view.operations for method in operation.methods}))

    def not_allowed() -> HttpResponse:
        response = JsonResponse(error_body("method_not_allowed", _("This method is not allowed here.")), status=405)
        response["Allow"] = allowed
        return response

    path_view._not_allowed = not_allowed  # type: ignore[method-assign]


class ContractAPI(NinjaAPI):
    """A NinjaAPI whose OpenAPI document names every model once and has every operation's error answers,
    and whose operations check the school and the content type before they parse a body."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for bound in self._get_bound_routers():  # the routers serving the URLs (ninja caches them)
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    guard(self, operation)
                _answer_405_as_json(path_view)
        return urls

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = _ContractSchema(self, path_prefix)
        document_errors(schema)
        return schema
