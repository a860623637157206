"""The OneRoster 1.2 CSV binding: file names, columns (names and order), required fields and vocabularies.

Columns of the rostering files follow the 1.2 CSV tables (users.csv without orgSourcedIds/role, which moved to
roles.csv; userMasterIdentifier, resourceSourcedIds, preferred names, primaryOrgSourcedId and pronouns added).
``check_package`` is the column-level checker the tests run on every export (docs/oneroster.md: no independent
OneRoster CSV validator was found on PyPI or npm).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

VERSION = "1.2"
MANIFEST_VERSION = "1.0"

HEADERS: dict[str, tuple[str, ...]] = {
    "academicSessions": (
        "sourcedId", "status", "dateLastModified", "title", "type", "startDate", "endDate", "parentSourcedId",
        "schoolYear",
    ),
    "orgs": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"),
    "courses": (
        "sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title", "courseCode", "grades",
        "orgSourcedId", "subjects", "subjectCodes",
    ),
    "classes": (
        "sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId", "classCode", "classType",
        "location", "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods",
    ),
    "users": (
        "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds", "givenName", "familyName",
        "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password",
        "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName", "preferredMiddleName",
        "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
    ),
    "roles": (
        "sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role", "beginDate", "endDate",
        "orgSourcedId", "userProfileSourcedId",
    ),
    "enrollments": (
        "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId", "userSourcedId", "role",
        "primary", "beginDate", "endDate",
    ),
    "demographics": (
        "sourcedId", "status", "dateLastModified", "birthDate", "sex", "americanIndianOrAlaskaNative", "asian",
        "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
        "publicSchoolResidenceStatus",
    ),
    "categories": ("sourcedId", "status", "dateLastModified", "title", "weight"),
    "lineItems": (
        "sourcedId", "status", "dateLastModified", "title", "description", "assignDate", "dueDate", "classSourcedId",
        "categorySourcedId", "gradingPeriodSourcedId", "resultValueMin", "resultValueMax", "schoolSourcedId",
    ),
    "results": (
        "sourcedId", "status", "dateLastModified", "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score",
        "scoreDate", "comment",
    ),
}  # fmt: skip

# The order of the files in a package and in manifest.csv (every file of the 1.2 manifest is named).
MANIFEST_FILES = (
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources", "demographics",
    "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales", "orgs", "resources",
    "resultLearningObjectiveIds", "results", "resultScoreScales", "roles", "scoreScales", "userProfiles",
    "userResources", "users",
)  # fmt: skip
ROSTER_FILES = ("academicSessions", "orgs", "courses", "classes", "users", "roles", "enrollments", "demographics")
GRADEBOOK_FILES = ("categories", "lineItems", "results")

REQUIRED: dict[str, tuple[str, ...]] = {
    "academicSessions": ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    "orgs": ("sourcedId", "name", "type"),
    "courses": ("sourcedId", "title", "orgSourcedId"),
    "classes": ("sourcedId", "title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"),
    "users": ("sourcedId", "enabledUser", "username", "givenName", "familyName"),
    "roles": ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "enrollments": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    "demographics": ("sourcedId",),
    "categories": ("sourcedId", "title"),
    "lineItems": ("sourcedId", "title", "assignDate", "dueDate", "classSourcedId", "categorySourcedId"),
    "results": ("sourcedId", "lineItemSourcedId", "studentSourcedId", "scoreStatus"),
}

ENUMS: dict[tuple[str, str], frozenset[str]] = {
    ("academicSessions", "type"): frozenset({"gradingPeriod", "semester", "schoolYear", "term"}),
    ("orgs", "type"): frozenset({"department", "school", "district", "local", "state", "national"}),
    ("classes", "classType"): frozenset({"homeroom", "scheduled"}),
    ("roles", "roleType"): frozenset({"primary", "secondary"}),
    ("roles", "role"): frozenset(
        {"aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor", "relative",
         "siteAdministrator", "student", "systemAdministrator", "teacher"}
    ),
    ("enrollments", "role"): frozenset({"administrator", "proctor", "student", "teacher"}),
    ("demographics", "sex"): frozenset({"male", "female", "unspecified", "other"}),
    ("results", "scoreStatus"): frozenset(
        {"exempt", "fully graded", "not submitted", "partially graded", "submitted"}
    ),
}  # fmt: skip
BOOLEANS = {("users", "enabledUser"), ("enrollments", "primary")}
DATES = {
    ("academicSessions", "startDate"), ("academicSessions", "endDate"), ("roles", "beginDate"),
    ("roles", "endDate"), ("enrollments", "beginDate"), ("enrollments", "endDate"), ("demographics", "birthDate"),
    ("lineItems", "assignDate"), ("lineItems", "dueDate"), ("results", "scoreDate"),
}  # fmt: skip
# References inside a package: (file, column) -> the file whose sourcedIds it names (list columns too).
REFERENCES: dict[tuple[str, str], str] = {
    ("academicSessions", "parentSourcedId"): "academicSessions",
    ("courses", "orgSourcedId"): "orgs",
    ("courses", "schoolYearSourcedId"): "academicSessions",
    ("classes", "courseSourcedId"): "courses",
    ("classes", "schoolSourcedId"): "orgs",
    ("classes", "termSourcedIds"): "academicSessions",
    ("users", "agentSourcedIds"): "users",
    ("users", "primaryOrgSourcedId"): "orgs",
    ("roles", "userSourcedId"): "users",
    ("roles", "orgSourcedId"): "orgs",
    ("enrollments", "classSourcedId"): "classes",
    ("enrollments", "schoolSourcedId"): "orgs",
    ("enrollments", "userSourcedId"): "users",
    ("demographics", "sourcedId"): "users",
    ("lineItems", "classSourcedId"): "classes",
    ("lineItems", "categorySourcedId"): "categories",
    ("lineItems", "gradingPeriodSourcedId"): "academicSessions",
    ("lineItems", "schoolSourcedId"): "orgs",
    ("results", "lineItemSourcedId"): "lineItems",
    ("results", "studentSourcedId"): "users",
}
LIST_COLUMNS = {"grades", "termSourcedIds", "subjects", "subjectCodes", "periods", "agentSourcedIds", "userIds",
                "resourceSourcedIds"}  # fmt: skip
STATUSES = frozenset({"active", "tobedeleted"})
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")
YEAR_RE = re.compile(r"^\d{4}$")
NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class Problem:
    file: str
    row: int  # 1 = the header, 2 = the first data row; 0 = the package
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}.csv:{self.row}:{self.column}: {self.message}"


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _check_value(name: str, column: str, value: str) -> str | None:
    allowed = ENUMS.get((name, column))
    if allowed is not None and value not in allowed and not value.startswith("ext:"):
        return _("“%(value)s” is not one of: %(allowed)s.") % {
            "value": value[:60],
            "allowed": ", ".join(sorted(allowed)),
        }
    if (name, column) in BOOLEANS and value not in {"true", "false"}:
        return _("“%(value)s” is not true or false.") % {"value": value[:60]}
    if (name, column) in DATES and not _is_date(value):
        return _("“%(value)s” is not a date (YYYY-MM-DD).") % {"value": value[:60]}
    if column == "dateLastModified" and not DATETIME_RE.match(value):
        return _("“%(value)s” is not a UTC date and time (YYYY-MM-DDTHH:MM:SS.sssZ).") % {"value": value[:60]}
    if column == "status" and value not in STATUSES:
        return _("“%(value)s” is not active or tobedeleted.") % {"value": value[:60]}
    if column == "schoolYear" and not YEAR_RE.match(value):
        return _("“%(value)s” is not a year (YYYY).") % {"value": value[:60]}
    if column in {"score", "resultValueMin", "resultValueMax", "weight"} and not NUMBER_RE.match(value):
        return _("“%(value)s” is not a number.") % {"value": value[:60]}
    return None


def check_rows(name: str, header: list[str], rows: list[list[str]], *, delta: bool) -> list[Problem]:
    """Column-level checks of one file: header, field count, required fields, vocabularies and formats."""
    if tuple(header) != HEADERS[name]:
        return [
            Problem(
                name,
                1,
                "",
                _("The header is not the OneRoster 1.2 header: %(header)s.") % {"header": ",".join(HEADERS[name])},
            )
        ]
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.append(
                Problem(
                    name,
                    number,
                    "",
                    _("%(found)s fields, the header has %(expected)s.") % {"found": len(row), "expected": len(header)},
                )
            )
            continue
        values = dict(zip(header, row, strict=True))
        if values["sourcedId"] in seen:
            problems.append(Problem(name, number, "sourcedId", _("The sourcedId appears twice.")))
        seen.add(values["sourcedId"])
        for column in REQUIRED[name]:
            if not values[column]:
                problems.append(Problem(name, number, column, _("Required.")))
        if delta and not (values["status"] and values["dateLastModified"]):
            problems.append(Problem(name, number, "status", _("A delta file needs status and dateLastModified.")))
        if not delta and values["status"] not in {"", "active"}:
            problems.append(Problem(name, number, "status", _("A bulk file carries active rows only.")))
        for column, value in values.items():
            message = _check_value(name, column, value) if value else None
            if message:
                problems.append(Problem(name, number, column, message))
    return problems


def check_package(files: dict[str, list[list[str]]]) -> list[Problem]:
    """Check a whole package (``files``: name without .csv -> rows including the header): the manifest,
    every file's columns, and that every reference names a sourcedId of the package."""
    manifest = files.get("manifest")
    if not manifest or manifest[0] != ["propertyName", "value"]:
        return [Problem("manifest", 1, "", _("manifest.csv with the header propertyName,value is required."))]
    props = dict((r[0], r[1]) for r in manifest[1:] if len(r) == 2)
    problems: list[Problem] = []
    if props.get("manifest.version") != MANIFEST_VERSION or props.get("oneroster.version") != VERSION:
        problems.append(Problem("manifest", 0, "", _("manifest.version 1.0 and oneroster.version 1.2 are required.")))
    modes: dict[str, str] = {}
    for name in MANIFEST_FILES:
        mode = props.get(f"file.{name}", "absent")
        if mode not in {"absent", "bulk", "delta"}:
            problems.append(
                Problem(
                    "manifest", 0, f"file.{name}", _("“%(value)s” is not absent, bulk or delta.") % {"value": mode[:60]}
                )
            )
        modes[name] = mode
        if (mode != "absent") != (name in files):
            problems.append(Problem("manifest", 0, f"file.{name}", _("The manifest and the files in the zip differ.")))
    ids = {name: {r[0] for r in rows[1:] if r} for name, rows in files.items() if name != "manifest"}
    for name, rows in files.items():
        if name == "manifest":
            continue
        if name not in HEADERS:
            problems.append(Problem(name, 0, "", _("Not a OneRoster 1.2 file this checker knows.")))
            continue
        problems += check_rows(name, rows[0] if rows else [], rows[1:], delta=modes.get(name) == "delta")
        problems += _check_references(name, rows, ids, delta=modes.get(name) == "delta")
    return problems


def _check_references(name: str, rows: list[list[str]], ids: dict[str, set[str]], *, delta: bool) -> list[Problem]:
    if delta or not rows:
        return []  # a delta names objects sent earlier
    header = rows[0]
    problems = []
    for (file, column), target in REFERENCES.items():
        if file != name or column not in header or target not in ids:
            continue
        index = header.index(column)
        for number, row in enumerate(rows[1:], start=2):
            for ref in split_list(row[index]) if index < len(row) else []:
                if ref not in ids[target]:
                    problems.append(
                        Problem(
                            name,
                            number,
                            column,
                            _("“%(value)s” is not a sourcedId in %(file)s.csv.") % {"value": ref[:60], "file": target},
                        )
                    )
    return problems
