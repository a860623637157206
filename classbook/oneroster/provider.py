"""The REST read model of the provider: endpoints, OneRoster JSON objects, filter/sort/fields and paging.

Plain data in, plain data out (no HTTP): ``views`` parses the request and writes the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from classbook.oneroster import rows
from classbook.oneroster.spec import HEADERS, LIST_COLUMNS
from classbook.schools.models import School

ROSTER = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"

# CSV reference columns as REST GUIDRefs: column -> (JSON name, type of the object it names, base path).
REFS: dict[str, tuple[str, str, str]] = {
    "parentSourcedId": ("parent", "academicSession", f"{ROSTER}/academicSessions"),
    "schoolYearSourcedId": ("schoolYear", "academicSession", f"{ROSTER}/academicSessions"),
    "orgSourcedId": ("org", "org", f"{ROSTER}/orgs"),
    "courseSourcedId": ("course", "course", f"{ROSTER}/courses"),
    "schoolSourcedId": ("school", "org", f"{ROSTER}/orgs"),
    "termSourcedIds": ("terms", "academicSession", f"{ROSTER}/academicSessions"),
    "classSourcedId": ("class", "class", f"{ROSTER}/classes"),
    "userSourcedId": ("user", "user", f"{ROSTER}/users"),
    "agentSourcedIds": ("agents", "user", f"{ROSTER}/users"),
    "primaryOrgSourcedId": ("primaryOrg", "org", f"{ROSTER}/orgs"),
    "lineItemSourcedId": ("lineItem", "lineItem", f"{GRADEBOOK}/lineItems"),
    "studentSourcedId": ("student", "user", f"{ROSTER}/users"),
    "categorySourcedId": ("category", "category", f"{GRADEBOOK}/categories"),
    "gradingPeriodSourcedId": ("gradingPeriod", "academicSession", f"{ROSTER}/academicSessions"),
}
BOOLEAN_COLUMNS = {"enabledUser", "primary"}
SKIP_COLUMNS = {"password", "userProfileSourcedId", "resourceSourcedIds"}


def ref(column: str, sourced_id: str) -> dict[str, str]:
    _name, kind, base = REFS[column]
    return {"href": f"{base}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def to_json(row: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column in SKIP_COLUMNS or (value == "" and column not in LIST_COLUMNS):
            continue
        if column in REFS:
            name = REFS[column][0]
            out[name] = (
                [ref(column, v) for v in value.split(",") if v] if column.endswith("Ids") else ref(column, value)
            )
        elif column in LIST_COLUMNS:
            out[column] = [v for v in value.split(",") if v]
        elif column in BOOLEAN_COLUMNS:
            out[column] = value == "true"
        else:
            out[column] = value
    return out


@dataclass(frozen=True)
class Collection:
    file: str  # the rows it lists
    plural: str  # the JSON key of a list
    singular: str  # the JSON key of one object
    service: str  # the scope family it needs (access.oneroster.NEEDS)
    keep: Callable[[dict[str, Any], dict[str, Any]], bool] = lambda obj, params: True


def _role_is(*names: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda obj, params: any(r["role"] in names for r in obj.get("roles", []))


def _in_class(role: str | None) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda obj, params: (
        obj["sourcedId"] in params["members"] and (role is None or params["roles"].get(obj["sourcedId"]) == role)
    )


COLLECTIONS: dict[str, Collection] = {
    "academicSessions": Collection("academicSessions", "academicSessions", "academicSession", "roster-core"),
    "terms": Collection(
        "academicSessions", "academicSessions", "academicSession", "roster-core", lambda o, p: o["type"] == "term"
    ),
    "gradingPeriods": Collection(
        "academicSessions",
        "academicSessions",
        "academicSession",
        "roster-core",
        lambda o, p: o["type"] == "gradingPeriod",
    ),
    "orgs": Collection("orgs", "orgs", "org", "roster-core"),
    "schools": Collection("orgs", "orgs", "org", "roster-core", lambda o, p: o["type"] == "school"),
    "courses": Collection("courses", "courses", "course", "roster-core"),
    "classes": Collection("classes", "classes", "class", "roster-core"),
    "users": Collection("users", "users", "user", "roster-core"),
    "students": Collection("users", "users", "user", "roster-core", _role_is("student")),
    "teachers": Collection("users", "users", "user", "roster-core", _role_is("teacher")),
    "enrollments": Collection("enrollments", "enrollments", "enrollment", "roster-core"),
    "demographics": Collection("demographics", "demographics", "demographics", "roster-demographics"),
    "categories": Collection("categories", "categories", "category", "gradebook"),
    "lineItems": Collection("lineItems", "lineItems", "lineItem", "gradebook"),
    "results": Collection("results", "results", "result", "gradebook"),
}
# Nested routes: (parent collection, child) -> how the parent narrows the child.
NESTED = {
    ("schools", "classes"): Collection(
        "classes", "classes", "class", "roster-core", lambda o, p: o["school"]["sourcedId"] == p["parent"]
    ),
    ("schools", "students"): Collection(
        "users", "users", "user", "roster-core", lambda o, p: _org_role(o, p["parent"], "student")
    ),
    ("schools", "teachers"): Collection(
        "users", "users", "user", "roster-core", lambda o, p: _org_role(o, p["parent"], "teacher")
    ),
    ("schools", "enrollments"): Collection(
        "enrollments", "enrollments", "enrollment", "roster-core", lambda o, p: o["school"]["sourcedId"] == p["parent"]
    ),
    ("classes", "students"): Collection("users", "users", "user", "roster-core", _in_class("student")),
    ("classes", "teachers"): Collection("users", "users", "user", "roster-core", _in_class("teacher")),
    ("classes", "enrollments"): Collection(
        "enrollments", "enrollments", "enrollment", "roster-core", lambda o, p: o["class"]["sourcedId"] == p["parent"]
    ),
    ("classes", "lineItems"): Collection(
        "lineItems", "lineItems", "lineItem", "gradebook", lambda o, p: o["class"]["sourcedId"] == p["parent"]
    ),
    ("classes", "results"): Collection(
        "results", "results", "result", "gradebook", lambda o, p: o["lineItem"]["sourcedId"] in p["items"]
    ),
}


def _org_role(obj: dict[str, Any], org: str, role: str) -> bool:
    return any(r["role"] == role and r["org"]["sourcedId"] == org for r in obj.get("roles", []))


def collect(school: School, file: str) -> list[dict[str, Any]]:
    """Every object of ``file`` for the school as OneRoster JSON (users carry their roles)."""
    wanted = [file] + (["roles"] if file == "users" else [])
    data = rows.build(school, files=wanted)
    result = [to_json(r) for r in data[file]]
    if file == "users":
        by_user: dict[str, list[dict[str, Any]]] = {}
        for r in data["roles"]:
            role = {"roleType": r["roleType"], "role": r["role"], "org": ref("orgSourcedId", r["orgSourcedId"])}
            role |= {k: r[k] for k in ("beginDate", "endDate") if r[k]}
            by_user.setdefault(r["userSourcedId"], []).append(role)
        for u in result:
            u["roles"] = by_user.get(u["sourcedId"], [])
    return result


def class_params(school: School, class_id: str) -> dict[str, Any]:
    """What nested class routes filter by: the class's members and their roles, its line items."""
    enrol = [e for e in rows.build(school, files=["enrollments"])["enrollments"] if e["classSourcedId"] == class_id]
    items = {
        r["sourcedId"] for r in rows.build(school, files=["lineItems"])["lineItems"] if r["classSourcedId"] == class_id
    }
    return {
        "members": {e["userSourcedId"] for e in enrol},
        "roles": {e["userSourcedId"]: e["role"] for e in enrol},
        "items": items,
    }


# --- selection: filter, sort, fields ------------------------------------------------------------------


class SelectionError(ValueError):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


PREDICATE = re.compile(r"^\s*([A-Za-z][\w.]*)\s*(>=|<=|!=|=|>|<|~)\s*'([^']*)'\s*$")


def _value(obj: dict[str, Any], field: str) -> list[str]:
    head, _dot, tail = field.partition(".")
    value = obj.get(head)
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict):
            item = item.get(tail or "sourcedId")
        if item is not None:
            out.append(str(item).lower() if isinstance(item, bool) else str(item))
    return out


def _test(values: list[str], op: str, wanted: str) -> bool:
    tests: dict[str, Callable[[str], bool]] = {
        "=": lambda v: v == wanted,
        "!=": lambda v: v != wanted,
        ">": lambda v: v > wanted,
        ">=": lambda v: v >= wanted,
        "<": lambda v: v < wanted,
        "<=": lambda v: v <= wanted,
        "~": lambda v: wanted.lower() in v.lower(),
    }
    return any(tests[op](v) for v in values) if op != "!=" else all(tests[op](v) for v in values)


def parse_filter(text: str, known: set[str]) -> Callable[[dict[str, Any]], bool]:
    """The spec's filter: predicates ``field<op>'value'`` joined by one logical operator (AND or OR)."""
    joiner = " OR " if " OR " in text else " AND "
    if " OR " in text and " AND " in text:
        raise SelectionError("invalid_filter_field", "AND and OR cannot be mixed in one filter")
    predicates = []
    for part in text.split(joiner):
        match = PREDICATE.match(part)
        if not match or match.group(1).split(".")[0] not in known:
            raise SelectionError("invalid_filter_field", f"cannot filter by {part.strip()[:60]!r}")
        predicates.append(match.groups())
    combine = any if joiner == " OR " else all
    return lambda obj: combine(_test(_value(obj, f), op, v) for f, op, v in predicates)


def known_fields(file: str) -> set[str]:
    names = {REFS[c][0] if c in REFS else c for c in HEADERS[file] if c not in SKIP_COLUMNS}
    return names | ({"roles"} if file == "users" else set())


def select(objs: list[dict[str, Any]], file: str, *, filter_: str, sort: str, order: str) -> list[dict[str, Any]]:
    known = known_fields(file)
    if filter_:
        keep = parse_filter(filter_, known)
        objs = [o for o in objs if keep(o)]
    if sort:
        if sort not in known:
            raise SelectionError("invalid_sort_field", f"cannot sort by {sort[:60]!r}")
        objs = sorted(objs, key=lambda o: (_value(o, sort) or [""])[0], reverse=order == "desc")
    return objs


def pick(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {f: obj[f] for f in fields if f in obj}
