"""Importing class lists from a spreadsheet (R7.1: the secretary supplies class lists by 5 September).

All or nothing: every row is checked first (names, class, birth date, gender, contacts, duplicates in
the file and in the school); one bad row means nothing is imported and the report lists each problem
with its row number and column. A clean file is written in one transaction with bulk inserts (a few
dozen queries for a thousand rows), and the import is one audit entry naming every student created.

Columns are recognised by their header in Ukrainian, Russian or English (the template file the page
offers has them in the user's language); their order does not matter and unknown columns are refused,
so that a typo in a header does not silently drop data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.core.audit import log_action
from classbook.core.errors import DomainError
from classbook.core.tables import MAX_BYTES, Table, TableError, normalize_header, read_table
from classbook.people.models import Enrolment, Gender, GuardianLink, Membership, Role, Student, User
from classbook.roster.events import announce_enrolment
from classbook.roster.translit import free_username, username_base
from classbook.schools.models import AcademicYear, School, SchoolClass

GUARDIANS = (1, 2)
MAX_UPLOAD_BYTES = MAX_BYTES


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translated header
    max_length: int
    required: bool = False


def _guardian_label(n: int, field: Any) -> str:
    return _("Guardian %(n)s: %(field)s") % {"n": n, "field": field}


_lazy_guardian_label = lazy(_guardian_label, str)  # translated when shown, in the language of that moment


def _guardian_columns(n: int) -> list[Column]:
    return [
        Column(f"guardian{n}_last_name", _lazy_guardian_label(n, gettext_lazy("last name")), 150),
        Column(f"guardian{n}_first_name", _lazy_guardian_label(n, gettext_lazy("first name")), 150),
        Column(f"guardian{n}_patronymic", _lazy_guardian_label(n, gettext_lazy("patronymic")), 150),
        Column(f"guardian{n}_relation", _lazy_guardian_label(n, gettext_lazy("relation")), 40),
        Column(f"guardian{n}_phone", _lazy_guardian_label(n, gettext_lazy("phone")), 32),
        Column(f"guardian{n}_email", _lazy_guardian_label(n, gettext_lazy("e-mail")), 254),
    ]


COLUMNS: list[Column] = [
    Column("class", gettext_lazy("Class"), 20, required=True),
    Column("last_name", gettext_lazy("Last name"), 150, required=True),
    Column("first_name", gettext_lazy("First name"), 150, required=True),
    Column("patronymic", gettext_lazy("Patronymic"), 150),
    Column("birth_date", gettext_lazy("Birth date"), 10),
    Column("gender", gettext_lazy("Gender"), 10),
    Column("address", gettext_lazy("Address"), 255),
    Column("phone", gettext_lazy("Phone"), 32),
    Column("personal_file_number", gettext_lazy("Personal file number"), 32),
    *[c for n in GUARDIANS for c in _guardian_columns(n)],
]
BY_KEY = {c.key: c for c in COLUMNS}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it (the header is row 1); 0 for the whole file
    column: str  # the column's header in the user's language, or ""
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    guardians_created: int = 0
    guardians_linked: int = 0
    per_class: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def header_labels() -> list[str]:
    """The template's header row, in the active language."""
    return [str(c.label) for c in COLUMNS]


def template_csv() -> str:
    """An empty class list (header and one example row) in the active language, UTF-8 with a BOM for Excel."""
    example = ["5-А", "Шевченко", "Тарас", "Григорович", "09.03.2014", "ч", "", "", "", "Шевченко", "Ганна", "", "мати"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header_labels())
    writer.writerow(example + [""] * (len(COLUMNS) - len(example)))
    return "\ufeff" + out.getvalue()


def _aliases() -> dict[str, str]:
    """Every accepted header (normalised) → column key: the labels in each interface language and the key."""
    found: dict[str, str] = {}
    for lang in ("en", "uk", "ru"):
        with translation.override(lang):
            for c in COLUMNS:
                found[normalize_header(str(c.label))] = c.key
    for c in COLUMNS:
        found[normalize_header(c.key)] = c.key
    return found


def _class_key(name: str) -> str:
    """ "5-А", "5 а", "5А" name the same class."""
    return re.sub(r"[\s\-–—]+", "", name).upper()


_GENDERS = {
    "f": Gender.FEMALE, "ж": Gender.FEMALE, "жін": Gender.FEMALE, "жен": Gender.FEMALE,
    "m": Gender.MALE, "ч": Gender.MALE, "м": Gender.MALE, "чол": Gender.MALE, "муж": Gender.MALE,
}  # fmt: skip


def _gender_words() -> dict[str, str]:
    """Every accepted spelling of a gender (the labels in each interface language and short forms)."""
    words: dict[str, str] = dict(_GENDERS)
    for lang in ("en", "uk", "ru"):
        with translation.override(lang):
            words.update({str(label).lower(): value for value, label in Gender.choices})
    return words


def _parse_gender(text: str, words: dict[str, str]) -> str | None:
    text = text.strip().lower().rstrip(".")
    if not text:
        return ""
    return words.get(text) or _GENDERS.get(text[:3])


def _parse_date(text: str) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _map_header(table: Table, report: ImportReport) -> list[str | None]:
    aliases = _aliases()
    keys: list[str | None] = []
    for position, (header, raw) in enumerate(zip(table.header, table.raw_header, strict=True), start=1):
        key = aliases.get(header)
        if header and key is None:
            message = _("Unknown column “%(name)s” (column %(n)s).") % {"name": raw[:60], "n": position}
            report.errors.append(RowError(1, raw[:60], message))
        elif key is not None and key in keys:
            report.errors.append(RowError(1, str(BY_KEY[key].label), _("The column appears twice.")))
        keys.append(key)
    for c in COLUMNS:
        if c.required and c.key not in keys:
            report.errors.append(RowError(1, str(c.label), _("The column is missing.")))
    return keys


@dataclass
class _Row:
    number: int
    school_class: SchoolClass
    values: dict[str, str]
    birth_date: dt.date | None
    gender: str


def _check_row(
    number: int,
    values: dict[str, str],
    classes: dict[str, SchoolClass],
    today: dt.date,
    genders: dict[str, str],
    errors: list[RowError],
) -> _Row | None:
    before = len(errors)

    def bad(key: str, message: str) -> None:
        errors.append(RowError(number, str(BY_KEY[key].label), message))

    for key, text in values.items():
        if len(text) > BY_KEY[key].max_length:
            bad(key, _("Too long: at most %(n)s characters.") % {"n": BY_KEY[key].max_length})
    for key in ("last_name", "first_name"):
        if not values.get(key):
            bad(key, _("This cell must not be empty."))
    school_class = classes.get(_class_key(values.get("class", "")))
    if not values.get("class"):
        bad("class", _("This cell must not be empty."))
    elif school_class is None:
        bad("class", _("No class “%(name)s” in this academic year.") % {"name": values["class"][:20]})
    birth_date = None
    if values.get("birth_date"):
        birth_date = _parse_date(values["birth_date"])
        if birth_date is None:
            bad("birth_date", _("Write the date as 31.12.2015 or 2015-12-31."))
        elif not (today.replace(year=today.year - 100) <= birth_date <= today.replace(year=today.year - 2)):
            bad("birth_date", _("The birth date looks wrong."))
    gender = _parse_gender(values.get("gender", ""), genders)
    if gender is None:
        bad("gender", _("Write “f” or “m” (ж/ч)."))
    for n in GUARDIANS:
        given = [values.get(f"guardian{n}_{k}") for k in ("last_name", "first_name", "patronymic", "phone", "email")]
        if any(given):
            for k in ("last_name", "first_name"):
                if not values.get(f"guardian{n}_{k}"):
                    bad(f"guardian{n}_{k}", _("The guardian needs a last name and a first name."))
        email = values.get(f"guardian{n}_email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                bad(f"guardian{n}_email", _("This is not an e-mail address."))
    if len(errors) > before or school_class is None:
        return None
    return _Row(number, school_class, values, birth_date, gender or "")


def _person_key(values: dict[str, str], prefix: str = "") -> tuple[str, ...]:
    return tuple(values.get(prefix + k, "").strip().lower() for k in ("last_name", "first_name", "patronymic"))


def check_rows(school: School, year: AcademicYear, table: Table) -> tuple[ImportReport, list[_Row]]:
    """Every problem of the file, row by row; the checked rows when there is none."""
    report = ImportReport(rows=len(table.rows))
    keys = _map_header(table, report)
    if report.errors:
        return report, []
    classes = {_class_key(c.name): c for c in SchoolClass.objects.filter(school=school, year=year)}
    today = timezone.localdate()
    genders = _gender_words()
    rows: list[_Row] = []
    for number, cells in table.rows:
        values = {k: (cells[i] if i < len(cells) else "").strip() for i, k in enumerate(keys) if k}
        row = _check_row(number, values, classes, today, genders, report.errors)
        if row is not None:
            rows.append(row)
    _check_duplicates(school, rows, report)
    return report, rows


def _check_duplicates(school: School, rows: list[_Row], report: ImportReport) -> None:
    """The same child twice in the file, a child already in the school, a personal-file number in use."""
    seen: dict[tuple[Any, ...], int] = {}
    numbers_seen: dict[str, int] = {}
    in_school = Student.objects.filter(school=school).values_list(
        "user__last_name", "user__first_name", "user__patronymic", "birth_date", "personal_file_number"
    )
    existing: set[tuple[Any, ...]] = set()
    used_numbers: set[str] = set()
    for last, first, patronymic, birth_date, file_number in in_school:  # one pass over the school's students
        existing.add((last.lower(), first.lower(), patronymic.lower(), birth_date))
        if file_number:
            used_numbers.add(file_number)
    for row in rows:
        key = (*_person_key(row.values), row.birth_date)
        if key in seen:
            report.errors.append(
                RowError(row.number, "", _("The same student as in row %(row)s.") % {"row": seen[key]})
            )
        seen.setdefault(key, row.number)
        if row.birth_date is not None and key in existing:
            report.errors.append(RowError(row.number, "", _("This student is already in the school.")))
        number = row.values.get("personal_file_number", "")
        if number:
            label = str(BY_KEY["personal_file_number"].label)
            if number in used_numbers:
                report.errors.append(RowError(row.number, label, _("This personal file number is already in use.")))
            elif number in numbers_seen:
                report.errors.append(
                    RowError(row.number, label, _("The same number as in row %(row)s.") % {"row": numbers_seen[number]})
                )
            numbers_seen.setdefault(number, row.number)


def _taken_usernames(bases: set[str]) -> set[str]:
    """Login names already in use that start with one of ``bases`` (a few queries, not one per person)."""
    taken: set[str] = set()
    ordered = sorted(bases)
    for i in range(0, len(ordered), 200):
        chunk = ordered[i : i + 200]
        condition = reduce(or_, (Q(username__startswith=b) for b in chunk))
        taken.update(get_user_model().objects.filter(condition).values_list("username", flat=True))
    return taken


class _Usernames:
    def __init__(self, people: list[tuple[str, str]]) -> None:
        self.taken = _taken_usernames({username_base(last, first)[:140] for last, first in people})

    def new(self, last_name: str, first_name: str) -> str:
        name = free_username(username_base(last_name, first_name)[:140], self.taken)
        self.taken.add(name)
        return name


def _new_user(usernames: _Usernames, values: dict[str, str], prefix: str, fields: tuple[str, ...]) -> User:
    data = {k: values.get(prefix + k, "") for k in fields}
    user = User(username=usernames.new(data["last_name"], data["first_name"]), **data)
    user.set_unusable_password()
    return user


@transaction.atomic
def _write(
    *, acting_user: User, school: School, start: dt.date, rows: list[_Row], file_name: str, report: ImportReport
) -> None:
    people = [(r.values["last_name"], r.values["first_name"]) for r in rows]
    people += [(r.values[f"guardian{n}_last_name"], r.values[f"guardian{n}_first_name"])
               for r in rows for n in GUARDIANS if r.values.get(f"guardian{n}_last_name")]  # fmt: skip
    usernames = _Usernames(people)
    student_users = [_new_user(usernames, r.values, "", ("last_name", "first_name", "patronymic")) for r in rows]
    # Guardians: the same person named for two children (siblings) is one account; a parent already in
    # the school with the same name and phone is linked, not duplicated.
    parents = (
        User.objects.filter(memberships__school=school, memberships__role=Role.PARENT)
        .exclude(phone="")
        .only("pk", "last_name", "first_name", "patronymic", "phone")
    )
    known: dict[tuple[str, ...], User] = {(*_person_key(vars(p)), p.phone): p for p in parents}
    new_guardians: list[User] = []
    wanted: list[tuple[int, User, str]] = []  # (row index, guardian, relation)
    for i, r in enumerate(rows):
        for n in GUARDIANS:
            prefix = f"guardian{n}_"
            if not r.values.get(prefix + "last_name"):
                continue
            key = (*_person_key(r.values, prefix), r.values.get(prefix + "phone", ""))
            guardian = known.get(key) if key[-1] else None
            if guardian is None:
                fields = ("last_name", "first_name", "patronymic", "phone", "email")
                guardian = _new_user(usernames, r.values, prefix, fields)
                new_guardians.append(guardian)
                if key[-1]:
                    known[key] = guardian
            elif guardian.pk is not None:  # a parent who was in the school before this file
                report.guardians_linked += 1
            wanted.append((i, guardian, r.values.get(prefix + "relation", "")))
    User.objects.bulk_create(student_users + new_guardians, batch_size=500)
    students = [
        Student(
            school=school,
            user=user,
            birth_date=r.birth_date,
            gender=r.gender,
            address=r.values.get("address", ""),
            phone=r.values.get("phone", ""),
            personal_file_number=r.values.get("personal_file_number", ""),
        )
        for user, r in zip(student_users, rows, strict=True)
    ]
    Student.objects.bulk_create(students, batch_size=500)
    Membership.objects.bulk_create(
        [Membership(school=school, user=u, role=Role.STUDENT) for u in student_users]
        + [Membership(school=school, user=u, role=Role.PARENT) for u in new_guardians],
        batch_size=500,
    )
    Enrolment.objects.bulk_create(
        [
            Enrolment(school=school, student=s, school_class=r.school_class, start=start)
            for s, r in zip(students, rows, strict=True)
        ],
        batch_size=500,
    )
    for new_student, row in zip(students, rows, strict=True):
        announce_enrolment(
            "added", school_id=school.pk, student_id=new_student.pk, class_id=row.school_class.pk, on=start
        )
    links = {(students[i].pk, g.pk): (students[i], g, rel) for i, g, rel in wanted}
    GuardianLink.objects.bulk_create(
        [GuardianLink(school=school, student=s, guardian=g, relation=rel.strip()) for s, g, rel in links.values()],
        batch_size=500,
    )
    report.created = len(students)
    report.guardians_created = len(new_guardians)
    for r in rows:
        report.per_class[r.school_class.name] = report.per_class.get(r.school_class.name, 0) + 1
    log_action(
        "roster.students.imported",
        actor=acting_user,
        school=school,
        data={
            "file": file_name[:200],
            "start": start.isoformat(),
            "students": [s.pk for s in students],
            "guardians_created": [g.pk for g in new_guardians],
            "guardians_linked": report.guardians_linked,
            "per_class": report.per_class,
        },
    )


def import_students(
    *,
    acting_user: User,
    school: School,
    year: AcademicYear,
    file_name: str,
    data: bytes,
    start: dt.date | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Check the file and, unless ``dry_run`` or a row is wrong, create every student it lists (R7.1)."""
    if year.school_id != school.pk:
        raise DomainError(_("Unknown academic year."), field="year")
    start = start or min(max(timezone.localdate(), year.start), year.end)
    if not (year.start <= start <= year.end):
        raise DomainError(_("The first day must lie inside the class's academic year."), field="start")
    try:
        table = read_table(file_name, data, max_bytes=MAX_UPLOAD_BYTES)
    except TableError as exc:  # not a readable table within the caps (core/tables.py): nothing to check
        return ImportReport(errors=[RowError(exc.row, exc.column, str(exc.message))])
    report, rows = check_rows(school, year, table)
    if not rows and not report.errors:
        report.errors.append(RowError(0, "", _("The file has no rows under the header.")))
    if report.ok and not dry_run:
        _write(acting_user=acting_user, school=school, start=start, rows=rows, file_name=file_name, report=report)
    return report
